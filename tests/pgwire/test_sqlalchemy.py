"""SQLAlchemy 2 (postgresql+psycopg, the stock dialect) against `immusql serve`.

What an application does with SQLAlchemy, end to end: the dialect's first-connect block,
`metadata.create_all` of a realistic model, ORM sessions (INSERT .. RETURNING, batched
"insertmanyvalues", joins, updates, deletes, relationship loading, rollbacks and
savepoints), Inspector reflection, `Table(autoload_with=)` and `metadata.drop_all`.
Reflection is also compared with a real PostgreSQL 15 given the same model.

The statements SQLAlchemy sends are in ../shared/research/sql-pgwire.md section 3.4.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from psycopg import errors as pgerrors
from sa_support import immusql_url, postgres_database, postgres_reference, reflect_schema
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    delete,
    event,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    selectinload,
)


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # SERIAL
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str] = mapped_column(String(120), nullable=False)
    karma: Mapped[int | None] = mapped_column(BigInteger, server_default="0")
    bio: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                           server_default=func.now())
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    born: Mapped[dt.date | None] = mapped_column(Date)
    prefs = mapped_column(JSON)
    books: Mapped[list["Book"]] = relationship(back_populates="author", order_by="Book.id",
                                               passive_deletes=True)
    __table_args__ = (UniqueConstraint("email", name="uq_authors_email"),)


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id", ondelete="CASCADE"),
                                           nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    published: Mapped[dt.date | None] = mapped_column(Date)
    tags = mapped_column(pg.JSONB)
    note: Mapped[str | None] = mapped_column(String(50), server_default="n/a")
    author: Mapped[Author] = relationship(back_populates="books")
    __table_args__ = (
        CheckConstraint("price >= 0", name="ck_books_price_nonneg"),
        Index("ix_books_author_title", "author_id", "title"),
        Index("ix_books_title", "title", unique=True),
    )


CHEAP_BOOKS_VIEW = "CREATE VIEW cheap_books AS SELECT id, title, price FROM books WHERE price < 10"


@pytest.fixture
def engine(server, dbname):
    eng = sa.create_engine(immusql_url(server, dbname))
    yield eng
    eng.dispose()


@pytest.fixture
def statements(engine):
    """The SQL text of every statement the engine sends, in order (after first connect)."""
    sent: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, stmt, params, context, many: sent.append(stmt))
    return sent


def create_schema(engine) -> None:
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text(CHEAP_BOOKS_VIEW))


# --------------------------------------------------------------------------- connect --

def test_first_connect_block(engine, tmp_path):
    """The dialect's initialize(): version(), current_schema(), SHOW transaction isolation
    level, SHOW standard_conforming_strings and the hstore probe inside a SAVEPOINT
    (to_regtype('hstore') is NULL: no native hstore). Each one failing makes connect fail;
    libpq's trace of the connection shows they were all sent (and answered)."""
    from psycopg.pq import Trace
    trace = open(tmp_path / "trace", "w+")

    @event.listens_for(engine, "first_connect", insert=True)  # before the dialect's own
    def start_trace(dbapi_conn, record):
        dbapi_conn.pgconn.trace(trace.fileno())
        dbapi_conn.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)

    with engine.connect() as conn:
        conn.connection.driver_connection.pgconn.untrace()
        trace.seek(0)
        lines = trace.read().splitlines()
        trace.close()
        sent = [line.split("\t", 3)[2:] for line in lines if line.startswith("F\t")]
        assert [m[1].strip() if m[0] == "Query" else m[0] for m in sent] == [
            '"BEGIN"', '"select pg_catalog.version()"', '"select current_schema()"',
            '"show transaction isolation level"', '"show standard_conforming_strings"',
            '"SAVEPOINT "_pg3_1""', "Parse", "Bind", "Describe", "Execute", "Sync",
            '"RELEASE "_pg3_1""', '"ROLLBACK"']
        assert "'hstore'" in sent[7][1]  # the to_regtype($1) parameter
        assert conn.scalar(text("select 1")) == 1
        d = engine.dialect
        assert d.server_version_info[:1] == (15,)
        assert d.default_schema_name == "public"
        # immusql transactions are snapshot isolation, which PostgreSQL calls REPEATABLE READ
        assert d.default_isolation_level == "REPEATABLE READ"
        assert conn.get_isolation_level() == "REPEATABLE READ"
        assert d.use_native_hstore and d._has_native_hstore is False
        assert conn.exec_driver_sql("show standard_conforming_strings").scalar() == "on"
        assert "PostgreSQL 15" in conn.scalar(text("select pg_catalog.version()"))
        # the probe psycopg's TypeInfo.fetch sends, for a type that exists
        from psycopg.types import TypeInfo
        raw = conn.connection.driver_connection
        info = TypeInfo.fetch(raw, "int4")
        assert (info.name, info.oid, info.array_oid) == ("int4", 23, 1007)
        assert TypeInfo.fetch(raw, "hstore") is None
    # AUTOCOMMIT goes through psycopg's own autocommit switch
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("CREATE TABLE t_autocommit (a int)"))
    assert inspect(engine).has_table("t_autocommit")


