"""Window frames: the Frame clause, partitions and peer groups, and each row's frame.

Everything is index arithmetic over the rows of a window already sorted by partition then
ORDER BY. A partition and a peer group are ranges [start, end); a row's frame is the range
[fs[i], fe[i]) its bounds select, minus what EXCLUDE removes. Common bounds are computed a
partition at a time with list operations; RANGE offsets use a binary search with
PostgreSQL's in_range, where a NULL ORDER BY value is in range of the NULLs only
(nodeWindowAgg.c's update_frameheadpos / update_frametailpos).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from decimal import InvalidOperation
from itertools import accumulate, chain, compress, islice
from typing import Any, Callable, Sequence

from immusql.errors import NullValueNotAllowed, WindowingError

from .base import RowFn, data_error
from .canon import canon_keys, raw_key_fn
from .sort import SortKey

MODES = ("rows", "range", "groups")
BOUNDS = ("unbounded_preceding", "preceding", "current_row", "following",
          "unbounded_following")
EXCLUDES = ("no_others", "current_row", "group", "ties")


def _norm(word: str) -> str:
    return word.strip().lower().replace(" ", "_")


@dataclass(frozen=True)
class Frame:
    """A window frame: `mode` BETWEEN start AND end [EXCLUDE ...].

    Kinds are spelled like the parser's FrameBound ('unbounded_preceding', 'preceding',
    'current_row', 'following', 'unbounded_following'; spaces also accepted); offsets are
    values (non-negative integers for ROWS/GROUPS, of the ORDER BY column's difference type
    for RANGE). The default is PostgreSQL's: RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT
    ROW, which is the whole partition when the window has no ORDER BY.

    `in_range(val, base, offset, sub, less) -> bool` is PostgreSQL's in_range support
    function for RANGE offsets: is val <= base -/+ offset (less) or >= it (not less)? The
    default uses Python's - and + (numbers, date/datetime with timedelta); pass one for
    types such as timestamp + Interval.
    """

    mode: str = "range"
    start_kind: str = "unbounded_preceding"
    start_offset: Any = None
    end_kind: str = "current_row"
    end_offset: Any = None
    exclude: str = "no_others"
    in_range: Callable[..., bool] | None = field(default=None, compare=False)

    def __post_init__(self):
        for attr in ("mode", "start_kind", "end_kind", "exclude"):
            object.__setattr__(self, attr, _norm(getattr(self, attr)))
        if self.mode not in MODES:
            raise ValueError(f"unknown frame mode {self.mode!r}")
        if self.start_kind not in BOUNDS or self.end_kind not in BOUNDS:
            raise ValueError("unknown frame bound")
        if self.exclude not in EXCLUDES:
            raise ValueError(f"unknown frame exclusion {self.exclude!r}")
        start, end = BOUNDS.index(self.start_kind), BOUNDS.index(self.end_kind)
        if self.start_kind == "unbounded_following":
            raise WindowingError("frame start cannot be UNBOUNDED FOLLOWING")
        if self.end_kind == "unbounded_preceding":
            raise WindowingError("frame end cannot be UNBOUNDED PRECEDING")
        if self.start_kind == "current_row" and end < start:
            raise WindowingError("frame starting from current row cannot have preceding rows")
        if self.start_kind == "following" and end < start:
            raise WindowingError("frame starting from following row cannot have preceding "
                                 "rows")
        for which, kind, offset in (("starting", self.start_kind, self.start_offset),
                                    ("ending", self.end_kind, self.end_offset)):
            if kind in ("preceding", "following"):
                self._check_offset(which, offset)

    def _check_offset(self, which: str, offset: Any) -> None:
        if offset is None:
            raise NullValueNotAllowed(f"frame {which} offset must not be null")
        if self.mode != "range":
            if offset < 0:
                raise data_error(f"frame {which} offset must not be negative", "22013")
            return
        try:
            bad = offset != offset or offset < type(offset)()
        except TypeError:  # a type without a zero: leave it to the arithmetic
            bad = False
        if bad:
            raise data_error("invalid preceding or following size in window function",
                             "22013")

    @property
    def has_range_offset(self) -> bool:
        return self.mode == "range" and ("preceding" in (self.start_kind, self.end_kind) or
                                         "following" in (self.start_kind, self.end_kind))


DEFAULT_FRAME = Frame()


def in_range(val, base, offset, sub: bool, less: bool) -> bool:
    """PostgreSQL's in_range: val <= base -/+ offset (less) or val >= it (not less), with
    NaN above every number and an infinite bound when infinities cancel."""
    if val != val:
        return True if base != base else not less
    if base != base:
        return less
    try:
        bound = base - offset if sub else base + offset
    except (InvalidOperation, OverflowError):
        return True
    if bound != bound:
        return True
    return val <= bound if less else val >= bound


def _first_true(lo: int, hi: int, pred) -> int:
    """The first index in [lo, hi) where the monotone `pred` holds, else hi."""
    while lo < hi:
        mid = (lo + hi) // 2
        if pred(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _changes(fns: Sequence[RowFn], rows: list) -> list[bool]:
    """changes[i - 1]: do rows i - 1 and i differ in the values of `fns` (NULLs equal,
    NaNs equal)? Keys are read and compared at C speed."""
    keys = canon_keys(list(map(raw_key_fn(fns), rows)), len(fns) > 1)
    return list(map(operator.ne, islice(keys, 1, None), keys))


class Layout:
    """Partitions and peer groups of the sorted rows, as index ranges."""

    def __init__(self, rows: list, partition_fns, order_keys: Sequence[SortKey]):
        n = self.n = len(rows)
        positions = range(1, n)
        none = [False] * max(n - 1, 0)
        part = _changes(partition_fns, rows) if partition_fns else none
        peer = _changes([k.fn for k in order_keys], rows) if order_keys else none
        if partition_fns:  # peer groups never span partitions
            peer = list(map(operator.or_, part, peer)) if order_keys else part
        self.part_bounds = [0, *compress(positions, part), n]
        # peer group g is rows [gb[g], gb[g + 1])
        self.group_bounds = gb = [0, *compress(positions, peer), n]
        self.group_of = list(accumulate(chain((0,), peer))) if n else []
        self.peer_start = list(map(gb.__getitem__, self.group_of))
        self.peer_end = list(map(gb[1:].__getitem__, self.group_of))

    def partitions(self):
        pb = self.part_bounds
        return [(a, b) for a, b in zip(pb, pb[1:]) if a < b]


def frame_bounds(frame: Frame, rows: list, lay: Layout,
                 order_key: SortKey | None) -> tuple[list[int], list[int]]:
    """(fs, fe): row i's frame is [fs[i], fe[i]) before EXCLUDE (empty if fe <= fs)."""
    n = lay.n
    fs, fe = [0] * n, [0] * n
    values = list(map(order_key.fn, rows)) if frame.has_range_offset else None
    for ps, pe in lay.partitions():
        fs[ps:pe] = _bound_slice(frame, True, ps, pe, lay, values, order_key)
        fe[ps:pe] = _bound_slice(frame, False, ps, pe, lay, values, order_key)
    return fs, fe


