"""immusql's SQL parser: PostgreSQL 15's dialect (plus immudb's time travel) to the typed
AST of `immusql.parser.ast`.

    parse(sql)      -> list of statements (split at `;`, empty statements skipped)
    parse_one(sql)  -> exactly one statement, else SyntaxError

Pipeline: `lexer.Tokenizer` (PostgreSQL's lexical rules) -> the LALR(1) table Lark builds
from `GRAMMAR_PATH`, run by `driver.Driver`, with `transformer.AstBuilder` applied at each
reduction (no parse tree is built, and nothing recurses, so deeply nested input cannot
overflow the Python stack). Tokens are pulled as the parser needs them: a script is split at
`;` and parsed in one pass, and parsing stops at the first error.
Errors are immusql.errors classes with PostgreSQL's SQLSTATE, message and 1-based
`.position`: SyntaxError (42601) for malformed input, StatementTooComplex (54001) beyond
the nesting limits, a few data errors (22P02, 22025, 22021) for bad escapes in constants.

The LALR tables take seconds to build, so they are built once per process, on first use,
and cached on disk (Lark's cache) in a per-user directory: $IMMUSQL_PARSER_CACHE (a
directory, or "0" to disable), else $XDG_CACHE_HOME/immusql or ~/.cache/immusql. The cache
is a pickle, so it is only used from a directory owned by the current user and writable by
no one else.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from pathlib import Path

import lark
from lark import Lark, Token
from lark.lexer import Lexer

from ..errors import StatementTooComplex
from ..errors import SyntaxError as SqlSyntaxError
from . import ast
from .common import MAX_DEPTH, TokenError
from .driver import Driver, ParseError
from .errors import from_token_error, from_unexpected
from .lexer import MAX_NESTING, Tokenizer
from .transformer import AstBuilder

__all__ = ["parse", "parse_one", "GRAMMAR_PATH", "MAX_DEPTH", "MAX_NESTING", "ast"]

GRAMMAR_PATH = Path(__file__).resolve().parents[2] / "grammar" / "sql.lark"


class _TokenFeed(Lexer):
    """Fills Lark's lexer slot. Tokens come from `Tokenizer` and `Driver` runs the table,
    so Lark's own parse loop, and this lexer, only serve to build the parser."""

    def __init__(self, lexer_conf):
        pass

    def lex(self, data):
        return iter(data)


class _Parser:
    """The compiled grammar, its LALR driver and the tokenizer for its keywords (built
    once, then shared: all three are stateless)."""

    def __init__(self):
        grammar = GRAMMAR_PATH.read_text(encoding="utf-8")
        self.lark = Lark(grammar, parser="lalr", lexer=_TokenFeed, transformer=AstBuilder(),
                         maybe_placeholders=True, cache=_cache_file(grammar))
        self.driver = Driver(self.lark)
        self.tokenizer = Tokenizer(self.lark.terminals)
        self.keywords = frozenset(self.tokenizer.keywords.values())


_lock = threading.Lock()
_instance: _Parser | None = None


def _parser() -> _Parser:
    global _instance
    if _instance is None:
        with _lock:
            if _instance is None:
                _instance = _Parser()
    return _instance


def _cache_file(grammar: str) -> str | bool:
    """Where Lark may cache the parse tables, or False (see the module docstring)."""
    setting = os.environ.get("IMMUSQL_PARSER_CACHE")
    if setting == "0":
        return False
    base = Path(setting) if setting else (
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "immusql")
    try:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = base.stat()
        if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
            return False
    except OSError:
        return False
    key = f"{grammar}\0{lark.__version__}\0{sys.version_info[:2]}".encode()
    return str(base / f"sql-lark-{hashlib.sha256(key).hexdigest()[:20]}.cache")


def parse(sql: str) -> list[ast.Statement]:
    """The statements of `sql`, separated by `;` (empty statements are skipped)."""
    parser = _parser()
    tokens = parser.tokenizer.scan(sql)
    statements = []
    while True:
        seen: list[Token] = []
        try:
            stmt, terminator = parser.driver.parse(tokens, seen)
        except ParseError as e:
            raise from_unexpected(sql, seen, e, parser.keywords) from None
        except TokenError as e:
            raise from_token_error(sql, seen, e) from None
        except (RecursionError, MemoryError):
            raise _too_complex(seen[0].start_pos, "The statement is too large.") from None
        if stmt is not None:
            statements.append(_checked(stmt, seen))
        elif terminator is None:
            return statements


def parse_one(sql: str) -> ast.Statement:
    """The one statement of `sql` (a trailing `;` is fine); SyntaxError for none or several."""
    statements = parse(sql)
    if len(statements) == 1:
        return statements[0]
    if not statements:
        raise SqlSyntaxError("syntax error at end of input", position=len(sql) + 1,
                             hint="The query is empty: one statement was expected.")
    raise SqlSyntaxError("cannot insert multiple commands into a prepared statement",
                         position=statements[1].pos + 1)


def _checked(stmt, seen: list[Token]):
    """The statement with its position set, if it is not too deep."""
    start = seen[0].start_pos
    if stmt.pos != start:  # e.g. a query written in parentheses or after WITH
        object.__setattr__(stmt, "pos", start)  # a node just built, not yet shared
    if len(seen) > MAX_DEPTH // 2 and _deeper_than(stmt, MAX_DEPTH):
        raise _too_complex(start, f"Expressions or queries are nested more than {MAX_DEPTH} "
                                  "levels deep.")
    return stmt


def _too_complex(pos: int, detail: str) -> StatementTooComplex:
    return StatementTooComplex("stack depth limit exceeded", position=pos + 1, detail=detail,
                               hint="Simplify the statement.")


def _deeper_than(node, limit: int) -> bool:
    """Whether the AST under `node` is more than `limit` nodes deep, found iteratively: the
    point is to refuse trees too deep for the recursive code downstream. Chains of operators,
    casts, subscripts, joins and set operations are refused as they are read; this walk
    catches the rest (nested CASE, subqueries...). A statement's tree is at most about 4/3
    as deep as it has tokens (`(SELECT x)` adds four nodes for three tokens), so statements
    of up to limit/2 tokens are not walked."""
    stack = [(node, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        for value in vars(item).values():
            if value.__class__ is tuple:
                _push_tuple(stack, value, depth + 1)
            elif hasattr(value, "__dataclass_fields__"):
                stack.append((value, depth + 1))
    return False


def _push_tuple(stack, values: tuple, depth: int) -> None:
    pending = [values]
    while pending:
        for value in pending.pop():
            if value.__class__ is tuple:
                pending.append(value)
            elif hasattr(value, "__dataclass_fields__"):
                stack.append((value, depth))
