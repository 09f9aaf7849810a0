"""DML (INSERT, UPDATE, DELETE, TRUNCATE), DDL (CREATE/ALTER/DROP TABLE, INDEX, VIEW,
SEQUENCE, SCHEMA) and COMMENT ON statements."""

from __future__ import annotations

from dataclasses import replace

from .. import errors
from .ast import (
    AlterAction,
    AlterSchema,
    AlterTable,
    AlterType,
    ColumnConstraint,
    ColumnDef,
    ColumnRef,
    Comment,
    CreateEnum,
    CreateIndex,
    CreateSchema,
    CreateSequence,
    CreateTable,
    CreateView,
    Delete,
    Drop,
    IndexColumn,
    Insert,
    Literal,
    Name,
    OnConflict,
    RowExpr,
    TableConstraint,
    TableLike,
    Truncate,
    Update,
)
from .common import TokenError, name_of, pos_of

# what INCLUDING ALL turns on in CREATE TABLE (LIKE ...), in PostgreSQL's order
LIKE_OPTIONS = ("comments", "compression", "constraints", "defaults", "generated", "identity",
                "indexes", "statistics", "storage")

_ATTRIBUTES = {"deferrable": {"deferrable": True}, "not_deferrable": {"deferrable": False},
               "initially_deferred": {"initially_deferred": True, "deferrable": True},
               "initially_immediate": {"initially_deferred": False}, "not_valid": {}}


class _Attr:
    """A constraint attribute (DEFERRABLE, INITIALLY DEFERRED, ...) or a column COLLATE,
    which apply to what precedes them."""

    __slots__ = ("kind", "value")

    def __init__(self, kind, value=None):
        self.kind, self.value = kind, value


def _with_attributes(constraint, attrs):
    changes = {}
    for attr in attrs:
        changes.update(_ATTRIBUTES[attr.kind])
    return replace(constraint, **changes) if changes else constraint


def _role_name(token) -> str | None:
    """A role_spec as written: CURRENT_USER / CURRENT_ROLE / SESSION_USER stay keywords
    (upper case, resolved when the statement runs), other names as they are."""
    if token is None:
        return None
    if getattr(token, "type", None) in ("CURRENT_USER", "CURRENT_ROLE", "SESSION_USER"):
        return token.type
    return name_of(token)


def _statement_pos(with_, token) -> int:
    return with_.pos if with_ is not None else token.start_pos