def _bound_slice(frame: Frame, start: bool, ps: int, pe: int, lay: Layout, values,
                 order_key: SortKey | None) -> list[int]:
    """Frame starts (or ends) of the rows of partition [ps, pe)."""
    kind = frame.start_kind if start else frame.end_kind
    offset = frame.start_offset if start else frame.end_offset
    if kind == "unbounded_preceding":
        return [ps] * (pe - ps)
    if kind == "unbounded_following":
        return [pe] * (pe - ps)
    rows = range(ps, pe)
    if kind == "current_row":
        if frame.mode == "rows":
            return list(rows) if start else list(range(ps + 1, pe + 1))
        return (lay.peer_start if start else lay.peer_end)[ps:pe]
    shift = offset if kind == "following" else -offset
    if frame.mode == "rows":
        shift += 0 if start else 1
        return [min(max(i + shift, ps), pe) for i in rows]
    if frame.mode == "groups":
        gb, group_of = lay.group_bounds, lay.group_of
        first, last = group_of[ps], group_of[pe - 1]
        if start:  # the first row of group g + shift (past the last group: empty)
            return [gb[max(g + shift, first)] if g + shift <= last else pe
                    for g in group_of[ps:pe]]
        return [gb[min(g + shift, last) + 1] if g + shift >= first else ps
                for g in group_of[ps:pe]]
    return _range_slice(start, kind, offset, ps, pe, values, order_key,
                        frame.in_range or in_range)


def _range_slice(start: bool, kind: str, offset, ps: int, pe: int, values: list,
                 key: SortKey, in_range) -> list[int]:
    """RANGE offset bounds: NULL rows are in range of NULL rows only; a non-null row's
    bound is searched among the non-null rows (their values are sorted)."""
    if key.nulls_go_first:
        nn_lo = _first_true(ps, pe, lambda j: values[j] is not None)
        null_lo, null_hi, nn_hi = ps, nn_lo, pe
    else:
        nn_hi = _first_true(ps, pe, lambda j: values[j] is None)
        nn_lo, null_lo, null_hi = ps, nn_hi, pe
    sub = kind == "preceding"
    less = not start
    if key.descending:
        sub, less = not sub, not less
    out = []
    for i in range(ps, pe):
        base = values[i]
        if base is None:
            out.append(null_lo if start else null_hi)
        elif start:  # the first row in range
            out.append(_first_true(nn_lo, nn_hi, lambda j, base=base: in_range(
                values[j], base, offset, sub, less)))
        else:  # the first row past the range
            out.append(_first_true(nn_lo, nn_hi, lambda j, base=base: not in_range(
                values[j], base, offset, sub, less)))
    return out


def frame_members(exclude: str, lay: Layout, i: int, s: int, e: int):
    """Indexes of row i's frame [s, e) after its EXCLUDE clause, in order."""
    if exclude == "no_others":
        return range(s, e)
    if exclude == "current_row":
        a, b, keep = i, i + 1, ()
    else:
        a, b = lay.peer_start[i], lay.peer_end[i]
        keep = (i,) if exclude == "ties" and s <= i < e else ()
    return list(chain(range(s, min(e, a)), keep, range(max(s, b), e)))
