"""Guards at the store's public edge: the close gate and argument validation.

The gate lets `Store.close()` wait for calls already inside the store to finish before it
releases files, and turns every later call into StoreClosedError (55000), so a call racing
close never reads a closed (or reused) file descriptor. Iterators pass the gate once per
batch of items, so an abandoned scan cannot keep the store from closing.

Argument checks turn a wrong type or range into InvalidArgumentError (22023) at the edge,
never a TypeError from deep inside.
"""

from __future__ import annotations

import functools
import itertools
import math
import threading

from .errors import InvalidArgumentError, StoreClosedError


class Gate:
    def __init__(self):
        self._cond = threading.Condition()
        self._active = 0
        self.closed = False

    def __enter__(self) -> None:
        with self._cond:
            if self.closed:
                raise StoreClosedError("the store is closed")
            self._active += 1

    def __exit__(self, *exc) -> None:
        with self._cond:
            self._active -= 1
            if not self._active:
                self._cond.notify_all()

    def close(self) -> bool:
        """Refuse new calls and wait for running ones; False if it was already closed."""
        with self._cond:
            if self.closed:
                return False
            self.closed = True
            while self._active:
                self._cond.wait()
            return True


def operation(method):
    """A public store call: runs inside the gate."""
    @functools.wraps(method)
    def gated(self, *args, **kwargs):
        with self._gate:
            return method(self, *args, **kwargs)
    return gated


def iteration(method):
    """A public call returning an iterator: arguments checked now, each item in the gate."""
    @functools.wraps(method)
    def gated(self, *args, **kwargs):
        with self._gate:
            items = method(self, *args, **kwargs)
        return _through(self._gate, items)
    return gated


_MAX_BATCH = 256


def _through(gate: Gate, items):
    """Items pulled in batches inside the gate, yielded outside it. Batches grow from 1
    to _MAX_BATCH, so a scan that stops early reads little ahead while a long one pays
    the gate's lock once per batch instead of once per item."""
    size = 1
    while True:
        with gate:
            batch = list(itertools.islice(items, size))
        yield from batch
        if len(batch) < size:
            return
        size = min(size * 2, _MAX_BATCH)


def check_bytes(value, name: str, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, (bytes, bytearray)):
        raise InvalidArgumentError(f"{name} must be bytes, not {type(value).__name__}")


def check_count(value, name: str, optional: bool = True) -> None:
    """A non-negative integer (offset, limit); None allowed when optional."""
    if value is None and optional:
        return
    if type(value) is not int or value < 0:
        raise InvalidArgumentError(f"{name} must be a non-negative integer, not {value!r}")


def check_score(value, name: str, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgumentError(f"{name} must be a number, not {type(value).__name__}")
    try:
        score = float(value)
    except OverflowError:
        raise InvalidArgumentError(f"{name} {value} does not fit a double") from None
    if math.isnan(score):
        raise InvalidArgumentError(f"{name} cannot be NaN")
    return score