class DmlRules:
    """Transformer callbacks for INSERT, UPDATE, DELETE and TRUNCATE."""

    def insert_stmt(self, c):
        with_, tok, rel, alias, rest, on_conflict, returning = c
        columns, source, default_values = rest[:3]
        return Insert(rel.name, columns, source, default_values, on_conflict,
                      tuple(returning or ()), name_of(alias) if alias is not None else None,
                      with_.ctes if with_ else (), recursive=bool(with_ and with_.recursive),
                      pos=_statement_pos(with_, tok),
                      overriding=rest[3] if len(rest) > 3 else None)

    def insert_query(self, c):
        return (), c[0], False

    def insert_cols_query(self, c):
        return c[0], c[1], False

    def insert_overriding_query(self, c):
        return (), c[1], False, c[0]

    def insert_cols_overriding_query(self, c):
        return c[0], c[2], False, c[1]

    def overriding_system(self, c):
        return "system"

    def overriding_user(self, c):
        return "user"

    def insert_default(self, c):
        return (), None, True

    def conflict_nothing(self, c):
        columns, constraint, where = c[0] or ((), None, None)
        return OnConflict(columns, constraint, "nothing", target_where=where)

    def conflict_update(self, c):
        target, assignments, where = c
        columns, constraint, target_where = target or ((), None, None)
        flat = []
        for names, expr in assignments:
            if len(names) == 1:
                flat.append((names[0], expr))
            elif expr.__class__ is RowExpr and len(expr.items) == len(names):
                flat.extend(zip(names, expr.items))
            else:
                raise TokenError(pos_of(expr), message="ON CONFLICT DO UPDATE SET (a, b) = "
                                 "(...) needs a row of the same length",
                                 error_class=errors.FeatureNotSupported)
        return OnConflict(columns, constraint, "update", tuple(flat), where,
                          target_where=target_where)

    def conflict_columns(self, c):
        return c[0], None, c[1]

    def conflict_constraint(self, c):
        return (), name_of(c[0]), None

    def update_stmt(self, c):
        with_, tok, rel, alias, assignments, from_, where, returning = c
        return Update(rel.name, tuple(assignments), name_of(alias) if alias is not None else None,
                      tuple(from_ or ()), where, tuple(returning or ()),
                      with_.ctes if with_ else (), recursive=bool(with_ and with_.recursive),
                      pos=_statement_pos(with_, tok))

    def set_clause_list(self, c):
        return c

    def set_single(self, c):
        return (name_of(c[0]),), c[1]

    def set_subscript(self, c):  # col[i] = v: the whole column gets the changed array
        from .ast import ArrayAssign, ColumnRef
        name = name_of(c[0])
        return (name,), ArrayAssign(ColumnRef((name,), c[0].start_pos), c[1], c[2],
                                    c[0].start_pos)

    def set_multi(self, c):
        return c[0], c[1]

    def delete_stmt(self, c):
        with_, tok, rel, alias, using, where, returning = c
        return Delete(rel.name, name_of(alias) if alias is not None else None,
                      tuple(using or ()), where, tuple(returning or ()),
                      with_.ctes if with_ else (), recursive=bool(with_ and with_.recursive),
                      pos=_statement_pos(with_, tok))

    def truncate_stmt(self, c):
        tok, restart, cascade = c[0], c[-2], c[-1]
        return Truncate(tuple(rel.name for rel in c[1:-2]), bool(restart), bool(cascade),
                        pos=tok.start_pos)

    def restart_identity(self, c):
        return True

    def continue_identity(self, c):
        return False

    def cascade_behavior(self, c):
        return True

    def restrict_behavior(self, c):
        return False