# ------------------------------------------------------------------------------- ORM --

def test_create_all_and_orm_round_trip(engine, statements):
    Base.metadata.create_all(engine)
    assert set(inspect(engine).get_table_names()) == {"authors", "books"}
    create_all_sql = [s for s in statements if s.startswith("\nCREATE") or
                      s.startswith("CREATE")]
    assert any("id SERIAL NOT NULL" in s and "CONSTRAINT uq_authors_email UNIQUE (email)" in s
               for s in create_all_sql)
    assert any(s.startswith("CREATE UNIQUE INDEX ix_books_title") for s in create_all_sql)

    with Session(engine) as session:
        ada = Author(name="Ada", email="ada@example.com", born=dt.date(1815, 12, 10),
                     prefs={"theme": "dark", "langs": ["en", "fr"]})
        session.add(ada)
        session.flush()  # INSERT ... RETURNING authors.id
        assert ada.id == 1
        grace = Author(name="Grace", email="grace@example.com", bio="COBOL")
        linus = Author(name="Linus", email="linus@example.com")
        session.add_all([grace, linus])
        statements.clear()
        books = [Book(author=[ada, grace, linus][i % 3], title=f"Book {i:02d}",
                      price=Decimal(i) + Decimal("0.99"), published=dt.date(2000 + i, 1, 1),
                      tags={"genre": "sf" if i % 2 else "essay", "n": i})
                 for i in range(12)]
        session.add_all(books)
        session.commit()
        # insertmanyvalues: each table's rows go as one multi-row INSERT .. RETURNING
        inserts = [s for s in statements if s.startswith("INSERT INTO")]
        assert len(inserts) == 2, inserts
        assert all("RETURNING" in s for s in inserts)
        # RETURNING rows matched to their objects in parameter order
        assert [b.id for b in books] == list(range(1, 13))
        got = dict(session.execute(select(Book.id, Book.title)).all())
        assert all(got[b.id] == b.title for b in books)

        # server defaults come back on refresh
        session.refresh(ada)
        assert ada.karma == 0 and ada.active is True
        assert isinstance(ada.created_at, dt.datetime) and ada.created_at.tzinfo is not None
        assert ada.prefs == {"theme": "dark", "langs": ["en", "fr"]}
        assert books[0].note == "n/a"

        # joins, aggregates, filters, ordering, limits
        rows = session.execute(
            select(Author.name, func.count(Book.id), func.sum(Book.price))
            .join(Author.books).where(Book.price > 2).group_by(Author.name)
            .order_by(func.sum(Book.price).desc()).limit(2)).all()
        assert rows == [("Linus", 4, Decimal("29.96")), ("Grace", 3, Decimal("23.97"))]
        titles = session.scalars(
            select(Book.title).join(Book.author).where(Author.email.like("%grace%"))
            .where(Book.published >= dt.date(2004, 1, 1)).order_by(Book.title.desc())
            .offset(1).limit(2)).all()
        assert titles == ["Book 07", "Book 04"]
        sf = session.scalars(select(Book.id).where(Book.tags["genre"].astext == "sf")
                             .order_by(Book.id)).all()
        assert sf == [2, 4, 6, 8, 10, 12]
        assert session.scalar(select(func.count()).select_from(Book)
                              .where(Book.tags.contains({"genre": "essay"}))) == 6
        assert session.scalars(select(Author.name).where(Author.books.any(Book.price > 11))
                               .order_by(Author.name)).all() == ["Linus"]

        # updates: unit of work, bulk UPDATE .. WHERE, UPDATE .. RETURNING
        books[0].title = "Book 00 (2nd ed.)"
        session.commit()
        assert session.scalar(select(Book.title).where(Book.id == 1)) == "Book 00 (2nd ed.)"
        n = session.execute(update(Book).where(Book.price < 3)
                            .values(price=Book.price * 2)).rowcount
        assert n == 3
        ret = session.execute(update(Author).where(Author.name == "Linus")
                              .values(karma=Author.karma + 10).returning(Author.karma)).all()
        assert ret == [(10,)]
        session.commit()
        assert session.scalars(select(Book.price).where(Book.id <= 3).order_by(Book.id)
                               ).all() == [Decimal("1.98"), Decimal("3.98"), Decimal("5.98")]

        # deletes: one object, bulk DELETE, ON DELETE CASCADE through the foreign key
        session.delete(books[11])
        session.commit()
        session.execute(delete(Book).where(Book.title.in_(["Book 09", "Book 10"])))
        session.commit()
        assert session.scalar(select(func.count(Book.id))) == 9
        session.delete(linus)
        session.commit()
        assert session.scalar(select(func.count(Book.id))) == 6
        assert session.scalars(select(Author.name).order_by(Author.id)).all() == [
            "Ada", "Grace"]


