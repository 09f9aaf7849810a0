"""Opening a store after a clean stop or a crash: checkpoint, tail walk, derived data.

The transaction log is the source of truth; the tx index, the hash tree and the key index
are derived from it. On open:

1. The checkpoint names the last transaction known durable and checked (its offset and
   alh). Its record is re-hashed; a mismatch means committed data changed: refuse to open.
2. The derived tx index and hash tree are checked at the checkpoint; if they disagree they
   are rebuilt from the whole log.
3. Every record after the checkpoint is re-hashed and chained (id, prev_alh, bl_tx_id,
   bl_root). The first record that fails ends the walk. If it lies past the last point the
   tx index shows as acknowledged, it is a torn tail of unacknowledged writes and is cut
   off; before that point it is corruption of committed data, and opening fails.
4. The key index is caught up from the log (or rebuilt if it is ahead or diverged).

Checkpoint file (`checkpoint`, replaced atomically)::

    u64 tx_id, u64 record_offset, u64 txlog_end, u64 vlog_end, 32 alh, u32 crc32
"""

from __future__ import annotations

import logging
import os
import struct
import time
import zlib

from .errors import CorruptionError
from .hashing import EMPTY_HASH, ZERO_HASH, sha256
from .htree import serialize as serialize_tree
from .htree import tree_size
from .txlog import MAX_RECORD, RECORD_PREFIX, TXI_RECORD, decode_record

log = logging.getLogger("immusql.kv")

CHECKPOINT = struct.Struct(">QQQQ32s")
CHECKPOINT_FILE = "checkpoint"
ASYNC_MARKER = "async-commit"  # present while a store runs (or crashed) with synced=False
REINDEX_BATCH_ENTRIES = 100_000


class _Rebuild(Exception):
    """Derived data (tx index or hash tree) disagrees with the log."""


class _Checkpoint:
    def __init__(self, tx_id=0, offset=0, txlog_end=0, vlog_end=0, alh=EMPTY_HASH):
        self.tx_id, self.offset, self.txlog_end = tx_id, offset, txlog_end
        self.vlog_end, self.alh = vlog_end, alh


def write_checkpoint(s) -> None:
    """Record the last committed transaction as durable and checked (caller holds sync lock)."""
    if not s._rt.synced:  # the checkpoint must never point past durable data
        s._vlog.sync()
        s._txlog.sync()
    tx_id = s._committed
    offset, size, _, _, alh = s._txi_record(tx_id)
    body = CHECKPOINT.pack(tx_id, offset, offset + size, s._committed_vlog_end, alh)
    path = os.path.join(s.path, CHECKPOINT_FILE)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(body + struct.pack(">I", zlib.crc32(body)))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    s._checkpoint_tx, s._checkpoint_txlog = tx_id, offset + size


def _read_checkpoint(s) -> _Checkpoint | None:
    path = os.path.join(s.path, CHECKPOINT_FILE)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return None
    body = raw[:CHECKPOINT.size]
    if len(raw) != CHECKPOINT.size + 4 or struct.unpack(">I", raw[-4:])[0] != zlib.crc32(body):
        log.warning("checkpoint file %s is damaged; verifying the whole log instead", path)
        return None
    return _Checkpoint(*CHECKPOINT.unpack(body))


def recover(s) -> None:
    cp = _read_checkpoint(s) or _Checkpoint()
    durable_end = max(cp.txlog_end, _acknowledged_end(s))
    try:
        _recover_from(s, cp, durable_end, trust_derived=True)
    except _Rebuild as e:
        log.warning("rebuilding the tx index and hash tree from the log: %s", e)
        _recover_from(s, _Checkpoint(), durable_end, trust_derived=False)
    s._precommitted, s._precommitted_alh = s._committed, s._committed_alh
    _catch_up_index(s)
    s._checkpoint_tx, s._checkpoint_txlog = cp.tx_id, cp.txlog_end
    if s._rt.read_only:
        return
    s._vlog.sync()  # what the walk kept is now durable, whatever mode wrote it
    s._txlog.sync()
    if s._committed > cp.tx_id:
        write_checkpoint(s)
    mark_async(s, not s._rt.synced)


