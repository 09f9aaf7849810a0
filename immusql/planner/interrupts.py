"""Where long-running operators ask whether their statement should stop.

A cancel request or statement_timeout must reach a statement wherever it loops, but the
execution operators know nothing of sessions. The session running a statement registers
itself for its thread; `check()` asks it (PostgreSQL's CHECK_FOR_INTERRUPTS).
"""

from __future__ import annotations

import threading

_local = threading.local()


def running(session) -> None:
    """`session` now runs a statement in this thread (None: nothing does)."""
    _local.session = session


def check() -> None:
    """Raise QueryCanceled (57014) if this thread's statement was cancelled or timed out."""
    session = getattr(_local, "session", None)
    if session is not None:
        session.check_interrupt()