class DdlRules:
    """Transformer callbacks for CREATE, ALTER and DROP."""

    # --- CREATE TABLE
    def create_table_stmt(self, c):
        tok, temporary, if_not_exists, rel, body = c
        common = dict(name=rel.name, if_not_exists=bool(if_not_exists),
                      temporary=bool(temporary), pos=tok.start_pos)
        if body[0] == "columns":
            _, elements, options = body
            likes, n = [], 0
            for e in elements:
                if e.__class__ is TableLike:
                    likes.append((n, e))
                n += e.__class__ is ColumnDef
            return CreateTable(
                columns=tuple(e for e in elements if e.__class__ is ColumnDef),
                constraints=tuple(e for e in elements if e.__class__ is TableConstraint),
                options=options or (), likes=tuple(likes), **common)
        _, names, options, query, with_data = body
        return CreateTable(columns=(), as_query=query, options=options or (),
                           as_columns=tuple(names or ()), with_data=with_data is not False,
                           **common)

    def temporary(self, c):
        return True

    def unlogged(self, c):
        return False

    def table_like(self, c):
        rel, options = c[1], c[2:]  # c[0]: the LIKE token
        on: list[str] = []
        for including, what in options:
            words = LIKE_OPTIONS if what == "all" else (what,)
            on = [w for w in on if w not in words] + (list(words) if including else [])
        return TableLike(rel.name, tuple(w for w in LIKE_OPTIONS if w in on), pos=rel.pos)

    def like_including(self, c):
        return True, c[-1]

    def like_excluding(self, c):
        return False, c[-1]

    def like_what(self, c):
        return str(c[0]).lower()

    def table_columns(self, c):
        return "columns", c[:-1], c[-1]

    def table_as(self, c):
        return ("as", *c)

    def with_data(self, c):
        return True

    def with_no_data(self, c):
        return False

    def with_options(self, c):
        return tuple(c)

    def reloption(self, c):
        (name, pos), value = c
        return name, value if value is not None else Literal(True, "boolean", pos=pos)

    def reloption_name(self, c):
        return ".".join(name_of(t) for t in c), c[0].start_pos

    def column_def(self, c):
        tok, typ, quals = c[0], c[1], c[2:]
        constraints, collation = [], None
        for q in quals:
            if q.__class__ is ColumnConstraint:
                constraints.append(q)
            elif q.kind == "collate":
                collation = q.value
            elif constraints:
                constraints[-1] = _with_attributes(constraints[-1], (q,))
        return ColumnDef(name_of(tok), typ, tuple(constraints), collation)

    def named_col_constraint(self, c):
        return replace(c[1], name=name_of(c[0]))

    def col_collate(self, c):
        return _Attr("collate", c[0])

    def cc_not_null(self, c):
        return ColumnConstraint("not_null")

    def cc_null(self, c):
        return ColumnConstraint("null")

    def cc_unique(self, c):
        return ColumnConstraint("unique", nulls_not_distinct=bool(c[0]))

    def nulls_distinct(self, c):
        return False

    def nulls_not_distinct(self, c):
        return True

    def cc_primary_key(self, c):
        return ColumnConstraint("primary_key")

    def cc_check(self, c):
        return ColumnConstraint("check", expr=c[0])

    def cc_default(self, c):
        return ColumnConstraint("default", expr=c[0])

    def cc_identity_always(self, c):
        return ColumnConstraint("identity", always=True, sequence_options=tuple(c))

    def cc_identity_by_default(self, c):
        return ColumnConstraint("identity", always=False, sequence_options=tuple(c))

    def cc_generated(self, c):
        return ColumnConstraint("generated", expr=c[0], always=True)

    def cc_references(self, c):
        rel, columns, actions = c[0], c[1], dict(c[2:])
        return ColumnConstraint("references", ref_table=rel.name, ref_columns=tuple(columns or ()),
                                on_delete=actions.get("delete"), on_update=actions.get("update"))

    def attr_deferrable(self, c):
        return _Attr("deferrable")

    def attr_not_deferrable(self, c):
        return _Attr("not_deferrable")

    def attr_initially_deferred(self, c):
        return _Attr("initially_deferred")

    def attr_initially_immediate(self, c):
        return _Attr("initially_immediate")

    def attr_not_valid(self, c):
        return _Attr("not_valid")

    def on_delete(self, c):
        return "delete", c[0]

    def on_update(self, c):
        return "update", c[0]

    def no_action(self, c):
        return "no action"

    def restrict(self, c):
        return "restrict"

    def cascade(self, c):
        return "cascade"

    def set_null(self, c):
        return "set null"

    def set_default(self, c):
        return "set default"

    def table_constraint(self, c):
        name, constraint, attrs = c[0], c[1], c[2:]
        if name is not None:
            constraint = replace(constraint, name=name_of(name))
        return _with_attributes(constraint, attrs)

    def tc_check(self, c):
        return TableConstraint("check", expr=c[0])

    def tc_unique(self, c):
        return TableConstraint("unique", columns=c[1], nulls_not_distinct=bool(c[0]))

    def tc_primary_key(self, c):
        return TableConstraint("primary_key", columns=c[0])

    def tc_foreign_key(self, c):
        columns, rel, ref_columns, actions = c[0], c[1], c[2], dict(c[3:])
        return TableConstraint("foreign_key", columns=columns, ref_table=rel.name,
                               ref_columns=tuple(ref_columns or ()),
                               on_delete=actions.get("delete"), on_update=actions.get("update"))

    # --- CREATE INDEX
    def create_index_stmt(self, c):
        tok, unique, _concurrently, index_name, rel, method = c[:6]
        params, (include, nulls_not_distinct, _options, where) = c[6:-1], c[-1]
        name, if_not_exists = index_name or (None, False)
        return CreateIndex(name, rel.name, tuple(params), unique is not None, if_not_exists,
                           name_of(method) if method is not None else None, where,
                           tuple(include or ()), pos=tok.start_pos,
                           nulls_not_distinct=bool(nulls_not_distinct))

    def index_name(self, c):
        return name_of(c[0]), False

    def index_name_if_not_exists(self, c):
        return name_of(c[1]), True

    def index_options(self, c):
        return c

    def index_param(self, c):
        target, _collation, _opclass, descending, nulls_first = c
        return IndexColumn(target, bool(descending), nulls_first)

    def index_column(self, c):
        return ColumnRef((name_of(c[0]),), pos=c[0].start_pos)

    # --- CREATE VIEW / SEQUENCE / SCHEMA
    def create_view_stmt(self, c):
        tok, or_replace, temporary, recursive, rel, (columns, _options, query, check) = c
        if recursive is not None:
            raise TokenError(recursive.start_pos, message="CREATE RECURSIVE VIEW is not "
                             "supported", error_class=errors.FeatureNotSupported)
        return CreateView(rel.name, query, tuple(columns or ()), or_replace is not None,
                          temporary=bool(temporary), pos=tok.start_pos, check_option=check)

    def view_body(self, c):
        return c

    def check_cascaded(self, c):
        return "cascaded"

    def check_local(self, c):
        return "local"

    def create_sequence_stmt(self, c):
        tok, _temporary, if_not_exists, rel, options = c[0], c[1], c[2], c[3], dict(c[4:])
        return CreateSequence(rel.name, bool(if_not_exists), options.get("start"),
                              options.get("increment"), options.get("min_value"),
                              options.get("max_value"), bool(options.get("cycle")),
                              data_type=options.get("as"), owned_by=options.get("owned_by"),
                              pos=tok.start_pos)

    def seq_as(self, c):
        return "as", c[0]

    def seq_start(self, c):
        return "start", c[0]

    def seq_increment(self, c):
        return "increment", c[0]

    def seq_minvalue(self, c):
        return "min_value", c[0]

    def seq_no_minvalue(self, c):
        return "min_value", None

    def seq_maxvalue(self, c):
        return "max_value", c[0]

    def seq_no_maxvalue(self, c):
        return "max_value", None

    def seq_cycle(self, c):
        return "cycle", True

    def seq_no_cycle(self, c):
        return "cycle", False

    def seq_cache(self, c):
        return "cache", c[0]

    def seq_owned_by(self, c):
        name = c[0]
        return "owned_by", None if name.parts == ("none",) else name

    def int_value(self, c):
        return int(c[0])

    def neg_int_value(self, c):
        return -int(c[0])

    def create_schema_stmt(self, c):
        tok, if_not_exists, name, role = c
        return CreateSchema(name_of(name), bool(if_not_exists), pos=tok.start_pos,
                            authorization=_role_name(role))

    def create_schema_auth(self, c):
        tok, if_not_exists, role = c
        return CreateSchema("", bool(if_not_exists), pos=tok.start_pos,
                            authorization=_role_name(role))

    def alter_schema_rename(self, c):
        return AlterSchema(name_of(c[1]), new_name=name_of(c[2]), pos=c[0].start_pos)

    def alter_schema_owner(self, c):
        return AlterSchema(name_of(c[1]), owner=_role_name(c[2]), pos=c[0].start_pos)

    # --- DROP
    def drop_stmt(self, c):
        tok, kind, if_exists, cascade = c[0], c[1], c[2], c[-1]
        return Drop(kind, tuple(c[3:-1]), bool(if_exists), bool(cascade), pos=tok.start_pos)

    def table(self, c):
        return "table"

    def view(self, c):
        return "view"

    def index(self, c):
        return "index"

    def sequence(self, c):
        return "sequence"

    def schema(self, c):
        return "schema"

    def type_kind(self, c):
        return "type"

    # --- CREATE TYPE ... AS ENUM / ALTER TYPE (enum types)
    def create_type_stmt(self, c):
        tok, name = c[0], c[1]  # c[2] is the ENUM keyword
        labels = tuple(str(t) for t in c[3:] if t is not None)
        return CreateEnum(name, labels, pos=tok.start_pos)

    def alter_type_stmt(self, c):
        tok, name, action = c
        return replace(action, name=name, pos=tok.start_pos)

    def enum_add_value(self, c):
        _kw, if_not_exists, value, neighbor = c
        return AlterType(None, "add_value", str(value), None, bool(if_not_exists), neighbor)

    def enum_neighbor(self, c):
        return (str(c[0]).lower(), str(c[1]))

    def enum_rename_value(self, c):
        return AlterType(None, "rename_value", str(c[1]), str(c[2]))

    def type_rename(self, c):
        return AlterType(None, "rename", None, name_of(c[0]))

    def type_owner_to(self, c):
        return AlterType(None, "owner")

    def if_exists(self, c):
        return True

    def if_not_exists(self, c):
        return True

    # --- ALTER TABLE
    def alter_table_stmt(self, c):
        tok, if_exists, rel = c[0], c[1], c[2]
        return AlterTable(rel.name, tuple(c[3:]), bool(if_exists), pos=tok.start_pos)

    def add_column(self, c):
        return AlterAction("add_column", column=c[1], if_not_exists=bool(c[0]))

    def add_constraint(self, c):
        return AlterAction("add_constraint", constraint=c[0])

    def drop_column(self, c):
        if_exists, name, cascade = c
        return AlterAction("drop_column", name=name_of(name), if_exists=bool(if_exists),
                           cascade=bool(cascade))

    def drop_constraint(self, c):
        if_exists, name, cascade = c
        return AlterAction("drop_constraint", name=name_of(name), if_exists=bool(if_exists),
                           cascade=bool(cascade))

    def alter_column_type(self, c):
        name, typ, _collation, using = c
        return AlterAction("alter_column_type", name=name_of(name), type=typ, expr=using)

    def set_column_default(self, c):
        return AlterAction("set_default", name=name_of(c[0]), expr=c[1])

    def drop_column_default(self, c):
        return AlterAction("drop_default", name=name_of(c[0]))

    def set_not_null(self, c):
        return AlterAction("set_not_null", name=name_of(c[0]))

    def drop_not_null(self, c):
        return AlterAction("drop_not_null", name=name_of(c[0]))

    def rename_column(self, c):
        return AlterAction("rename_column", name=name_of(c[0]), new_name=name_of(c[1]))

    def rename_table(self, c):
        return AlterAction("rename_table", new_name=name_of(c[0]))

    def owner_to(self, c):
        return AlterAction("owner", name=name_of(c[0]))

    def rename_constraint(self, c):
        return AlterAction("rename_constraint", name=name_of(c[0]), new_name=name_of(c[1]))

    # --- ALTER INDEX|SEQUENCE|VIEW ... RENAME TO
    def alter_rename_stmt(self, c):
        tok, kind, if_exists, rel, new_name = c
        return AlterTable(rel.name, (AlterAction("rename_table", new_name=name_of(new_name)),),
                          bool(if_exists), pos=tok.start_pos, kind=kind)

    # --- COMMENT ON
    def comment_stmt(self, c):
        tok, (kind, name, constraint), text = c
        text = None if text.type == "NULL" else str(text)
        column = None
        if kind == "column":  # t.c, s.t.c; a lone name is the planner's error, as PG's
            name, column = Name(name.parts[:-1]), name.parts[-1]
        return Comment(kind, name, text, column, constraint, pos=tok.start_pos)

    def _comment_on(kind):  # noqa: N805 - a factory used in the class body
        def rule(self, c):
            name = c[0] if isinstance(c[0], Name) else Name((name_of(c[0]),))
            return kind, name, None
        rule.__name__ = f"comment_{kind.replace(' ', '_')}"
        return rule

    comment_table = _comment_on("table")
    comment_column = _comment_on("column")
    comment_view = _comment_on("view")
    comment_index = _comment_on("index")
    comment_sequence = _comment_on("sequence")
    comment_matview = _comment_on("materialized view")
    comment_type = _comment_on("type")
    comment_function = _comment_on("function")
    comment_schema = _comment_on("schema")
    comment_database = _comment_on("database")
    comment_role = _comment_on("role")
    comment_extension = _comment_on("extension")
    del _comment_on

    def comment_constraint(self, c):
        return "constraint", c[1], name_of(c[0])