def test_relationship_loading(engine, statements):
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Author(name=f"A{i}", email=f"a{i}@x", books=[
            Book(title=f"A{i}-B{j}", price=Decimal(j)) for j in range(i)]) for i in range(4)])
        session.commit()
    with Session(engine) as session:
        statements.clear()
        authors = session.scalars(select(Author).options(selectinload(Author.books))
                                  .order_by(Author.id)).all()
        assert len(statements) == 2  # the authors, then every book IN (their ids)
        assert " IN (" in statements[1]
        assert [[b.title for b in a.books] for a in authors] == [
            [], ["A1-B0"], ["A2-B0", "A2-B1"], ["A3-B0", "A3-B1", "A3-B2"]]
        assert len(statements) == 2  # loaded: no lazy loads
        book = session.scalars(select(Book).where(Book.title == "A3-B2")).one()
        assert book.author.name == "A3"  # a lazy load through the many-to-one
        assert len(statements) == 3


def test_rollback_savepoints_and_constraint_errors(engine):
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Author(name="Ada", email="ada@example.com"))
        session.commit()

        session.add(Author(name="Tmp", email="tmp@example.com"))
        session.flush()
        assert session.scalar(select(func.count(Author.id))) == 2
        session.rollback()
        assert session.scalar(select(func.count(Author.id))) == 1

        session.add(Author(name="Dup", email="ada@example.com"))
        with pytest.raises(IntegrityError) as e:
            session.commit()
        assert isinstance(e.value.orig, pgerrors.UniqueViolation)
        session.rollback()

        ada = session.scalars(select(Author)).one()
        session.add(Book(author=ada, title="Negative", price=Decimal("-1")))
        with pytest.raises(IntegrityError) as e:
            session.flush()
        assert isinstance(e.value.orig, pgerrors.CheckViolation)
        session.rollback()

        session.add(Book(author_id=999, title="Orphan", price=Decimal(1)))
        with pytest.raises(IntegrityError) as e:
            session.flush()
        assert isinstance(e.value.orig, pgerrors.ForeignKeyViolation)
        session.rollback()

        # SAVEPOINT / ROLLBACK TO SAVEPOINT keeps the outer transaction's work
        ada = session.scalars(select(Author)).one()
        session.add(Book(author=ada, title="Kept", price=Decimal(1)))
        nested = session.begin_nested()
        session.add(Book(author=ada, title="Dropped", price=Decimal(2)))
        session.flush()
        nested.rollback()
        with session.begin_nested():
            session.add(Book(author=ada, title="Also kept", price=Decimal(3)))
        session.commit()
        assert session.scalars(select(Book.title).order_by(Book.id)).all() == [
            "Kept", "Also kept"]


