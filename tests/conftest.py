"""Shared fixtures for the immusql test suite.

`store` is opened with a small segment size so that ordinary tests already cross segment
boundaries in every log; `reopen` closes a store and opens the same directory again.
"""

from __future__ import annotations

import pytest

from immusql.kv import Store

# Small enough that a few hundred transactions (or one large value) span several segment
# files of every log, large enough to keep the number of files reasonable.
SMALL_SEGMENT = 64 * 1024


@pytest.fixture
def store_path(tmp_path):
    """The directory of a store that does not exist yet."""
    return tmp_path / "db"


@pytest.fixture
def store(store_path):
    """A fresh store with 64 KiB segments; closed after the test."""
    s = Store.open(store_path, segment_size=SMALL_SEGMENT)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def reopen():
    """`reopen(store, **options) -> Store`: close `store` and open its directory again.

    Stores opened through the helper are closed at the end of the test.
    """
    opened: list[Store] = []

    def _reopen(s: Store, **options) -> Store:
        s.close()
        new = Store.open(s.path, **options)
        opened.append(new)
        return new

    yield _reopen
    for s in opened:
        s.close()
