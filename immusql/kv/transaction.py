"""Read-write transactions with snapshot isolation, the base of SQL transactions.

A transaction reads the store as of the last transaction committed when it began (plus
its own writes) and buffers its writes. At commit, under the store's precommit lock, it
fails with ConflictError if any key it read or wrote has been written by a transaction
newer than its snapshot (first committer wins); otherwise its writes become one store
transaction. Keys read through `scan` count as read, so a concurrent change to a row a
transaction looked at is a conflict, not a lost update.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Iterator

from . import keyspace as ks
from .errors import (
    ConflictError,
    InvalidArgumentError,
    KeyNotFoundError,
    LimitExceededError,
)
from .guard import check_count, check_score
from .hashing import MD_DELETED_BYTES, is_deleted
from .header import TxHeader
from .records import Entry, Reference


class Transaction:
    def __init__(self, store):
        self._store = store
        self.snapshot = store.last_committed
        self._writes: dict[bytes, tuple[bytes, bytes]] = {}  # stored key -> (value, md)
        self._reads: set[bytes] = set()
        self._done = False

    def __enter__(self) -> "Transaction":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._done:
            return
        if exc_type is None:
            self.commit()
        else:
            self.rollback()

    def _check_active(self) -> None:
        if self._done:
            raise InvalidArgumentError("the transaction has already been committed or rolled back")

    # ------------------------------------------------------------------------- reads ----
    def get(self, key: bytes) -> Entry:
        """The key's value in this transaction's snapshot, seeing its own writes."""
        with self._store._gate:
            return self._get(key)

    def _get(self, key: bytes) -> Entry:
        self._check_active()
        self._store._check_key(key)
        stored = ks.plain_key(key)
        own = self._writes.get(stored)
        if own is not None:
            value, md = own
            if is_deleted(md):
                raise KeyNotFoundError(f"key {key!r} not found")
            if value[:1] == ks.REFERENCE:
                return self._own_reference(key, value)
            return Entry(key, value[1:], md, 0, 0)
        self._reads.add(stored)
        got = self._store._read_stored(stored, self.snapshot)
        return self._store._to_public(got, self.snapshot)

    def _own_reference(self, key: bytes, value: bytes, hops: int = 0) -> Entry:
        """Read a reference this transaction wrote: its target as this transaction sees
        it (own writes included), or as of the reference's `at_tx`."""
        target, at = ks.parse_reference(value)
        if at:
            e = self._store._to_public(self._store._read_stored(ks.plain_key(target), at),
                                       self.snapshot)
        else:
            own = self._writes.get(ks.plain_key(target))
            if own is not None and own[0][:1] == ks.REFERENCE and not is_deleted(own[1]):
                if hops >= self._store.MAX_REFERENCE_HOPS:
                    raise InvalidArgumentError(f"reference {key!r} leads through too many "
                                               "references")
                e = self._own_reference(target, own[0], hops + 1)
            else:
                e = self._get(target)
        return e._replace(referenced_by=Reference(key, 0, 0, at))

    def scan(self, prefix: bytes = b"", start: bytes | None = None, end: bytes | None = None,
             desc: bool = False, limit: int | None = None, track: bool = True
             ) -> Iterator[Entry]:
        """Like Store.scan on the snapshot, merged with this transaction's own writes.

        Entries written here carry tx_id 0 and revision 0 until commit. `track=False` reads
        without adding the keys to the read set (a statement that only reads, in a
        transaction that will not write, cannot conflict).
        """
        self._check_active()
        committed = self._store.scan(prefix, start, end, desc, None, self.snapshot)
        lo = start if start is not None and start > prefix else prefix
        own = sorted(((k[1:], v) for k, v in self._writes.items()
                      if k[:1] == ks.PLAIN and k[1:].startswith(prefix) and k[1:] >= lo
                      and (end is None or k[1:] < end)), reverse=desc)
        if not own:  # nothing of ours to merge in (the usual read): the snapshot's rows
            yield from self._committed_only(committed, limit, track)
            return
        own_keys = {k for k, _ in own}
        merged = heapq.merge(
            ((_scan_key(e), 1, e) for e in committed),
            ((k, 0, self._own_entry(k, v, md)) for k, (v, md) in own),
            reverse=desc)
        n = 0
        for key, from_store, entry in merged:
            if limit is not None and n >= limit:
                return
            if from_store:
                if track:
                    self._reads.add(ks.plain_key(key))
                if key in own_keys:
                    continue  # shadowed by this transaction's write
            elif entry is None or is_deleted(entry.md):
                continue  # a tombstone, or a reference whose target is gone
            yield entry
            n += 1

    def _committed_only(self, committed, limit: int | None, track: bool) -> Iterator[Entry]:
        if limit is not None:
            committed = itertools.islice(committed, limit)
        if not track:
            yield from committed
            return
        reads, plain_key = self._reads, ks.plain_key
        for entry in committed:
            reads.add(plain_key(_scan_key(entry)))
            yield entry

    def _own_entry(self, key: bytes, value: bytes, md: bytes) -> Entry | None:
        if value[:1] != ks.REFERENCE or is_deleted(md):
            return Entry(key, value[1:], md, 0, 0)
        try:
            return self._own_reference(key, value)
        except KeyNotFoundError:
            return None

    # ------------------------------------------------------------------------ writes ----
    def set(self, key: bytes, value: bytes) -> None:
        self._check_active()
        self._store._check_key(key)
        self._store._check_value(value)
        self._put(ks.plain_key(key), ks.plain_value(value), b"")

    def set_reference(self, ref_key: bytes, key: bytes, at_tx: int | None = None) -> None:
        """Like Store.set_reference, inside the transaction: `key` must exist as this
        transaction sees it (or as of the committed `at_tx`) and not be a reference."""
        self._check_active()
        store = self._store
        store._check_key(ref_key)
        store._check_key(key)
        if ref_key == key:
            raise InvalidArgumentError("a reference cannot point to itself")
        check_count(at_tx, "at_tx")
        at = at_tx or 0
        self._check_target(key, at)
        self._put(ks.plain_key(ref_key), ks.reference_value(key, at), b"")

    def zadd(self, set_key: bytes, score: float, key: bytes, at_tx: int | None = None
             ) -> None:
        """Like Store.zadd, inside the transaction (`key` must exist, as for a reference).
        The member is visible to Store.zscan once the transaction has committed."""
        self._check_active()
        store = self._store
        store._check_key(set_key)
        store._check_key(key)
        score = check_score(score, "score")
        check_count(at_tx, "at_tx")
        at = at_tx or 0
        self._check_target(key, at, reference_ok=True)
        self._put(ks.zset_key(set_key, score, key, at), b"", b"")

    def _check_target(self, key: bytes, at: int, reference_ok: bool = False) -> None:
        """KeyNotFoundError unless `key` has a live value (as of `at` when not 0)."""
        stored = ks.plain_key(key)
        own = None if at else self._writes.get(stored)
        if own is not None:
            if is_deleted(own[1]):
                raise KeyNotFoundError(f"key {key!r} not found")
            value = own[0]
        else:
            if not at:
                self._reads.add(stored)
            value = self._store._read_stored(stored, at or self.snapshot).value
        if not reference_ok and value[:1] == ks.REFERENCE:
            raise InvalidArgumentError("a reference cannot point to another reference")

    def delete(self, key: bytes, last_value: bytes | None = None) -> None:
        """Tombstone `key`; KeyNotFoundError if it has no live value in this transaction.

        `last_value` is kept in the tombstone (the SQL layer keeps the deleted row there,
        so history shows what was deleted); it never reads as live.
        """
        self.get(key)
        value = b"" if last_value is None else ks.plain_value(last_value)
        self._put(ks.plain_key(key), value, MD_DELETED_BYTES)

    def savepoint(self) -> tuple:
        """A token to return to with `rollback_to` (copies the write and read sets)."""
        self._check_active()
        return dict(self._writes), set(self._reads)

    def rollback_to(self, token: tuple) -> None:
        self._check_active()
        writes, reads = token
        self._writes = dict(writes)
        self._reads = set(reads)

    def frozen(self) -> "Transaction":
        """A read-only view of this transaction as it is now: writes made here later stay
        invisible to it (one SQL statement reads the state from its start), while keys
        it reads still count as this transaction's reads for conflict detection."""
        self._check_active()
        view = _FrozenView(self._store)
        view.snapshot, view._writes, view._reads = self.snapshot, dict(self._writes), self._reads
        return view

    @property
    def has_writes(self) -> bool:
        return bool(self._writes)

    def _put(self, stored: bytes, value: bytes, md: bytes) -> None:
        limit = self._store.options.max_tx_entries
        if stored not in self._writes and len(self._writes) >= limit:
            raise LimitExceededError(f"a transaction can write at most {limit} keys")
        self._writes[stored] = (value, md)

    # ------------------------------------------------------------------------ finish ----
    def commit(self) -> TxHeader | None:
        """Commit the writes as one transaction (None if there were none)."""
        with self._store._gate:
            return self._commit()

    def _commit(self) -> TxHeader | None:
        self._check_active()
        self._done = True
        if not self._writes:
            return None
        store, snapshot = self._store, self.snapshot
        touched = self._reads | self._writes.keys()

        def no_conflict() -> None:
            for key in touched:
                if store._last_writer(key) > snapshot:
                    raise ConflictError(
                        f"could not serialize access: key {key[1:]!r} was changed by "
                        f"another transaction since this one began (snapshot tx {snapshot})")

        return store._commit([(k, v, md) for k, (v, md) in self._writes.items()],
                             precondition=no_conflict)

    def rollback(self) -> None:
        self._done = True
        self._writes.clear()
        self._reads.clear()


class _FrozenView(Transaction):
    """Transaction.frozen(): reads only; never committed."""

    def _put(self, stored: bytes, value: bytes, md: bytes) -> None:
        raise InvalidArgumentError("a frozen transaction view cannot write")

    def commit(self) -> TxHeader | None:
        raise InvalidArgumentError("a frozen transaction view cannot commit")


def _scan_key(entry: Entry) -> bytes:
    """The key a scan is ordered by: a reference's own key, not the key it resolves to."""
    return entry.referenced_by.key if entry.referenced_by is not None else entry.key
