"""PostgreSQL 15's regexp_count, regexp_instr, regexp_like and regexp_substr.

Why: they share one set of rules (1-based `start` where `^` still means the real start
of the string, the N-th non-overlapping match, optional capture group `subexpr`, flags
without 'g') that the older regexp_* functions in fn_text do not follow.
"""

from __future__ import annotations

from ..errors import InvalidParameterValue
from . import types as T
from .functions import register
from .patterns import compile_regex

TXT, I4, BOOL = T.TEXT, T.INT4, T.BOOL


def _param(name: str, value: int, ok: bool) -> None:
    if not ok:
        raise InvalidParameterValue(f'invalid value for parameter "{name}": {value}')


def _rx(fn: str, pattern: str, flags: str):
    if "g" in flags:
        raise InvalidParameterValue(f'{fn}() does not support the "global" option')
    return compile_regex(pattern, flags)


def _nth(rx, s: str, start: int, n: int):
    """The n-th match at or after 1-based `start`, or None."""
    for i, m in enumerate(rx.finditer(s, start - 1)):
        if i == n - 1:
            return m
    return None


def regexp_count(s, pattern, start=1, flags=""):
    _param("start", start, start > 0)
    rx = _rx("regexp_count", pattern, flags)
    return sum(1 for _ in rx.finditer(s, start - 1))


def regexp_instr(s, pattern, start=1, n=1, endoption=0, flags="", subexpr=0):
    _param("start", start, start > 0)
    _param("n", n, n > 0)
    _param("endoption", endoption, endoption in (0, 1))
    _param("subexpr", subexpr, subexpr >= 0)
    rx = _rx("regexp_instr", pattern, flags)
    m = _nth(rx, s, start, n)
    if m is None or subexpr > rx.groups or m.start(subexpr) < 0:
        return 0
    return (m.end(subexpr) if endoption else m.start(subexpr)) + 1


def regexp_like(s, pattern, flags=""):
    return _rx("regexp_like", pattern, flags).search(s) is not None


def regexp_substr(s, pattern, start=1, n=1, flags="", subexpr=0):
    _param("start", start, start > 0)
    _param("n", n, n > 0)
    _param("subexpr", subexpr, subexpr >= 0)
    rx = _rx("regexp_substr", pattern, flags)
    m = _nth(rx, s, start, n)
    if m is None or subexpr > rx.groups:
        return None
    return m.group(subexpr)


def _reg_all():
    r = register
    for params in ((TXT, TXT), (TXT, TXT, I4), (TXT, TXT, I4, TXT)):
        r("regexp_count", params, I4, regexp_count)
    for params in ((TXT, TXT), (TXT, TXT, I4), (TXT, TXT, I4, I4), (TXT, TXT, I4, I4, I4),
                   (TXT, TXT, I4, I4, I4, TXT), (TXT, TXT, I4, I4, I4, TXT, I4)):
        r("regexp_instr", params, I4, regexp_instr)
    for params in ((TXT, TXT), (TXT, TXT, TXT)):
        r("regexp_like", params, BOOL, regexp_like)
    for params in ((TXT, TXT), (TXT, TXT, I4), (TXT, TXT, I4, I4), (TXT, TXT, I4, I4, TXT),
                   (TXT, TXT, I4, I4, TXT, I4)):
        r("regexp_substr", params, TXT, regexp_substr)


_reg_all()