# ------------------------------------------------------------------------ reflection --

def test_inspector_reflection(engine):
    create_schema(engine)
    insp = inspect(engine)
    assert sorted(insp.get_table_names()) == ["authors", "books"]
    assert insp.get_view_names() == ["cheap_books"]
    assert insp.has_table("books") and not insp.has_table("nope")
    assert insp.has_index("books", "ix_books_author_title")
    assert sorted(insp.get_sequence_names()) == ["authors_id_seq", "books_id_seq"]

    cols = {c["name"]: c for c in insp.get_columns("authors")}
    assert list(cols) == ["id", "name", "email", "karma", "bio", "created_at", "active",
                          "born", "prefs"]
    expected = {
        "id": (pg.INTEGER, False, "nextval('authors_id_seq'::regclass)", True),
        "name": (pg.VARCHAR, False, None, False),
        "email": (pg.VARCHAR, False, None, False),
        "karma": (pg.BIGINT, True, "'0'::bigint", False),
        "bio": (pg.TEXT, True, None, False),
        "created_at": (pg.TIMESTAMP, True, "now()", False),
        "active": (pg.BOOLEAN, False, "true", False),
        "born": (pg.DATE, True, None, False),
        "prefs": (pg.JSON, True, None, False),
    }
    for name, (typ, nullable, default, autoincrement) in expected.items():
        c = cols[name]
        assert type(c["type"]) is typ, name
        assert (c["nullable"], c["default"], c["autoincrement"]) == (
            nullable, default, autoincrement), name
    assert cols["name"]["type"].length == 200 and cols["email"]["type"].length == 120
    assert cols["created_at"]["type"].timezone is True

    bcols = {c["name"]: c for c in insp.get_columns("books")}
    assert isinstance(bcols["price"]["type"], pg.NUMERIC)
    assert (bcols["price"]["type"].precision, bcols["price"]["type"].scale) == (10, 2)
    assert type(bcols["tags"]["type"]) is pg.JSONB
    assert bcols["note"]["default"] == "'n/a'::character varying"
    assert repr(bcols["title"]["type"]) == "VARCHAR(length=200)"

    assert insp.get_pk_constraint("books") == {
        "constrained_columns": ["id"], "name": "books_pkey", "comment": None,
        "dialect_options": {"postgresql_include": []}}
    (fk,) = insp.get_foreign_keys("books")
    assert (fk["name"], fk["constrained_columns"], fk["referred_table"],
            fk["referred_columns"], fk["referred_schema"]) == (
        "books_author_id_fkey", ["author_id"], "authors", ["id"], None)
    assert fk["options"] == {"ondelete": "CASCADE"}
    assert insp.get_foreign_keys("authors") == []

    indexes = {i["name"]: (i["column_names"], i["unique"]) for i in insp.get_indexes("books")}
    assert indexes == {"ix_books_author_title": (["author_id", "title"], False),
                       "ix_books_title": (["title"], True)}
    # the UNIQUE constraint's index is reported as a unique constraint, not as an index
    assert [(i["name"], i.get("duplicates_constraint")) for i in insp.get_indexes("authors")
            ] == [("uq_authors_email", "uq_authors_email")]
    assert [(u["name"], u["column_names"]) for u in insp.get_unique_constraints("authors")
            ] == [("uq_authors_email", ["email"])]
    assert insp.get_unique_constraints("books") == []
    assert [(c["name"], c["sqltext"]) for c in insp.get_check_constraints("books")] == [
        ("ck_books_price_nonneg", "price >= 0::numeric")]

    view_cols = [(c["name"], repr(c["type"])) for c in insp.get_columns("cheap_books")]
    assert view_cols == [("id", "INTEGER()"), ("title", "VARCHAR(length=200)"),
                         ("price", "NUMERIC(precision=10, scale=2)")]
    definition = insp.get_view_definition("cheap_books")
    assert "FROM books" in definition and "price < " in definition


