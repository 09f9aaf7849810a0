"""Writing rows of one table: defaults, coercion, constraints, row and index entries.

Every check PostgreSQL makes on a row happens here, in PostgreSQL's order: NOT NULL,
CHECK, then uniqueness (primary key, unique indexes) and foreign keys. A row's writes
are its row entry plus one entry per index; deleting appends tombstones (keeping the old
row), so history can show every version.
"""

from __future__ import annotations

from .. import errors
from ..kv import KeyNotFoundError
from . import casts
from .expr import ExprCompiler
from .scope import Scope, ScopeColumn
from .tables import HIDDEN_COLUMNS, TableCodec, index_entry, unique_probe


class TableWriter:
    def __init__(self, ctx, rel):
        self.ctx = ctx
        self.rel = rel
        self.tx = ctx.tx
        self.codec: TableCodec = ctx.codec(rel)
        self.width = len(rel.columns)
        scope = table_scope(rel, rel.name)
        comp = ExprCompiler(scope, ctx, clause="CHECK")
        self.checks = [(c.name, comp.predicate(c.expr)) for c in rel.checks]
        self.unique = [i for i in rel.indexes if i.unique and not i.primary]
        self.pk_index = next((i for i in rel.indexes if i.primary), None)
        self._defaults = None

    # ------------------------------------------------------------------ defaults -------
    def defaults(self) -> list:
        """Per column: a callable giving its default value (None: NULL)."""
        if self._defaults is None:
            comp = ExprCompiler(Scope(), self.ctx, clause="DEFAULT")
            out = []
            for col in self.rel.columns:
                if col.sequence is not None:
                    seq = self.ctx.catalog.relations.get(col.sequence)
                    out.append(lambda seq=seq: self.ctx.engine.nextval(seq))
                elif col.default is not None:
                    c = comp.compile(col.default)
                    c = comp.coerce(c, col.type, col.default, "assignment") \
                        if c.type != col.type else c
                    out.append(lambda f=c.fn: f(()))
                else:
                    out.append(lambda: None)
            self._defaults = out
        return self._defaults

    def coerce(self, values: list, types_: list) -> tuple:
        """Assignment casts to the column types (22001, 22003 ... as PostgreSQL)."""
        out = []
        for v, src, col in zip(values, types_, self.rel.columns):
            if v is None or src == col.type:
                out.append(v)
            else:
                out.append(casts.cast(v, src, col.type, False))
        return tuple(out)

    # ------------------------------------------------------------------ checks ---------
    def check(self, row: tuple) -> None:
        for col, v in zip(self.rel.columns, row):
            if v is None and col.not_null:
                raise _about(errors.NotNullViolation(
                    f'null value in column "{col.name}" of relation "{self.rel.name}" '
                    "violates not-null constraint",
                    detail=f"Failing row contains {self._describe(row)}."), self.rel,
                    column=col.name)
        full = row + (None,) * len(HIDDEN_COLUMNS)
        for name, pred in self.checks:
            if pred(full) is False:
                raise _about(errors.CheckViolation(
                    f'new row for relation "{self.rel.name}" violates check constraint '
                    f'"{name}"', detail=f"Failing row contains {self._describe(row)}."),
                    self.rel, constraint=name)
        for fk in self.rel.foreign_keys:
            self._check_parent(fk, row)

    def _describe(self, row: tuple) -> str:
        from .casts import format_text
        parts = ["null" if v is None else format_text(v, c.type)
                 for v, c in zip(row, self.rel.columns)]
        return "(" + ", ".join(parts) + ")"

    def _check_parent(self, fk, row: tuple) -> None:
        values = tuple(row[self.codec.position[c]] for c in fk.columns)
        if any(v is None for v in values):
            return  # MATCH SIMPLE: a NULL in the key skips the check
        parent = self.ctx.catalog.relations.get(fk.ref_table)
        if parent is None or not _parent_has(self.ctx, parent, fk.ref_columns, values):
            names = ", ".join(self.rel.column_by_id(c).name for c in fk.columns)
            shown = ", ".join(str(v) for v in values)
            raise _about(errors.ForeignKeyViolation(
                f'insert or update on table "{self.rel.name}" violates foreign key '
                f'constraint "{fk.name}"',
                detail=f'Key ({names})=({shown}) is not present in table "{parent.name}".'
                if parent else None), self.rel, constraint=fk.name)

    # ------------------------------------------------------------------ writes ---------
    def key_for(self, row: tuple) -> bytes:
        if self.codec.pk_slots is None:
            rowid = self.ctx.engine.nextval(_rowid_sequence(self.rel))
            return self.codec.key_of_pk((rowid,))
        return self.codec.key_of_pk(self.codec.pk_values(row))

    def exists(self, key: bytes) -> bool:
        try:
            self.tx.get(key)
            return True
        except KeyNotFoundError:
            return False

    def conflict(self, row: tuple, key: bytes | None) -> tuple | None:
        """(constraint name, existing row key) of the first uniqueness conflict, if any."""
        if key is not None and self.codec.pk_slots is not None and self.exists(key):
            return (self.pk_index.name if self.pk_index else f"{self.rel.name}_pkey", key)
        for idx in self.unique:
            probe = unique_probe(idx, self.codec, row)
            if probe is None:
                continue
            try:
                existing = self.tx.get(probe).value
            except KeyNotFoundError:
                continue
            if existing != key:
                return (idx.name, existing)
        return None

    def unique_error(self, name: str, row: tuple) -> errors.UniqueViolation:
        idx = next((i for i in self.rel.indexes if i.name == name), None)
        detail = None
        if idx is not None:
            from .casts import format_text
            from .index_exprs import key_names
            from .tables import index_key
            values, types_ = index_key(idx, self.codec, row)
            vals = [format_text(v, t) for v, t in zip(values, types_)]
            detail = f"Key ({key_names(self.rel, idx)})=({', '.join(vals)}) " \
                     "already exists."
        return _about(errors.UniqueViolation(
            f'duplicate key value violates unique constraint "{name}"', detail=detail),
            self.rel, constraint=name)

    def insert(self, row: tuple) -> bytes:
        self.check(row)
        key = self.key_for(row)
        hit = self.conflict(row, key)
        if hit is not None:
            raise self.unique_error(hit[0], row)
        self._write(row, key)
        return key

    def _write(self, row: tuple, key: bytes) -> None:
        self.tx.set(key, self.codec.encode(row))
        for idx in self.rel.indexes:
            if idx.primary:
                continue
            entry = index_entry(self.rel, idx, self.codec, row, key)
            if entry is not None:  # None: a partial index leaves the row out
                self.tx.set(*entry)

    def delete(self, row: tuple, key: bytes, check_children: bool = True) -> None:
        if check_children:
            self._on_parent_change(row, None)
        self.tx.delete(key, last_value=self.codec.encode(row))
        for idx in self.rel.indexes:
            if idx.primary:
                continue
            entry = index_entry(self.rel, idx, self.codec, row, key)
            if entry is None:
                continue
            try:
                self.tx.delete(entry[0])
            except KeyNotFoundError:
                pass  # built by an index created later in this transaction, or damaged

    def update(self, old: tuple, key: bytes, new: tuple) -> bytes:
        self.check(new)
        new_key = key
        if self.codec.pk_slots is not None and \
                self.codec.pk_values(new) != self.codec.pk_values(old):
            new_key = self.codec.key_of_pk(self.codec.pk_values(new))
            if self.exists(new_key):
                raise self.unique_error(self.pk_index.name if self.pk_index
                                        else f"{self.rel.name}_pkey", new)
        for idx in self.unique:
            probe = unique_probe(idx, self.codec, new)
            if probe is None or probe == unique_probe(idx, self.codec, old):
                continue
            try:
                existing = self.tx.get(probe).value
            except KeyNotFoundError:
                continue
            if existing != key:
                raise self.unique_error(idx.name, new)
        if new_key != key:
            self.delete(old, key, check_children=False)
            self._write(new, new_key)
        else:
            self.tx.set(key, self.codec.encode(new))
            for idx in self.rel.indexes:
                if idx.primary:
                    continue
                old_e = index_entry(self.rel, idx, self.codec, old, key)
                new_e = index_entry(self.rel, idx, self.codec, new, key)
                if old_e is not None and (new_e is None or old_e[0] != new_e[0]):
                    try:
                        self.tx.delete(old_e[0])
                    except KeyNotFoundError:
                        pass
                if new_e is not None:
                    self.tx.set(*new_e)
        # children follow (or refuse) once the new parent row exists
        self._on_parent_change(old, new)
        return new_key

    def _on_parent_change(self, old: tuple, new: tuple | None) -> None:
        """Foreign keys pointing at this table: restrict, cascade or set null."""
        for child, fk in self.ctx.catalog.referencing(self.rel.id):
            ref_vals = tuple(old[self.codec.position[c]] for c in fk.ref_columns)
            if any(v is None for v in ref_vals):
                continue
            if new is not None and tuple(new[self.codec.position[c]]
                                         for c in fk.ref_columns) == ref_vals:
                continue
            rows = _children(self.ctx, child, fk, ref_vals)
            if not rows:
                continue
            action = fk.on_delete if new is None else fk.on_update
            cw = TableWriter(self.ctx, child) if child.id != self.rel.id else self
            if action == "cascade" and new is None:
                for crow, ckey in rows:
                    cw.delete(crow, ckey)
            elif action in ("set null", "set default") or (action == "cascade"
                                                           and new is not None):
                for crow, ckey in rows:
                    updated = list(crow)
                    for c, pc in zip(fk.columns, fk.ref_columns):
                        pos = cw.codec.position[c]
                        if action == "cascade":
                            updated[pos] = new[self.codec.position[pc]]
                        elif action == "set null":
                            updated[pos] = None
                        else:
                            updated[pos] = cw.defaults()[pos]()
                    cw.update(crow, ckey, tuple(updated))
            else:
                names = ", ".join(self.rel.column_by_id(c).name for c in fk.ref_columns)
                raise _about(errors.ForeignKeyViolation(
                    f'update or delete on table "{self.rel.name}" violates foreign key '
                    f'constraint "{fk.name}" on table "{child.name}"',
                    detail=f"Key ({names})=({', '.join(map(str, ref_vals))}) is still "
                           f'referenced from table "{child.name}".'), child,
                    constraint=fk.name)


