"""SQL cursors: DECLARE, FETCH / MOVE and CLOSE, as PostgreSQL's DeclareCursorStmt,
FetchStmt and ClosePortalStmt (what psycopg's server-side cursors send).

FETCH and MOVE directions become PostgreSQL's (direction, count) pairs here, as gram.y
builds them, so the engine only knows forward, backward, absolute and relative moves."""

from __future__ import annotations

from .. import errors
from .ast import CloseCursor, DeclareCursor, FetchCursor
from .common import TokenError, name_of


def _invalid_cursor_definition(message: str, **kw) -> errors.Error:
    """PostgreSQL's invalid_cursor_definition (42P11), which immusql.errors has no class
    for."""
    err = errors.ProgrammingError(message, **kw)
    err.sqlstate = "42P11"
    return err


# direction word -> (direction, count); None counts are ALL
_DIRECTIONS = {
    "NEXT": ("forward", 1), "PRIOR": ("backward", 1), "FIRST": ("absolute", 1),
    "LAST": ("absolute", -1), "ALL": ("forward", None), "FORWARD": ("forward", 1),
    "BACKWARD": ("backward", 1), "ABSOLUTE": ("absolute", None),
    "RELATIVE": ("relative", None),
}


class CursorRules:
    """Transformer callbacks for DECLARE, FETCH, MOVE and CLOSE."""

    def declare_cursor(self, c):
        tok, name, options, hold, query = c[0], c[1], c[2:-3], c[-2], c[-1]
        words = [o.type for o in options]
        # gram.y takes the options in any order and any number of times; parse analysis
        # (transformDeclareCursorStmt) refuses the contradictory pairs
        if "SCROLL" in words and "NO" in words:
            raise TokenError(-1, message="cannot specify both SCROLL and NO SCROLL",
                             error_class=_invalid_cursor_definition)
        if "ASENSITIVE" in words and "INSENSITIVE" in words:
            raise TokenError(-1, message="cannot specify both ASENSITIVE and INSENSITIVE",
                             error_class=_invalid_cursor_definition)
        scroll = False if "NO" in words else True if "SCROLL" in words else None
        return DeclareCursor(name_of(name), query, scroll=scroll, hold=bool(hold),
                             binary="BINARY" in words, pos=tok.start_pos)

    def cursor_option(self, c):
        return c[0]  # NO SCROLL: the NO token stands for both

    def cursor_hold(self, c):
        return c[0].type == "WITH"

    def fetch_cursor(self, c):
        tok, (direction, count, name) = c
        return FetchCursor(name, direction, count, move=tok.type == "MOVE",
                           pos=tok.start_pos)

    def fetch_args(self, c):
        return "forward", 1, name_of(c[-1])

    def fetch_direction(self, c):
        word, name = c[0], c[-1]
        direction, count = _DIRECTIONS[word.type]
        if len(c) == 3:  # FORWARD n | ALL, BACKWARD n | ALL, ABSOLUTE n, RELATIVE n
            arg = c[1]
            count = None if getattr(arg, "type", None) == "ALL" else arg
        return direction, count, name_of(name)

    def fetch_count(self, c):
        return "forward", c[0], name_of(c[-1])

    def close_cursor(self, c):
        tok, what = c
        return CloseCursor(None if what.type == "ALL" else name_of(what), pos=tok.start_pos)