def test_autoload_table_and_reuse(engine):
    create_schema(engine)
    md = sa.MetaData()
    books = sa.Table("books", md, autoload_with=engine)
    assert "authors" in md.tables  # pulled in through the foreign key
    authors = md.tables["authors"]
    assert [c.name for c in books.primary_key] == ["id"]
    assert books.c.id.autoincrement is True
    assert isinstance(books.c.price.type, pg.NUMERIC) and books.c.price.type.scale == 2
    assert [(fk.parent.name, fk.column.table.name, fk.column.name, fk.ondelete)
            for fk in books.foreign_keys] == [("author_id", "authors", "id", "CASCADE")]
    assert sorted((i.name, tuple(c.name for c in i.columns), i.unique) for i in books.indexes) \
        == [("ix_books_author_title", ("author_id", "title"), False),
            ("ix_books_title", ("title",), True)]
    checks = [c for c in books.constraints if isinstance(c, sa.CheckConstraint)]
    assert [(c.name, str(c.sqltext)) for c in checks] == [
        ("ck_books_price_nonneg", "price >= 0::numeric")]
    uniques = [c for c in authors.constraints if isinstance(c, sa.UniqueConstraint)]
    assert [(c.name, [col.name for col in c.columns]) for c in uniques] == [
        ("uq_authors_email", ["email"])]
    assert str(authors.c.created_at.server_default.arg) == "now()"

    # the reflected tables are usable: defaults (serial, now(), true) fill in server-side
    with engine.begin() as conn:
        aid = conn.execute(authors.insert().values(name="R", email="r@x")
                           .returning(authors.c.id)).scalar_one()
        conn.execute(books.insert(), [
            {"author_id": aid, "title": f"T{i}", "price": Decimal("9.50") + i}
            for i in range(3)])
        rows = conn.execute(select(books.c.title, books.c.note, authors.c.active)
                            .join(authors).order_by(books.c.id)).all()
    assert rows == [("T0", "n/a", True), ("T1", "n/a", True), ("T2", "n/a", True)]

    md2 = sa.MetaData()
    md2.reflect(engine, views=True)
    assert sorted(md2.tables) == ["authors", "books", "cheap_books"]
    order = [t.name for t in md2.sorted_tables]
    assert order.index("authors") < order.index("books")  # dependency order from the FK
    with engine.connect() as conn:
        assert conn.execute(select(md2.tables["cheap_books"].c.title)).scalars().all() == ["T0"]


def test_drop_all(engine):
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP VIEW cheap_books"))
    Base.metadata.drop_all(engine)
    insp = inspect(engine)
    assert insp.get_table_names() == [] and insp.get_view_names() == []
    assert insp.get_sequence_names() == []  # SERIAL sequences go with their tables
    Base.metadata.create_all(engine)  # and the names are free again
    assert sorted(inspect(engine).get_table_names()) == ["authors", "books"]


# ------------------------------------------------------- differential: PostgreSQL 15 --

@pytest.fixture(scope="module")
def postgres():
    with postgres_reference() as pg_server:
        yield pg_server


def test_reflection_matches_postgresql(engine, postgres):
    pg_engine = sa.create_engine(postgres_database(postgres))
    try:
        create_schema(pg_engine)
        expected = reflect_schema(pg_engine)
    finally:
        pg_engine.dispose()
    create_schema(engine)
    assert reflect_schema(engine) == expected


def test_comments_are_reflected(engine):
    md = sa.MetaData()
    sa.Table("documented", md, sa.Column("id", Integer, primary_key=True, comment="the key"),
             comment="a documented table")
    md.create_all(engine)  # CREATE TABLE, then COMMENT ON TABLE / COMMENT ON COLUMN
    insp = inspect(engine)
    assert insp.get_table_comment("documented") == {"text": "a documented table"}
    assert [c["comment"] for c in insp.get_columns("documented")] == ["the key"]
    with engine.begin() as conn:  # what Alembic's alter_column(comment=) emits
        conn.execute(sa.text("COMMENT ON COLUMN documented.id IS NULL"))
        conn.execute(sa.text("COMMENT ON CONSTRAINT documented_pkey ON documented IS 'pk'"))
    insp = inspect(engine)
    assert [c["comment"] for c in insp.get_columns("documented")] == [None]
    assert insp.get_pk_constraint("documented")["comment"] == "pk"


# ---------------------------------------------------------------------------- schemas --