def _about(err: errors.Error, rel, *, column=None, constraint=None) -> errors.Error:
    """Name the objects of an integrity error as PostgreSQL's errtablecol /
    errtableconstraint do (ErrorResponse fields s, t, c, n)."""
    err.schema_name, err.table_name = rel.schema, rel.name
    err.column_name, err.constraint_name = column, constraint
    return err


def table_scope(rel, alias: str, parent: Scope | None = None) -> Scope:
    scope = Scope(parent=parent)
    for c in rel.columns:
        scope.add(ScopeColumn(alias, c.name, c.type, table_id=rel.id, column_id=c.id))
    from .types import BOOL, BYTEA, INT8
    for name, t in zip(HIDDEN_COLUMNS, (INT8, INT8, BOOL, BYTEA)):
        scope.add(ScopeColumn(alias, name, t, hidden=True))
    return scope


def _rowid_sequence(rel):
    """Tables without a primary key number their rows with a private sequence."""
    from .catalog import Relation
    return Relation(rel.id, rel.schema, rel.name, "sequence",
                    sequence={"start": 1, "increment": 1})


def _parent_has(ctx, parent, ref_columns, values) -> bool:
    codec = ctx.codec(parent)
    if tuple(ref_columns) == tuple(parent.primary_key):
        try:
            ctx.tx.get(codec.key_of_pk(values))
            return True
        except KeyNotFoundError:
            return False
    for idx in parent.indexes:
        if idx.unique and idx.plain and tuple(idx.columns) == tuple(ref_columns):
            row = [None] * len(parent.columns)
            for c, v in zip(ref_columns, values):
                row[codec.position[c]] = v
            probe = unique_probe(idx, codec, tuple(row))
            try:
                ctx.tx.get(probe)
                return True
            except KeyNotFoundError:
                return False
    positions = [codec.position[c] for c in ref_columns]
    return any(tuple(r[p] for p in positions) == values for r in ctx.table_rows(parent))


def _children(ctx, child, fk, values) -> list[tuple[tuple, bytes]]:
    codec = ctx.codec(child)
    positions = [codec.position[c] for c in fk.columns]
    width = len(child.columns)
    out = []
    for r in ctx.table_rows(child):
        if tuple(r[p] for p in positions) == values:
            out.append((r[:width], r[-1]))
    return out
