"""Fixtures shared by the planner tests."""

from __future__ import annotations

import pytest

from immusql.planner.session import Engine


@pytest.fixture
def engine(tmp_path):
    """An embedded engine on a fresh directory; closed after the test."""
    e = Engine.open(tmp_path / "db")
    yield e
    e.close()