def _schema_model(schema: str) -> sa.MetaData:
    md = sa.MetaData(schema=schema)
    sa.Table("vendors", md, sa.Column("id", Integer, primary_key=True),
             sa.Column("name", String(100), nullable=False, unique=True))
    sa.Table("parts", md, sa.Column("id", Integer, primary_key=True),
             sa.Column("vendor_id", ForeignKey(f"{schema}.vendors.id", ondelete="CASCADE")),
             sa.Column("price", Numeric(10, 2), CheckConstraint("price >= 0")),
             Index("ix_parts_vendor", "vendor_id"))
    return md


def _create_in_schema(engine, schema: str) -> sa.MetaData:
    with engine.begin() as conn:
        conn.execute(sa.schema.CreateSchema(schema))
        conn.execute(text("CREATE TABLE vendors (other text)"))  # public.vendors
    md = _schema_model(schema)
    md.create_all(engine)
    return md


def test_tables_in_a_schema(engine, postgres):
    pg_engine = sa.create_engine(postgres_database(postgres))
    try:
        _create_in_schema(pg_engine, "inventory")
        expected = reflect_schema(pg_engine, "inventory")
        expected_public = reflect_schema(pg_engine)
    finally:
        pg_engine.dispose()
    md = _create_in_schema(engine, "inventory")
    assert "inventory" in inspect(engine).get_schema_names()
    assert expected["tables"] == ["parts", "vendors"] and expected["parts"]["fks"]
    assert reflect_schema(engine, "inventory") == expected
    assert reflect_schema(engine) == expected_public  # public.vendors is another table
    vendors, parts = md.tables["inventory.vendors"], md.tables["inventory.parts"]
    with engine.begin() as conn:
        vid = conn.execute(vendors.insert().returning(vendors.c.id), {"name": "acme"}).scalar()
        conn.execute(parts.insert(), [{"vendor_id": vid, "price": Decimal("1.50")}])
    loaded = sa.Table("parts", sa.MetaData(), schema="inventory", autoload_with=engine)
    assert [c.name for c in loaded.columns] == ["id", "vendor_id", "price"]
    with engine.connect() as conn:
        rows = conn.execute(select(vendors.c.name, loaded.c.price)
                            .join(loaded, loaded.c.vendor_id == vendors.c.id)).all()
    assert rows == [("acme", Decimal("1.50"))]
    md.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.schema.DropSchema("inventory"))
    assert "inventory" not in inspect(engine).get_schema_names()


# ------------------------------------------------------------------------------ gaps --

def test_native_enum(engine):
    """sa.Enum's default on PostgreSQL: CREATE TYPE ... AS ENUM, values in and out as
    their labels, ordered by declaration, reflected from pg_type / pg_enum, dropped
    with the table by drop_all."""
    md = sa.MetaData()
    moods = sa.Table("moods", md, sa.Column("id", Integer, primary_key=True),
                     sa.Column("m", sa.Enum("sad", "ok", "happy", name="mood"),
                               nullable=False, index=True))
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(moods.insert(), [{"id": 1, "m": "happy"}, {"id": 2, "m": "sad"},
                                      {"id": 3, "m": "ok"}])
        assert conn.execute(select(moods.c.m).order_by(moods.c.m)).scalars().all() == \
            ["sad", "ok", "happy"]
        assert conn.execute(select(moods.c.id).where(moods.c.m > "sad")
                            .order_by(moods.c.id)).scalars().all() == [1, 3]
        assert conn.execute(text("SELECT enum_range(NULL::mood)::text")).scalar() == \
            "{sad,ok,happy}"
        with pytest.raises(sa.exc.DataError):
            with conn.begin_nested():
                conn.execute(moods.insert(), {"id": 4, "m": "angry"})
    insp = inspect(engine)
    assert insp.get_enums() == [{"name": "mood", "schema": "public", "visible": True,
                                 "labels": ["sad", "ok", "happy"]}]
    col = {c["name"]: c for c in insp.get_columns("moods")}["m"]
    assert isinstance(col["type"], sa.Enum) and col["type"].enums == ["sad", "ok", "happy"]
    reflected = sa.Table("moods", sa.MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        assert conn.execute(select(reflected.c.m).where(reflected.c.id == 1)).scalar() == \
            "happy"
    md.drop_all(engine)
    assert inspect(engine).get_enums() == []
