"""Session statements: transactions, SET / SHOW / RESET, EXPLAIN, and the utility commands
accepted as no-ops with PostgreSQL's command tag (VACUUM, ANALYZE, CHECKPOINT, DISCARD,
COMMENT, GRANT and REVOKE but ON DATABASE (server.py), LISTEN, NOTIFY, UNLISTEN)."""

from __future__ import annotations

from .ast import Explain, Literal, Noop, ResetVar, SetVar, ShowVar, Transaction
from .common import name_of
from .exprs import integer_literal, negate_literal

_FALSE_WORDS = frozenset({"false", "off", "0", "no"})


class _Set:
    """What a SET statement sets: a variable and its values, or nothing (a no-op SET)."""

    __slots__ = ("name", "values")

    def __init__(self, name: str | None, values=()):
        self.name, self.values = name, tuple(values)


def _word(token) -> Literal:
    return Literal(name_of(token), "string", pos=token.start_pos)


def _truthy(value) -> bool:
    """An EXPLAIN/VACUUM option value: absent means true, as in PostgreSQL."""
    if value is None:
        return True
    return str(value.value).lower() not in _FALSE_WORDS


class SessionRules:
    """Transformer callbacks for session and utility statements."""

    # --- transactions
    def begin(self, c):
        tok, modes = c
        return Transaction("begin", modes=tuple(modes or ()), pos=tok.start_pos)

    def commit(self, c):
        tok, chain = c
        return Transaction("commit", modes=("chain",) if chain else (), pos=tok.start_pos)

    def rollback(self, c):
        tok, chain = c
        return Transaction("rollback", modes=("chain",) if chain else (), pos=tok.start_pos)

    def savepoint(self, c):
        return Transaction("savepoint", name_of(c[1]), pos=c[0].start_pos)

    def release(self, c):
        return Transaction("release", name_of(c[1]), pos=c[0].start_pos)

    def rollback_to(self, c):
        return Transaction("rollback_to", name_of(c[1]), pos=c[0].start_pos)

    def and_chain(self, c):
        return True

    def and_no_chain(self, c):
        return False

    def transaction_modes(self, c):
        return tuple(c)

    def isolation_level(self, c):
        return "isolation level " + c[0]

    def mode_words(self, c):
        return " ".join(name_of(t) for t in c)

    def iso_level(self, c):
        return " ".join(name_of(t) for t in c)

    # --- SET / SHOW / RESET
    def set_plain(self, c):
        return self._set(c, False)

    def set_local(self, c):
        return self._set(c, True)

    @staticmethod
    def _set(c, local):
        tok, what = c
        if what.name is None:
            return Noop("SET", pos=tok.start_pos)
        return SetVar(what.name, what.values, local, pos=tok.start_pos)

    def set_var(self, c):
        return _Set(c[0], c[1])

    def set_var_default(self, c):
        return _Set(c[0])

    def set_time_zone(self, c):
        value = c[0]
        return _Set("timezone", () if value is None else (value,))

    def zone_default(self, c):
        return None

    def set_schema(self, c):
        return _Set("search_path", (Literal(str(c[0]), "string", pos=c[0].start_pos),))

    def set_names(self, c):
        tok = c[0]
        return _Set("client_encoding",
                    () if tok is None else (Literal(str(tok), "string", pos=tok.start_pos),))

    def set_names_default(self, c):
        return _Set("client_encoding")

    def set_role(self, c):
        return _Set("role", () if c[0] is None else (c[0],))

    def set_session_authorization(self, c):
        return _Set("session_authorization", () if c[0] is None else (c[0],))

    def set_transaction(self, c):
        return _Set(None)

    def var_name(self, c):
        return ".".join(name_of(t) for t in c)

    def var_list(self, c):
        return c

    def var_bool(self, c):
        return Literal(c[0].type == "TRUE", "boolean", pos=c[0].start_pos)

    def var_word(self, c):
        return _word(c[0])

    var_string = var_word
    role_word = var_word

    def role_default(self, c):
        return None

    def var_int(self, c):
        return integer_literal(c[0])

    def var_num(self, c):
        text = str(c[0])
        return Literal(text, "float" if "e" in text.lower() else "numeric", pos=c[0].start_pos)

    def var_neg_int(self, c):
        return negate_literal(integer_literal(c[1]), c[0].start_pos)

    def var_neg_num(self, c):
        return negate_literal(self.var_num(c[1:]), c[0].start_pos)

    def show_var(self, c):
        return ShowVar(c[1], pos=c[0].start_pos)

    def show_time_zone(self, c):
        return ShowVar("timezone", pos=c[0].start_pos)

    def show_isolation(self, c):
        return ShowVar("transaction_isolation", pos=c[0].start_pos)

    def show_session_authorization(self, c):
        return ShowVar("session_authorization", pos=c[0].start_pos)

    def show_all(self, c):
        return ShowVar("all", pos=c[0].start_pos)

    def reset_var(self, c):
        return ResetVar(c[1], pos=c[0].start_pos)

    def reset_time_zone(self, c):
        return ResetVar("timezone", pos=c[0].start_pos)

    def reset_isolation(self, c):
        return ResetVar("transaction_isolation", pos=c[0].start_pos)

    def reset_session_authorization(self, c):
        return ResetVar("session_authorization", pos=c[0].start_pos)

    def reset_all(self, c):
        return ResetVar("all", pos=c[0].start_pos)

    # --- EXPLAIN
    def explain_plain(self, c):
        return Explain(c[1], pos=c[0].start_pos)

    def explain_analyze(self, c):
        tok, _analyze, verbose, stmt = c
        return Explain(stmt, True, verbose is not None, pos=tok.start_pos)

    def explain_verbose(self, c):
        return Explain(c[2], verbose=True, pos=c[0].start_pos)

    def explain_options(self, c):
        tok, options, stmt = c[0], c[1:-1], c[-1]
        flags = {name: _truthy(value) for name, value in options}
        return Explain(stmt, flags.get("analyze", False) or flags.get("analyse", False),
                       flags.get("verbose", False), options=tuple(options), pos=tok.start_pos)

    def explain_option(self, c):
        name, value = c
        return name_of(name), value

    # --- accepted and ignored
    def _noop(tag):  # noqa: N805 - a factory used in the class body
        def rule(self, c):
            return Noop(tag, pos=c[0].start_pos)
        rule.__name__ = f"noop_{tag.lower()}"
        return rule

    noop_vacuum = _noop("VACUUM")
    noop_analyze = _noop("ANALYZE")
    noop_checkpoint = _noop("CHECKPOINT")
    noop_grant = _noop("GRANT")
    noop_revoke = _noop("REVOKE")
    noop_listen = _noop("LISTEN")
    noop_notify = _noop("NOTIFY")
    noop_unlisten = _noop("UNLISTEN")
    del _noop

    def noop_discard(self, c):
        tok, target = c
        what = "TEMP" if target.type == "TEMPORARY" else target.type
        return Noop(f"DISCARD {what}", pos=tok.start_pos)
