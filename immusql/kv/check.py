"""`Store.check()`: re-verify every byte the store relies on, and say where it broke.

It walks the transaction log from the first record, re-hashes every transaction and
value, checks the chain (ids, prev_alh, bl_tx_id, bl_root), rebuilds the hash tree in
memory and compares every stored node, compares the tx index with the log, and checks
that the key index holds exactly the versions the log says, field by field.
"""

from __future__ import annotations

import time

from .ahtree import HashTree
from .appendable import MemoryAppendable
from .errors import CorruptionError, IndexCorruptedError
from .hashing import EMPTY_HASH, ZERO_HASH, is_non_indexed, sha256
from .htree import serialize as serialize_tree
from .records import CheckReport
from .txlog import RECORD_PREFIX, TXI_RECORD, decode_record

PROGRESS_EVERY = 1000


def check_store(s, progress=None) -> CheckReport:
    total = s.last_committed  # before the index snapshot, so it holds all of these
    with s._index.reader() as reader:
        return _check(s, progress, total, reader)


def _check(s, progress, total: int, reader) -> CheckReport:
    started = time.monotonic()
    version_of = reader.version_of
    txlog, vlog, index = s._txlog, s._vlog, s._index
    fresh = HashTree(MemoryAppendable("recomputed hash tree"))
    prev_alh, pos = EMPTY_HASH, 0
    entries_seen = value_bytes = indexed = 0
    for tx_id in range(1, total + 1):
        where = txlog.locate(pos)
        body_len, _ = RECORD_PREFIX.unpack(txlog.read(pos, RECORD_PREFIX.size))
        length = RECORD_PREFIX.size + body_len
        header, entries, alh, tree = decode_record(txlog.read(pos, length), where,
                                                   with_tree=True)
        if header.id != tx_id:
            raise CorruptionError(f"expected tx {tx_id}, found tx {header.id}", where=where)
        header.validate()
        if header.prev_alh != prev_alh:
            raise CorruptionError("prev_alh does not chain to the previous transaction",
                                  where=where, tx_id=tx_id)
        if header.bl_root != (fresh.root() if tx_id > 1 else ZERO_HASH):
            raise CorruptionError("bl_root does not match the tree of earlier transactions",
                                  where=where, tx_id=tx_id)
        offset, size, tree_offset, width, txi_alh = s._txi_record(tx_id)
        if (offset, size, width, txi_alh) != (pos, length, header.nentries, alh):
            raise CorruptionError("tx index entry disagrees with the log",
                                  where=s._txi.locate((tx_id - 1) * TXI_RECORD.size),
                                  tx_id=tx_id)
        stored_tree = serialize_tree(tree.levels)
        if s._htree.read(tree_offset, len(stored_tree)) != stored_tree:
            raise CorruptionError("stored entries tree differs from the recomputed one",
                                  where=s._htree.locate(tree_offset), tx_id=tx_id)
        before = fresh._storage.size()
        fresh.append(alh)
        new_nodes = fresh._storage.read(before, fresh._storage.size() - before)
        if s._aht_file.read(before, len(new_nodes)) != new_nodes:
            raise CorruptionError("stored hash tree node differs from the recomputed one",
                                  where=s._aht_file.locate(before), tx_id=tx_id)
        values = _values_of(vlog, entries)
        for i, e in enumerate(entries):
            value = values[i]
            if sha256(value) != e.value_hash:
                raise CorruptionError("value does not match its recorded hash",
                                      where=vlog.locate(e.value_offset), tx_id=tx_id)
            value_bytes += e.value_len
            if is_non_indexed(e.md):
                if version_of(e.key, tx_id) is not None:
                    raise IndexCorruptedError("a non-indexed entry is in the key index",
                                              where=index.path, tx_id=tx_id)
                continue
            indexed += 1
            v = version_of(e.key, tx_id)
            if v is None or (v.entry_index, v.value_offset, v.value_len, v.value_hash,
                             v.md) != (i, e.value_offset, e.value_len, e.value_hash, e.md):
                raise IndexCorruptedError("key index entry missing or wrong for a logged "
                                          "entry (rebuild the index)", where=index.path,
                                          tx_id=tx_id)
        entries_seen += len(entries)
        prev_alh = alh
        pos += length
        if progress is not None and (tx_id % PROGRESS_EVERY == 0 or tx_id == total):
            progress(tx_id, total)
    versions = reader.count_up_to(total)
    if versions != indexed:
        raise IndexCorruptedError(f"the key index holds {versions} versions up to tx {total}, "
                                  f"the log {indexed} indexed entries", where=index.path)
    return CheckReport(total, entries_seen, value_bytes, versions, time.monotonic() - started)


def _values_of(vlog, entries) -> list[bytes]:
    """Every value of a transaction, in one read when they lie back to back (they do
    unless the log was rewritten)."""
    start = entries[0].value_offset
    end = start
    for e in entries:
        if e.value_offset != end:
            return [vlog.read(e.value_offset, e.value_len) for e in entries]
        end += e.value_len
    span = vlog.read(start, end - start)
    return [span[e.value_offset - start:e.value_offset - start + e.value_len] for e in entries]
