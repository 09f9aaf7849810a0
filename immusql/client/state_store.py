"""Where a client keeps what it trusts: one JSON file per server identity, one state per
database in it, shared safely by every process that uses the same directory.

    <state_dir>/<identity slug>.json   {"format": 1, "identity": "...",
                                        "databases": {"<database>": <state>, ...}}
    <state_dir>/<identity slug>.lock   flock()ed during every verified call

The state object is PROOFS.md section 8's. A verified call holds the lock from reading
the trusted state, through the server round trip, to saving the new one (as immudb's
client does), so two processes never prove from the same old state and then overwrite
each other's newer one. The lock is on a separate file because the state file itself is
replaced on every save: written to a temporary file, fsynced, renamed over the old one,
and the directory fsynced, so a crash leaves the old state or the new, never a torn one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from contextlib import contextmanager
from pathlib import Path

from ..kv.durable import replace_file
from ..kv.errors import ProofError
from ..kv.state import State
from .errors import TamperedError

__all__ = ["StateStore", "default_state_dir", "Slot"]

FORMAT = 1


def default_state_dir() -> Path:
    """$IMMUSQL_STATE_DIR, else ~/.immusql/state."""
    env = os.environ.get("IMMUSQL_STATE_DIR")
    return Path(env) if env else Path.home() / ".immusql" / "state"


class Slot:
    """The trusted state of one database while the store's lock is held."""

    def __init__(self, state: State | None):
        self.state = state
        self.changed = False

    def set(self, new: State) -> None:
        """Adopt `new` if it is newer; a state never moves back."""
        old = self.state
        if old is not None and new.tx_id < old.tx_id:
            raise TamperedError("rollback", f"the trusted state would move back from tx "
                                f"{old.tx_id} to tx {new.tx_id}", tx_id=new.tx_id)
        if old is not None and new.tx_id == old.tx_id:
            if not new.same_point(old):
                raise TamperedError("dual-proof", f"two different states for tx "
                                    f"{new.tx_id}", tx_id=new.tx_id)
            if old.signature is not None or new.signature is None:
                return
        self.state = new
        self.changed = True


class StateStore:
    """Trusted states of one server identity (see the module docstring)."""

    def __init__(self, directory: str | os.PathLike, identity: str):
        if not identity:
            raise ValueError("a server identity is required")
        self.directory = Path(directory)
        self.identity = identity
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", identity)[:48].strip("._") or "server"
        digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
        self.path = self.directory / f"{slug}-{digest}.json"
        self.lock_path = self.directory / f"{slug}-{digest}.lock"
        self._cache: tuple | None = None  # ((dev, ino, size, mtime_ns), states)

    @contextmanager
    def lock(self):
        """Hold the exclusive lock (blocks until other processes and threads let go)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released by close
            yield
        finally:
            os.close(fd)

    @contextmanager
    def slot(self, database: str):
        """`with store.slot(db) as s:` read s.state, s.set(new); saved at a clean exit."""
        with self.lock():
            states = self._read()
            slot = Slot(states.get(database))
            yield slot
            if slot.changed:
                states[database] = slot.state
                self._write(states)

    def get(self, database: str) -> State | None:
        with self.lock():
            return self._read().get(database)

    def put(self, database: str, state: State) -> None:
        """Replace the trusted state (pinning a state obtained out of band)."""
        with self.lock():
            states = self._read()
            states[database] = state
            self._write(states)

    def forget(self, database: str) -> None:
        """Drop the trusted state: the next call trusts on first use again."""
        with self.lock():
            states = self._read()
            if states.pop(database, None) is not None:
                self._write(states)

    def all(self) -> dict[str, State]:
        with self.lock():
            return self._read()

    # ------------------------------------------------------------------ the file ------
    def _read(self) -> dict[str, State]:
        """The states in the file (called with the lock held). A file is replaced, never
        rewritten in place, so an unchanged (inode, size, mtime) is an unchanged file and
        its parse is reused."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return {}
        except OSError as e:
            raise TamperedError("state-file", f"cannot read {self.path}: {e}") from e
        stamp = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        cached = self._cache
        if cached is not None and cached[0] == stamp:
            return dict(cached[1])
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as e:
            raise TamperedError("state-file", f"cannot read {self.path}: {e}") from e
        states = self._parse(text)
        self._cache = (stamp, dict(states))
        return states

    def _parse(self, text: str) -> dict[str, State]:
        try:
            obj = json.loads(text)
            if not isinstance(obj, dict) or obj.get("format") != FORMAT \
                    or not isinstance(obj.get("databases"), dict):
                raise ValueError("not a state file of this format")
            if obj.get("identity") != self.identity:
                raise ValueError(f"it is the state of {obj.get('identity')!r}, "
                                 f"not {self.identity!r}")
            return {db: State.from_json(s) for db, s in obj["databases"].items()}
        except (ValueError, ProofError) as e:
            raise TamperedError("state-file", f"the trusted state file {self.path} is "
                                f"damaged: {e}") from e

    def _write(self, states: dict[str, State]) -> None:
        body = {"format": FORMAT, "identity": self.identity,
                "databases": {db: s.to_json() for db, s in sorted(states.items())}}
        data = (json.dumps(body, indent=1, sort_keys=True) + "\n").encode("utf-8")
        replace_file(self.path, data)
