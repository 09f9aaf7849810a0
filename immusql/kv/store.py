"""The verifiable key-value store: the public embedded API over the logs and the index.

Write path (group commit). A writer hashes its entries outside any lock, then, under the
store lock, takes the next tx id, appends its values to the value log (buffered), builds
the header, appends its alh to the hash tree and queues the encoded record: the tx is
*precommitted*. It then waits on the sync lock. Whoever holds it takes every queued tx,
fsyncs the value log, writes their records to the tx log, fsyncs it, records them in the
tx index and the key index, and only then marks them *committed*. Writers that queued
behind share that one pair of fsyncs. Values are durable before any record naming them,
so a record that survives a crash always has its values.

Readers see committed transactions only: the key index is updated before the committed
mark moves, and every value read is re-hashed against the hash its entry recorded.

Layers: this module may import every `kv` module; none of them imports it back.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from typing import Iterable, Iterator

from . import keyspace as ks
from .ahtree import HashTree
from .appendable import SegmentedFile
from .check import check_store
from .errors import (
    CorruptionError,
    InvalidArgumentError,
    KeyNotFoundError,
    LimitExceededError,
    StorageError,
    StoreClosedError,
    StoreLockedError,
    TxNotFoundError,
)
from .guard import Gate, check_bytes, check_count, check_score, iteration, operation
from .hashing import (
    EMPTY_HASH,
    MD_DELETED_BYTES,
    ZERO_HASH,
    decode_md,
    encode_md,
    is_deleted,
    reads_as_absent,
    sha256,
)
from .header import HEADER_VERSION, TxHeader
from .htree import serialize as serialize_tree
from .htree import tree_size
from .index import MAX_MD, KeyIndex, Version
from .merkle import EntriesTree
from .options import load_or_create, split_options
from .prover import prove_entry, prove_state, prove_tx
from .records import CheckReport, Entry, Reference, Tx, TxRecordEntry, ZEntry
from .recovery import mark_async, recover, reindex, write_checkpoint
from .state import State, load_private_key_pem, public_key_bytes
from .transaction import Transaction
from .txlog import (
    HEAD_READ,
    TXI_RECORD,
    TxEntry,
    decode_head,
    decode_record,
    encode_record,
    leaves_of,
)

log = logging.getLogger("immusql.kv")


class _Pending:
    """A precommitted transaction waiting for the next group fsync."""

    __slots__ = ("header", "entries", "alh", "record", "tree")

    def __init__(self, header, entries, alh, record, tree):
        self.header, self.entries, self.alh = header, entries, alh
        self.record, self.tree = record, tree


class Store:
    """An append-only, verifiable transactional key-value store in one directory.

    Thread-safe; one process at a time per directory. Use `Store.open(path, **options)`.
    """

    # ------------------------------------------------------------------ open / close ----
    @classmethod
    def open(cls, path: str | os.PathLike, **options) -> "Store":
        """Open (or create) the store at `path`.

        Options fixed at creation: segment_size (512 MiB), max_tx_entries (1024),
        max_key_len (1024), max_value_len (32 MiB), db ("defaultdb"). Runtime options:
        synced (True: a commit returns after fsync), signing_key (PEM bytes or path),
        checkpoint_every_txs, checkpoint_every_bytes, header_cache, read_only.
        """
        return cls(os.fspath(path), options)

    def __init__(self, path: str, options: dict):
        creation, self._rt = split_options(options)
        self.path = path
        os.makedirs(path, exist_ok=True)
        self._lock_fd = _lock_directory(path)
        try:
            self._opts = load_or_create(path, creation)
            self._open_files()
            recover(self)
        except BaseException:
            self._release_files()
            raise

    def _open_files(self) -> None:
        seg = self._opts.segment_size
        self._txlog = SegmentedFile(os.path.join(self.path, "tx"), "tx", seg)
        self._vlog = SegmentedFile(os.path.join(self.path, "val"), "val", seg)
        self._txi = SegmentedFile(os.path.join(self.path, "txi"), "txi", seg)
        self._aht_file = SegmentedFile(os.path.join(self.path, "aht"), "aht", seg)
        self._htree = SegmentedFile(os.path.join(self.path, "htree"), "htree", seg)
        self._aht = HashTree(self._aht_file)
        self._index = KeyIndex(os.path.join(self.path, "index"), self._rt.index_map_size)
        self._signer = _load_signer(self._rt.signing_key)
        self._gate = Gate()  # lets close() wait for calls in progress
        self._lock = threading.RLock()  # precommit state
        self._sync_lock = threading.Lock()  # one group fsync at a time
        self._pending: list[_Pending] = []
        # key -> (tx id, md) of the newest precommitted, not yet indexed write of it
        self._pending_keys: dict[bytes, tuple[int, bytes]] = {}
        self._failure: BaseException | None = None
        self._closed = False
        self._headers: OrderedDict[int, TxHeader] = OrderedDict()  # verified, by tx id
        self._headers_lock = threading.Lock()
        # set by recovery:
        self._committed = 0
        self._committed_alh = EMPTY_HASH
        self._committed_ts = 0
        self._committed_vlog_end = 0
        self._precommitted = 0
        self._precommitted_alh = EMPTY_HASH
        self._checkpoint_tx = 0
        self._checkpoint_txlog = 0

    def close(self) -> None:
        """Wait for calls in progress, flush everything, write a checkpoint (so the next
        open is instant) and unlock. Later calls raise StoreClosedError."""
        if not self._gate.close():
            return
        with self._sync_lock, self._lock:  # every writer has returned: nothing is queued
            self._closed = True
            try:
                if self._failure is None and not self._rt.read_only:
                    for f in (self._vlog, self._txlog, self._txi, self._aht_file,
                              self._htree):
                        f.sync()
                    self._index.sync()
                    if self._committed > self._checkpoint_tx:
                        write_checkpoint(self)
                    mark_async(self, False)
            finally:
                self._release_files()

    def _release_files(self) -> None:
        for name in ("_txlog", "_vlog", "_txi", "_aht_file", "_htree", "_index"):
            f = self.__dict__.get(name)
            if f is not None:
                try:
                    f.close()
                except Exception:  # closing must not hide the error that brought us here
                    log.exception("error closing %s", name)
        if getattr(self, "_lock_fd", None) is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def db(self) -> str:
        return self._opts.db

    @property
    def options(self):
        return self._opts

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError("the store is closed")

    def _check_writable(self) -> None:
        self._check_open()
        if self._rt.read_only:
            raise StoreClosedError("the store was opened read-only")
        if self._failure is not None:
            raise StoreClosedError(
                f"the store stopped accepting writes after a storage failure: {self._failure}")

    # ------------------------------------------------------------------------- writes ----
    @operation
    def set(self, entries: Iterable[tuple[bytes, bytes]],
            md: bytes | dict | None = None) -> TxHeader:
        """Commit one transaction of (key, value) pairs; returns its header once durable.

        `md` is entry metadata given to every entry (PROOFS.md section 1): encoded bytes,
        or a dict with `expires_at` (Unix seconds: the entries read as absent from then
        on) and/or `non_indexed` (True: kept in the log and proofs, not in the key index,
        so reachable only through tx_by_id).
        """
        entries = list(entries)
        for key, value in entries:
            self._check_key(key)
            self._check_value(value)
        entry_md = _entry_md(md)
        return self._commit([(ks.plain_key(k), ks.plain_value(v), entry_md)
                             for k, v in entries])

    @operation
    def delete(self, keys: Iterable[bytes]) -> TxHeader:
        """Append a tombstone for each key; every key must currently have a live value."""
        keys = list(keys)
        for key in keys:
            self._check_key(key)

        def keys_live() -> None:  # under the store lock: sees precommitted deletes too
            for key in keys:
                if not self._is_live_locked(ks.plain_key(key)):
                    raise KeyNotFoundError(f"key {key!r} not found")
        return self._commit([(ks.plain_key(k), b"", MD_DELETED_BYTES) for k in keys],
                            precondition=keys_live)

    @operation
    def set_reference(self, ref_key: bytes, key: bytes, at_tx: int | None = None) -> TxHeader:
        """Make `ref_key` read as `key` (its latest version, or the one as of `at_tx`)."""
        self._check_key(ref_key)
        self._check_key(key)
        if ref_key == key:
            raise InvalidArgumentError("a reference cannot point to itself")
        check_count(at_tx, "at_tx")
        at = at_tx or 0
        target = self._read_stored(ks.plain_key(key), at or None)  # must exist, as of at
        if target.value[:1] == ks.REFERENCE:
            raise InvalidArgumentError("a reference cannot point to another reference")
        return self._commit([(ks.plain_key(ref_key), ks.reference_value(key, at), b"")])

    @operation
    def zadd(self, set_key: bytes, score: float, key: bytes,
             at_tx: int | None = None) -> TxHeader:
        """Add `key` to the sorted set `set_key` with `score` (latest, or as of `at_tx`)."""
        self._check_key(set_key)
        self._check_key(key)
        score = check_score(score, "score")
        check_count(at_tx, "at_tx")
        at = at_tx or 0
        self._read_stored(ks.plain_key(key), at or None)  # must exist, as of at
        return self._commit([(ks.zset_key(set_key, score, key, at), b"", b"")])

    def _check_key(self, key) -> None:
        if not isinstance(key, (bytes, bytearray)):
            raise InvalidArgumentError(f"keys are bytes, not {type(key).__name__}")
        if not 1 <= len(key) <= self._opts.max_key_len:
            raise LimitExceededError(
                f"key length {len(key)} outside 1..{self._opts.max_key_len} bytes")

    def _check_value(self, value) -> None:
        if not isinstance(value, (bytes, bytearray)):
            raise InvalidArgumentError(f"values are bytes, not {type(value).__name__}")
        if len(value) > self._opts.max_value_len:
            raise LimitExceededError(
                f"value of {len(value)} bytes exceeds the limit of "
                f"{self._opts.max_value_len} bytes")

    def _commit(self, raw: list[tuple[bytes, bytes, bytes]], precondition=None) -> TxHeader:
        """Commit stored (key, value, md) triples as one transaction."""
        if not raw:
            raise InvalidArgumentError("a transaction needs at least one entry")
        if len(raw) > self._opts.max_tx_entries:
            raise LimitExceededError(f"{len(raw)} entries exceed the limit of "
                                     f"{self._opts.max_tx_entries} per transaction")
        keys = [k for k, _, _ in raw]
        if len(set(keys)) != len(keys):
            raise InvalidArgumentError("a key appears twice in one transaction")
        if any(len(md) > MAX_MD for _, _, md in raw):
            raise InvalidArgumentError("entry metadata is too long")
        self._check_writable()
        sha = hashlib.sha256
        hashes = [sha(v).digest() for _, v, _ in raw]
        tree = EntriesTree(leaves_of([(k, md) for k, _, md in raw], hashes))
        eh = tree.root
        with self._lock:
            self._check_writable()
            if precondition is not None:
                precondition()
            tx_id = self._precommitted + 1
            voff = self._vlog.append(b"".join(v for _, v, _ in raw))
            entries = []
            for (key, value, md), h in zip(raw, hashes):
                n = len(value)
                entries.append(TxEntry(key, md, n, voff, h))
                voff += n
            ts = max(time.time_ns() // 1000, self._last_ts)
            header = TxHeader(id=tx_id, ts=ts, version=HEADER_VERSION, md=b"",
                              nentries=len(entries), eh=eh, bl_tx_id=tx_id - 1,
                              bl_root=self._aht.root() if tx_id > 1 else ZERO_HASH,
                              prev_alh=self._precommitted_alh)
            alh = header.alh()
            self._aht.append(alh)
            self._pending.append(_Pending(header, entries, alh,
                                          encode_record(header, entries, alh),
                                          serialize_tree(tree.levels)))
            for key, _, md in raw:
                self._pending_keys[key] = (tx_id, md)
            self._precommitted, self._precommitted_alh = tx_id, alh
            self._last_ts = ts
        self._wait_committed(tx_id)
        return header

    def _wait_committed(self, tx_id: int) -> None:
        with self._sync_lock:
            if self._committed >= tx_id:
                return
            if self._closed:
                raise StoreClosedError(f"the store closed before tx {tx_id} was written")
            if self._failure is not None:
                raise StoreClosedError(f"commit failed: {self._failure}")
            with self._lock:
                batch, self._pending = self._pending, []
            try:
                self._write_batch(batch)
            except BaseException as e:
                self._failure = e
                log.critical("storage failure, the store no longer accepts writes: %s", e)
                raise StorageError(f"commit of tx {tx_id} failed: {e}") from e

    def _write_batch(self, batch: list[_Pending]) -> None:
        synced = self._rt.synced
        self._vlog.sync() if synced else self._vlog.flush()
        offsets = [self._txlog.append(p.record) for p in batch]
        self._txlog.sync() if synced else self._txlog.flush()
        txi = []
        for off, p in zip(offsets, batch):
            txi.append(TXI_RECORD.pack(off, len(p.record), self._htree.append(p.tree),
                                       p.header.nentries, p.alh))
        self._htree.flush()
        self._txi.append(b"".join(txi))
        self._txi.flush()
        self._aht_file.flush()
        self._index.apply((p.header.id, p.alh, p.entries) for p in batch)
        last = batch[-1]
        vend = max((e.value_offset + e.value_len for p in batch for e in p.entries), default=0)
        with self._lock:
            self._committed_vlog_end = max(self._committed_vlog_end, vend)
            self._committed = last.header.id
            self._committed_alh = last.alh
            self._committed_ts = last.header.ts
            for p in batch:
                for e in p.entries:
                    if self._pending_keys.get(e.key, (0,))[0] == p.header.id:
                        del self._pending_keys[e.key]
        if (self._committed - self._checkpoint_tx >= self._rt.checkpoint_every_txs
                or self._txlog.size() - self._checkpoint_txlog
                >= self._rt.checkpoint_every_bytes):
            write_checkpoint(self)

    # -------------------------------------------------------------------------- reads ----
    def _last_writer(self, stored_key: bytes) -> int:
        """Id of the newest transaction, committed or precommitted, that wrote the key.

        Caller holds the store lock (conflict checks of `Transaction.commit`).
        """
        pending = self._pending_keys.get(stored_key)
        if pending is not None:
            return pending[0]
        v = self._index.latest(stored_key)
        return 0 if v is None else v.tx_id

    def _is_live_locked(self, stored_key: bytes) -> bool:
        """Whether the key's newest write, precommitted ones included, is a live value."""
        pending = self._pending_keys.get(stored_key)
        md = pending[1] if pending is not None else None
        if pending is None:
            v = self._index.latest(stored_key)
            if v is None:
                return False
            md = v.md
        return not reads_as_absent(md, _now())

    def _snapshot(self, at_tx: int | None) -> int:
        self._check_open()
        committed = self._committed
        if at_tx is None:
            return committed
        if not isinstance(at_tx, int) or at_tx < 0:
            raise InvalidArgumentError("at_tx must be a non-negative integer")
        if at_tx > committed:
            raise TxNotFoundError(f"transaction {at_tx} has not been committed "
                                  f"(last committed: {committed})")
        return at_tx

    def _read_value(self, v: Version) -> bytes:
        value = self._vlog.read(v.value_offset, v.value_len)
        if sha256(value) != v.value_hash:
            raise CorruptionError("value does not match its recorded hash",
                                  where=self._vlog.locate(v.value_offset), tx_id=v.tx_id)
        return value

    def _read_stored(self, stored_key: bytes, at_tx: int | None) -> Entry:
        """The live entry (stored value) of a stored key as of at_tx, or KeyNotFoundError."""
        self._check_open()
        v = self._index.latest(stored_key, self._snapshot(at_tx))
        if v is None or reads_as_absent(v.md, _now()):
            raise KeyNotFoundError(f"key {stored_key[1:]!r} not found")
        return Entry(stored_key, self._read_value(v), v.md, v.tx_id, v.revision)

    MAX_REFERENCE_HOPS = 16

    def _to_public(self, e: Entry, at_tx: int | None) -> Entry:
        """Strip the key-space prefix and follow references to the entry they name.

        A reference can only be made to a plain value, but its target may later be
        overwritten by a reference itself; such chains are followed (to a bound).
        """
        first = None
        for _ in range(self.MAX_REFERENCE_HOPS):
            tag = e.value[:1]
            if tag == ks.VALUE:
                return Entry(e.key[1:], e.value[1:], e.md, e.tx_id, e.revision, first)
            if tag != ks.REFERENCE:
                raise CorruptionError("stored value has an unknown type tag", tx_id=e.tx_id)
            target, ref_at = ks.parse_reference(e.value)
            if first is None:
                first = Reference(e.key[1:], e.tx_id, e.revision, ref_at)
            e = self._read_stored(ks.plain_key(target), ref_at or at_tx)
        raise InvalidArgumentError(f"reference {first.key!r} leads through more than "
                                   f"{self.MAX_REFERENCE_HOPS} references")

    @operation
    def get(self, key: bytes, at_tx: int | None = None) -> Entry:
        """The latest live version of `key`, or the one as of transaction `at_tx`."""
        self._check_key(key)
        at = self._snapshot(at_tx)
        return self._to_public(self._read_stored(ks.plain_key(key), at), at)

    @operation
    def history(self, key: bytes, offset: int = 0, limit: int | None = None,
                desc: bool = False) -> list[Entry]:
        """Every version of `key`, tombstones included, oldest first (or newest with desc)."""
        self._check_key(key)
        self._check_open()
        check_count(offset, "offset", optional=False)
        check_count(limit, "limit")
        committed = self._committed
        versions = [v for v in self._index.history(ks.plain_key(key)) if v.tx_id <= committed]
        if desc:
            versions.reverse()
        versions = versions[offset:None if limit is None else offset + limit]
        out = []
        for v in versions:
            value = self._read_value(v)
            if is_deleted(v.md):  # a tombstone may keep the last value (SQL rows do)
                out.append(Entry(key, value[1:], v.md, v.tx_id, v.revision))
            else:
                out.append(Entry(key, value[1:], v.md, v.tx_id, v.revision))
        return out

    @iteration
    def scan(self, prefix: bytes = b"", start: bytes | None = None, end: bytes | None = None,
             desc: bool = False, limit: int | None = None, at_tx: int | None = None
             ) -> Iterator[Entry]:
        """Live entries with key starting with `prefix` and start <= key < end, in key order.

        References are followed: the entry is the target's, with `referenced_by` naming
        the reference (whose key gives the position in the scan); a reference whose target
        is gone is skipped. Runs on one consistent snapshot of the index.
        """
        check_bytes(prefix, "prefix")
        check_bytes(start, "start", optional=True)
        check_bytes(end, "end", optional=True)
        check_count(limit, "limit")
        at = self._snapshot(at_tx)
        low = ks.PLAIN + prefix
        if start is not None and ks.PLAIN + start > low:
            low = ks.PLAIN + start
        high = _prefix_end(ks.PLAIN + prefix)
        if end is not None and (high is None or ks.PLAIN + end < high):
            high = ks.PLAIN + end
        return self._scan(low, high, bool(desc), limit, at)

    def _scan(self, low: bytes, high: bytes | None, desc: bool, limit: int | None, at: int):
        n = 0
        now = _now()
        for v in self._index.scan(low, high, desc, at):
            if limit is not None and n >= limit:
                return
            if reads_as_absent(v.md, now):
                continue
            value = self._read_value(v)
            if value[:1] == ks.REFERENCE:
                try:
                    yield self._to_public(Entry(v.key, value, v.md, v.tx_id, v.revision), at)
                except KeyNotFoundError:
                    continue  # its target was deleted: the reference reads as absent
            else:
                yield Entry(v.key[1:], value[1:], v.md, v.tx_id, v.revision)
            n += 1

    @iteration
    def history_scan(self, prefix: bytes = b"", at_tx: int | None = None) -> Iterator[Entry]:
        """Every version (tombstones included) of every key starting with `prefix`, in key
        order and, within a key, oldest first; versions newer than `at_tx` are left out.
        A tombstone's value is what it kept (empty for `delete`)."""
        check_bytes(prefix, "prefix")
        at = self._snapshot(at_tx)
        low = ks.PLAIN + prefix
        return self._history_scan(low, _prefix_end(low), at)

    def _history_scan(self, low: bytes, high: bytes | None, at: int):
        for v in self._index.scan_versions(low, high, at):
            value = self._read_value(v)
            yield Entry(v.key[1:], value[1:], v.md, v.tx_id, v.revision)

    def tx_at_time(self, ts_us: int) -> int:
        """The last transaction committed at or before Unix time `ts_us` (0: none)."""
        lo, hi = 0, self._committed
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.header(mid).ts <= ts_us:
                lo = mid
            else:
                hi = mid - 1
        return lo

    @iteration
    def zscan(self, set_key: bytes, min_score: float | None = None,
              max_score: float | None = None, desc: bool = False,
              limit: int | None = None, at_tx: int | None = None) -> Iterator[ZEntry]:
        """Members of a sorted set in score order (bounds inclusive), with their entries."""
        self._check_key(set_key)
        min_score = check_score(min_score, "min_score", optional=True)
        max_score = check_score(max_score, "max_score", optional=True)
        check_count(limit, "limit")
        at = self._snapshot(at_tx)
        prefix = ks.zset_prefix(set_key)
        low = prefix + (ks.encode_score(min_score) if min_score is not None else b"")
        high = (prefix + ks.encode_score(max_score) + b"\xff" if max_score is not None
                else _prefix_end(prefix))
        return self._zscan(low, high, bool(desc), limit, at)

    def _zscan(self, low: bytes, high: bytes | None, desc: bool, limit: int | None, at: int):
        n = 0
        for v in self._index.scan(low, high, desc, at):
            if limit is not None and n >= limit:
                return
            if is_deleted(v.md):
                continue
            self._read_value(v)  # the (empty) value is still re-hashed
            set_name, score, key, member_at = ks.parse_zset_key(v.key)
            try:
                entry = self._to_public(
                    self._read_stored(ks.plain_key(key), member_at or at), at)
            except KeyNotFoundError:
                continue  # the member was deleted since
            yield ZEntry(set_name, key, score, member_at, entry)
            n += 1

    # ------------------------------------------------------------------- transactions ----
    @operation
    def tx_by_id(self, tx_id: int) -> Tx:
        """A committed transaction: its header and every entry as stored, values re-hashed."""
        header, entries = self._read_tx(tx_id)
        return Tx(header, [TxRecordEntry(e.key, self._read_value_of(e, tx_id), e.md,
                                         e.value_hash) for e in entries])

    @iteration
    def tx_scan(self, start_tx: int = 1, limit: int | None = None,
                desc: bool = False) -> Iterator[Tx]:
        """Committed transactions from `start_tx` upwards (or downwards with desc)."""
        check_count(start_tx, "start_tx", optional=False)
        check_count(limit, "limit")
        self._check_open()
        committed = self._committed
        first = min(start_tx, committed) if desc else max(start_tx, 1)
        return self._tx_scan(first, -1 if desc else 1, limit, committed)

    def _tx_scan(self, tx_id: int, step: int, limit: int | None, committed: int):
        n = 0
        while 1 <= tx_id <= committed and (limit is None or n < limit):
            yield self.tx_by_id(tx_id)
            tx_id += step
            n += 1

    def _read_value_of(self, e: TxEntry, tx_id: int) -> bytes:
        value = self._vlog.read(e.value_offset, e.value_len)
        if sha256(value) != e.value_hash:
            raise CorruptionError("value does not match its recorded hash",
                                  where=self._vlog.locate(e.value_offset), tx_id=tx_id)
        return value

    def _txi_record(self, tx_id: int) -> tuple[int, int, int, int, bytes]:
        """(offset, size, tree_offset, nentries, alh) of a transaction, from the tx index."""
        raw = self._txi.read((tx_id - 1) * TXI_RECORD.size, TXI_RECORD.size)
        return TXI_RECORD.unpack(raw)

    @operation
    def alh(self, tx_id: int) -> bytes:
        """The alh of committed transaction `tx_id` (H("") for 0)."""
        if tx_id == 0:
            return EMPTY_HASH
        return self.header(tx_id).alh()  # re-hashed against the log, not taken from txi

    def _check_committed(self, tx_id) -> None:
        if not isinstance(tx_id, int) or not 1 <= tx_id <= self._committed:
            raise TxNotFoundError(f"transaction {tx_id} has not been committed "
                                  f"(last committed: {self._committed})")

    def _stored_tree(self, tx_id: int) -> tuple[bytes, int]:
        """The stored entries tree of a transaction and its width (unverified)."""
        _, _, tree_offset, width, _ = self._txi_record(tx_id)
        return self._htree.read(tree_offset, tree_size(width)), width

    def _read_tx(self, tx_id: int) -> tuple[TxHeader, list[TxEntry]]:
        """Read and fully re-hash a committed transaction record."""
        self._check_open()
        self._check_committed(tx_id)
        offset, size, _, _, alh = self._txi_record(tx_id)
        where = self._txlog.locate(offset)
        header, entries, stored_alh = decode_record(self._txlog.read(offset, size), where)
        if header.id != tx_id or stored_alh != alh:
            raise CorruptionError("transaction record does not match the tx index",
                                  where=where, tx_id=tx_id)
        return header, entries

    @operation
    def header(self, tx_id: int) -> TxHeader:
        """A committed transaction's header, re-hashed against its alh (cached)."""
        self._check_open()
        with self._headers_lock:
            h = self._headers.get(tx_id)
            if h is not None:
                self._headers.move_to_end(tx_id)
                return h
        self._check_committed(tx_id)
        offset, size, tree_offset, width, alh = self._txi_record(tx_id)
        where = self._txlog.locate(offset)
        raw = self._txlog.read(offset, min(size, HEAD_READ + 4096))
        eh = self._htree.read(tree_offset + tree_size(width) - 32, 32)
        h = decode_head(raw, eh, where)
        if h.id != tx_id or h.nentries != width or h.alh() != alh:
            raise CorruptionError("transaction header does not match its alh (damaged tx "
                                  "log or entries tree)", where=where, tx_id=tx_id)
        with self._headers_lock:
            self._headers[tx_id] = h
            while len(self._headers) > self._rt.header_cache:
                self._headers.popitem(last=False)
        return h

    # ------------------------------------------------------------------- verification ----
    @operation
    def state(self) -> State:
        """The last committed (db, tx_id, alh), signed when a signing key is configured."""
        self._check_open()
        with self._lock:
            s = State(self._opts.db, self._committed, self._committed_alh)
        return s.sign(self._signer) if self._signer is not None else s

    @property
    def public_key(self) -> bytes | None:
        return None if self._signer is None else public_key_bytes(self._signer)

    @operation
    def verifiable_get(self, key: bytes, since_tx: int | None = None,
                       at_tx: int | None = None, include_deleted: bool = False):
        """The entry of `key` (as stored) with proofs linking it to the trusted `since_tx`.

        `include_deleted`: prove the newest version as of `at_tx` even when it is a
        tombstone (or expired), e.g. to prove that a key was deleted.
        """
        self._check_key(key)
        at = self._snapshot(at_tx)
        v = self._index.latest(ks.plain_key(key), at)
        if v is None or (not include_deleted and reads_as_absent(v.md, _now())):
            raise KeyNotFoundError(f"key {key!r} not found")
        return prove_entry(self, v, since_tx)

    @operation
    def verifiable_set(self, entries: Iterable[tuple[bytes, bytes]],
                       since_tx: int | None = None):
        """Commit like `set`, returning a TxProof of the new transaction from `since_tx`."""
        header = self.set(entries)
        return prove_tx(self, header.id, since_tx)

    @operation
    def verifiable_tx_by_id(self, tx_id: int, since_tx: int | None = None):
        """Transaction `tx_id` with every entry, proven from the trusted `since_tx`."""
        return prove_tx(self, tx_id, since_tx)

    @operation
    def verifiable_state(self, since_tx: int | None = None):
        """(DualProof, State): the current state proven to extend `since_tx` (auditors)."""
        return prove_state(self, since_tx)

    @operation
    def transaction(self):
        """A read-write transaction with snapshot isolation (see `Transaction`)."""
        self._check_writable()
        return Transaction(self)

    @operation
    def check(self, progress=None) -> CheckReport:
        """Re-verify everything on disk; raise CorruptionError at the first problem found."""
        self._check_open()
        return check_store(self, progress)

    @operation
    def rebuild_index(self, progress=None) -> None:
        """Drop the derived key index and rebuild it from the transaction log."""
        with self._sync_lock, self._lock:
            self._check_writable()
            self._index.clear()
            reindex(self, progress)

    @property
    def last_committed(self) -> int:
        return self._committed

    _last_ts = 0