def _acknowledged_end(s) -> int:
    """End of the last log record the tx index marks as acknowledged.

    In synced mode the tx index is written right after the log's fsync and before a commit
    returns, so a well-formed tx index record that continues the previous one marks log
    bytes that were acknowledged durable, even if they are now damaged: damage there must
    fail the open, not be cut off as a torn tail. (The last records of the tx index itself
    may be torn: a record that does not continue its predecessor is not trusted.)
    Stores last opened with asynchronous commit acknowledged nothing durable past the
    checkpoint, so for them this is 0.
    """
    if os.path.exists(os.path.join(s.path, ASYNC_MARKER)):
        return 0
    count = s._txi.size() // TXI_RECORD.size
    for k in range(count, 0, -1):
        offset, length, _, _, _ = s._txi_record(k)
        if not RECORD_PREFIX.size < length <= MAX_RECORD:
            continue
        if k == 1:
            if offset == 0:
                return length
            continue
        prev_offset, prev_length, _, _, _ = s._txi_record(k - 1)
        if prev_offset + prev_length == offset:
            return offset + length
    return 0


def mark_async(s, on: bool) -> None:
    """While a store runs with synced=False, say so on disk (see `_acknowledged_end`)."""
    path = os.path.join(s.path, ASYNC_MARKER)
    if os.path.exists(path) == on:
        return
    if on:
        with open(path, "wb") as f:
            os.fsync(f.fileno())
    elif os.path.exists(path):
        os.unlink(path)
    fd = os.open(s.path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _recover_from(s, cp: _Checkpoint, durable_end: int, trust_derived: bool) -> None:
    if cp.tx_id:
        _check_at_checkpoint(s, cp)
    else:
        s._txi.truncate(0)
        s._aht.truncate(0)
        s._htree.truncate(0)
    _walk(s, cp, durable_end, trust_derived)


def _check_at_checkpoint(s, cp: _Checkpoint) -> None:
    where = s._txlog.locate(cp.offset)
    if cp.txlog_end > s._txlog.size():
        raise CorruptionError("the transaction log is shorter than its last checkpoint",
                              where=where, tx_id=cp.tx_id)
    header, _, alh = decode_record(s._txlog.read(cp.offset, cp.txlog_end - cp.offset), where)
    if header.id != cp.tx_id or alh != cp.alh:
        raise CorruptionError("the checkpointed transaction changed", where=where,
                              tx_id=cp.tx_id)
    if s._txi.size() < cp.tx_id * TXI_RECORD.size:
        raise _Rebuild("tx index shorter than the checkpoint")
    offset, size, tree_offset, width, alh = s._txi_record(cp.tx_id)
    if (offset, size, alh) != (cp.offset, cp.txlog_end - cp.offset, cp.alh):
        raise _Rebuild("tx index disagrees at the checkpoint")
    tree_end = tree_offset + tree_size(width)
    if s._htree.size() < tree_end or s._htree.read(tree_end - 32, 32) != header.eh:
        raise _Rebuild("entries tree log disagrees at the checkpoint")
    s._txi.truncate(cp.tx_id * TXI_RECORD.size)
    s._htree.truncate(tree_end)
    # The tree of size cp-1 is checked against the header's bl_root; the nodes that leaf
    # cp completes are then recomputed rather than trusted, so the right edge the next
    # commit builds on is never read unchecked from disk.
    aht = s._aht
    if aht.size > cp.tx_id - 1:
        aht.truncate(cp.tx_id - 1)
    while aht.size < cp.tx_id - 1:
        aht.append(s._txi_record(aht.size + 1)[4])
    if (aht.root() if cp.tx_id > 1 else ZERO_HASH) != header.bl_root:
        raise _Rebuild("hash tree disagrees with the checkpointed transaction")
    aht.append(cp.alh)
    s._committed_ts = header.ts


def _walk(s, cp: _Checkpoint, durable_end: int, trust_derived: bool) -> None:
    """Re-hash and chain every record after the checkpoint; cut a torn tail."""
    txlog, aht = s._txlog, s._aht
    size = txlog.size()
    tx_id, prev_alh, pos = cp.tx_id, cp.alh, cp.txlog_end
    vlog_end, ts = cp.vlog_end, s._committed_ts if cp.tx_id else 0
    txi = []
    started = time.monotonic()
    while pos < size:
        where = txlog.locate(pos)
        try:
            if pos + RECORD_PREFIX.size > size:
                raise CorruptionError("partial record prefix", where=where)
            body_len, _ = RECORD_PREFIX.unpack(txlog.read(pos, RECORD_PREFIX.size))
            length = RECORD_PREFIX.size + body_len
            if body_len > MAX_RECORD or pos + length > size:
                raise CorruptionError("partial record", where=where)
            header, entries, alh, tree = decode_record(txlog.read(pos, length), where,
                                                       with_tree=True)
            header.validate()
            if header.id != tx_id + 1 or header.prev_alh != prev_alh:
                raise CorruptionError("transaction chain broken", where=where, tx_id=header.id)
            if pos >= durable_end:  # never acknowledged: its values may not have reached disk
                _check_values(s, entries, header.id)
        except CorruptionError as e:
            if pos >= durable_end:
                log.warning("cutting %d bytes of unacknowledged log tail at %s (%s)",
                            size - pos, where, e)
                txlog.truncate(pos)
                break
            raise CorruptionError(f"committed transaction data is damaged: {e}",
                                  where=where, tx_id=tx_id + 1) from e
        if header.bl_root != (aht.root() if tx_id else ZERO_HASH):
            if trust_derived:
                raise _Rebuild(f"hash tree root disagrees with tx {header.id}")
            raise CorruptionError("bl_root does not match the hash tree of earlier "
                                  "transactions", where=where, tx_id=header.id)
        for e in entries:
            vlog_end = max(vlog_end, e.value_offset + e.value_len)
        aht.append(alh)
        tree_offset = s._htree.append(serialize_tree(tree.levels))
        txi.append(TXI_RECORD.pack(pos, length, tree_offset, header.nentries, alh))
        tx_id, prev_alh, ts = header.id, alh, header.ts
        pos += length
        if len(txi) % 100_000 == 0:
            log.info("recovery: checked %d transactions (%.1fs)", len(txi),
                     time.monotonic() - started)
    if s._vlog.size() < vlog_end:
        raise CorruptionError("the value log is shorter than its transactions need",
                              where=s._vlog.locate(s._vlog.size()), tx_id=tx_id)
    if s._vlog.size() > vlog_end:  # values of transactions that never committed
        s._vlog.truncate(vlog_end)
    s._txi.append(b"".join(txi))
    s._txi.flush()
    s._htree.flush()
    s._aht_file.flush()
    s._committed, s._committed_alh, s._committed_ts = tx_id, prev_alh, ts
    s._committed_vlog_end = vlog_end
    s._last_ts = ts


def _check_values(s, entries, tx_id: int) -> None:
    vlog = s._vlog
    for e in entries:
        if e.value_offset + e.value_len > vlog.size() or \
                sha256(vlog.read(e.value_offset, e.value_len)) != e.value_hash:
            raise CorruptionError("a value of this transaction is missing or incomplete",
                                  where=vlog.locate(e.value_offset), tx_id=tx_id)


def _catch_up_index(s) -> None:
    indexed, alh = s._index.indexed()
    if indexed > s._committed or (indexed and s._txi_record(indexed)[4] != alh):
        log.warning("the key index does not match the log (indexed tx %d, log has %d); "
                    "rebuilding it", indexed, s._committed)
        s._index.clear()
        indexed = 0
    if indexed < s._committed:
        reindex(s, None, indexed + 1)


def reindex(s, progress, start: int = 1) -> None:
    """Apply transactions start..committed to the key index in batches."""
    total = s._committed
    batch, entries = [], 0
    started = time.monotonic()
    for tx_id in range(start, total + 1):
        header, txentries = s._read_tx(tx_id)
        batch.append((tx_id, s._txi_record(tx_id)[4], txentries))
        entries += len(txentries)
        if entries >= REINDEX_BATCH_ENTRIES or tx_id == total:
            s._index.apply(batch)
            batch, entries = [], 0
            if progress is not None:
                progress(tx_id, total)
            elif total - start > 10_000:
                log.info("indexing: %d/%d transactions (%.1fs)", tx_id, total,
                         time.monotonic() - started)