def _now() -> int:
    return int(time.time())


def _entry_md(md) -> bytes:
    """Validated entry metadata bytes for `set` (tombstones only come from `delete`)."""
    if md is None:
        return b""
    if isinstance(md, dict):
        unknown = set(md) - {"expires_at", "non_indexed"}
        if unknown:
            raise InvalidArgumentError(f"unknown entry metadata: {', '.join(sorted(unknown))}")
        expires_at = md.get("expires_at")
        if expires_at is not None and (not isinstance(expires_at, int)
                                       or not 0 <= expires_at < 1 << 64):
            raise InvalidArgumentError("expires_at must be Unix seconds (a u64)")
        return encode_md(expires_at=expires_at, non_indexed=bool(md.get("non_indexed")))
    if not isinstance(md, (bytes, bytearray)):
        raise InvalidArgumentError("md must be bytes or a dict")
    try:
        attrs = decode_md(bytes(md))
    except ValueError as e:
        raise InvalidArgumentError(f"bad entry metadata: {e}") from None
    if attrs.get("deleted"):
        raise InvalidArgumentError("use delete() to write tombstones")
    return bytes(md)


def _prefix_end(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with `prefix` (None: no bound)."""
    p = bytearray(prefix)
    while p and p[-1] == 0xFF:
        p.pop()
    if not p:
        return None
    p[-1] += 1
    return bytes(p)


def _lock_directory(path: str) -> int:
    fd = os.open(os.path.join(path, "LOCK"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StoreLockedError(f"the store at {path} is already open in another process "
                               "(or another Store object)") from None
    return fd


def _load_signer(signing_key):
    if signing_key is None:
        return None
    data = signing_key
    if isinstance(signing_key, str):
        try:
            with open(signing_key, "rb") as f:
                data = f.read()
        except OSError as e:
            raise InvalidArgumentError(f"cannot read signing key {signing_key}: {e}") from e
    return load_private_key_pem(data)
