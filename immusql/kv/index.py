"""The key index: every version of every key, ordered, in LMDB. Derived from the log.

Layout (LMDB environment `index/`):

- db `versions` (dupsort, dupfixed): lmdb key = the stored key (see `encode_key`), one
  76-byte duplicate per version, sorted by tx id (big-endian first field)::

      u64 tx_id, u32 revision (1-based), u32 entry_index (position in its tx),
      u64 value_offset, u32 value_len, 32 value_hash, u8 md_len, 11 md (zero padded),
      u32 crc32 of (stored key || the 72 bytes before it)

  The CRC ties each version to its key, so a damaged index entry is reported as
  corruption instead of being read as another key's data.
- db `long`: LMDB keys are at most 511 bytes. A key longer than 480 bytes is indexed as
  `key[:480] || H(key)[:16]` and its full bytes kept here. Such keys still sort right
  against all shorter keys; among themselves they are re-sorted on scan (see `_runs`).
- db `meta`: `indexed` -> u64 tx_id || alh of the last transaction applied.

The index is written without fsync: after a crash it may lag or be torn, and the store
catches it up or rebuilds it from the log, which is the source of truth.
"""

from __future__ import annotations

import hashlib
import operator
import struct
import zlib
from contextlib import contextmanager
from typing import Iterator, NamedTuple

import lmdb

from .errors import IndexCorruptedError, StorageError
from .hashing import EMPTY_HASH, is_non_indexed

VERSION = struct.Struct(">QIIQI32sB11s")  # everything but the trailing crc
VERSION_SIZE = VERSION.size + 4
assert VERSION.size == 72 and VERSION_SIZE == 76
_TX = struct.Struct(">Q")
_CRC = struct.Struct(">I")
INDEXED = struct.Struct(">Q32s")

_BY_KEY_THEN_TX = operator.itemgetter(0, 1)

SHORT_KEY_MAX = 480
LONG_KEY_SIZE = SHORT_KEY_MAX + 16
MAX_MD = 11


def encode_key(key: bytes) -> bytes:
    if len(key) <= SHORT_KEY_MAX:
        return key
    return key[:SHORT_KEY_MAX] + hashlib.sha256(key).digest()[:16]


class Version(NamedTuple):
    """One indexed version (a tuple: made for every read, so it must be cheap)."""

    key: bytes
    tx_id: int
    revision: int
    entry_index: int
    value_offset: int
    value_len: int
    value_hash: bytes
    md: bytes


class KeyIndex:
    def __init__(self, path: str, map_size: int = 1 << 40):
        try:
            self._env = lmdb.open(path, map_size=map_size, max_dbs=4, sync=False,
                                  metasync=False, readahead=False, max_readers=1024)
            self._versions = self._env.open_db(b"versions", dupsort=True, dupfixed=True)
            self._long = self._env.open_db(b"long")
            self._meta = self._env.open_db(b"meta")
        except lmdb.Error as e:
            raise IndexCorruptedError(f"cannot open the key index: {e}", where=path) from e
        self.path = path

    # -- bookkeeping ----------------------------------------------------------------------
    def indexed(self) -> tuple[int, bytes]:
        """(tx id, alh) of the last transaction applied; (0, H("")) when empty."""
        with self._env.begin(db=self._meta) as txn:
            raw = txn.get(b"indexed")
        if raw is None:
            return 0, EMPTY_HASH
        if len(raw) != INDEXED.size:
            raise IndexCorruptedError("bad index marker", where=self.path)
        return INDEXED.unpack(raw)

    def clear(self) -> None:
        with self._env.begin(write=True) as txn:
            for db in (self._versions, self._long, self._meta):
                txn.drop(db, delete=False)

    def sync(self) -> None:
        self._env.sync(True)

    def close(self) -> None:
        self._env.close()

    # -- writing --------------------------------------------------------------------------
    def apply(self, txs) -> None:
        """Index transactions in order: an iterable of (tx_id, alh, [TxEntry]).

        Versions are visited in key order (one cursor seek per distinct key, pages in
        order), which more than halves the cost for random keys.
        """
        pack, crc32 = VERSION.pack, zlib.crc32
        rows = []
        last = None
        for tx_id, alh, entries in txs:
            rows += [(e.key, tx_id, i, e) for i, e in enumerate(entries)
                     if not (e.md and is_non_indexed(e.md))]
            last = (tx_id, alh)
        rows.sort(key=_BY_KEY_THEN_TX)
        try:
            with self._env.begin(write=True) as txn:
                cur = txn.cursor(self._versions)
                items = []
                prev, n = None, 0
                for key, tx_id, i, e in rows:
                    if key != prev:
                        enc = encode_key(key)
                        if enc is not key:
                            txn.put(enc, key, db=self._long)
                        n = cur.count() if cur.set_key(enc) else 0
                        prev = key
                    n += 1
                    body = pack(tx_id, n, i, e.value_offset, e.value_len, e.value_hash,
                                len(e.md), e.md)
                    items.append((enc, body + _CRC.pack(crc32(key + body))))
                cur.putmulti(items, dupdata=True)
                if last is not None:
                    txn.put(b"indexed", INDEXED.pack(*last), db=self._meta)
        except lmdb.Error as e:
            raise StorageError(f"cannot update the key index: {e}") from e

    # -- reading --------------------------------------------------------------------------
    def _decode(self, key: bytes, raw: bytes) -> Version:
        if len(raw) != VERSION_SIZE or _CRC.unpack_from(raw, 72)[0] != zlib.crc32(key + raw[:72]):
            raise IndexCorruptedError("index entry checksum mismatch",
                                      where=f"{self.path} key {key[:64].hex()}")
        tx_id, rev, idx, voff, vlen, vhash, mdlen, md = VERSION.unpack_from(raw)
        return Version(key, tx_id, rev, idx, voff, vlen, vhash, md[:mdlen])

    def _full_key(self, txn, enc: bytes) -> bytes:
        if len(enc) != LONG_KEY_SIZE:
            return enc
        key = txn.get(enc, db=self._long)
        if key is None or encode_key(key) != enc:
            raise IndexCorruptedError("long key missing from the index",
                                      where=f"{self.path} key {enc[:64].hex()}")
        return key

    def latest(self, key: bytes, at_tx: int | None = None) -> Version | None:
        """The newest version of `key` with tx_id <= at_tx (any tx when at_tx is None)."""
        enc = encode_key(key)
        with self._env.begin(db=self._versions) as txn:
            cur = txn.cursor()
            if not cur.set_key(enc):
                return None
            if enc is not key and self._full_key(txn, enc) != key:
                return None
            return self._version_at(cur, key, enc, at_tx)

    def _version_at(self, cur, key: bytes, enc: bytes, at_tx: int | None) -> Version | None:
        """Search the key's duplicates, checking every record the search stops on.

        LMDB's search trusts the stored order; a damaged tx_id could steer it to the wrong
        version, so both the record it lands on and the one returned are CRC-checked and
        must bracket at_tx.
        """
        if at_tx is None:
            cur.last_dup()
            return self._decode(key, cur.value())
        if cur.set_range_dup(enc, _TX.pack(at_tx + 1)):
            landed = self._decode(key, cur.value())
            if landed.tx_id <= at_tx:
                raise IndexCorruptedError("index versions out of order",
                                          where=f"{self.path} key {key[:64].hex()}")
            if not cur.prev_dup():
                return None
        else:
            cur.last_dup()
        v = self._decode(key, cur.value())
        return v if v.tx_id <= at_tx else None

    def version_of(self, key: bytes, tx_id: int) -> Version | None:
        """The version of `key` written by transaction `tx_id`, if any."""
        with self._env.begin(db=self._versions) as txn:
            return self._version_of(txn, txn.cursor(), key, tx_id)

    @contextmanager
    def reader(self):
        """One read transaction (one consistent snapshot) for a consistency check."""
        with self._env.begin(db=self._versions) as txn:
            yield _Reader(self, txn)

    def _version_of(self, txn, cur, key: bytes, tx_id: int) -> Version | None:
        enc = encode_key(key)
        if not cur.set_range_dup(enc, _TX.pack(tx_id)):
            return None
        if enc is not key and self._full_key(txn, enc) != key:
            return None
        v = self._decode(key, cur.value())
        return v if v.tx_id == tx_id else None

    def history(self, key: bytes) -> list[Version]:
        enc = encode_key(key)
        with self._env.begin(db=self._versions) as txn:
            cur = txn.cursor()
            if not cur.set_key(enc) or (enc is not key and self._full_key(txn, enc) != key):
                return []
            return [self._decode(key, raw) for raw in cur.iternext_dup()]

    def scan(self, low: bytes, high: bytes | None, desc: bool,
             at_tx: int | None) -> Iterator[Version]:
        """Newest version (as of at_tx) of every key with low <= key < high, in key order.

        Runs inside one LMDB read transaction, so the scan sees one consistent index even
        while writers go on. Keys with no version at at_tx are skipped; tombstones are not.
        """
        with self._env.begin(db=self._versions) as txn:
            walker, reader = txn.cursor(), txn.cursor()
            for _, group in self._runs(txn, walker, low, high, desc):
                for k, enc in group:
                    if k < low or (high is not None and k >= high):
                        continue
                    reader.set_key(enc)
                    v = self._version_at(reader, k, enc, at_tx)
                    if v is not None:
                        yield v

    def scan_versions(self, low: bytes, high: bytes | None, at_tx: int) -> Iterator[Version]:
        """Every version with tx_id <= at_tx of every key with low <= key < high."""
        with self._env.begin(db=self._versions) as txn:
            walker, reader = txn.cursor(), txn.cursor()
            for _, group in self._runs(txn, walker, low, high, False):
                for k, enc in group:
                    if k < low or (high is not None and k >= high):
                        continue
                    if not reader.set_key(enc):
                        continue
                    for raw in reader.iternext_dup():
                        v = self._decode(k, raw)
                        if v.tx_id > at_tx:
                            break
                        yield v

    def _runs(self, txn, cur, low: bytes, high: bytes | None, desc: bool):
        """Yield groups [(full key, lmdb key)] in true key order; a group is one short key or
        every long key sharing a 480-byte prefix (sorted by full key)."""
        seek_low = low[:SHORT_KEY_MAX]
        if not desc:
            ok = cur.set_range(seek_low)
            step = cur.next_nodup
        else:
            if high is None:
                ok = cur.last()
            else:
                seek_high = encode_key(high) if len(high) <= SHORT_KEY_MAX else (
                    high[:SHORT_KEY_MAX] + b"\xff" * 16)
                ok = cur.set_range(seek_high)
                ok = cur.prev_nodup() if ok else cur.last()
            step = cur.prev_nodup
        pending: list = []
        pending_prefix = None
        while ok:
            enc = cur.key()
            if high is not None and not desc and _all_at_or_past(enc, high):
                break
            if desc and _all_before(enc, low):
                break
            if len(enc) == LONG_KEY_SIZE:
                prefix = enc[:SHORT_KEY_MAX]
                if pending and prefix != pending_prefix:
                    yield None, sorted(pending, reverse=desc)
                    pending = []
                pending_prefix = prefix
                pending.append((self._full_key(txn, enc), enc))
            else:
                if pending:
                    yield None, sorted(pending, reverse=desc)
                    pending = []
                yield enc, [(enc, enc)]
            ok = step()
        if pending:
            yield None, sorted(pending, reverse=desc)

    def count_versions(self) -> int:
        with self._env.begin(db=self._versions) as txn:
            return txn.stat(self._versions)["entries"]

    def iter_all(self) -> Iterator[Version]:
        """Every version of every key, in (key, tx) order."""
        with self._env.begin(db=self._versions) as txn:
            cur = txn.cursor()
            for enc, raw in cur.iternext(keys=True, values=True):
                yield self._decode(self._full_key(txn, enc), raw)


class _Reader:
    """Lookups inside one LMDB read transaction."""

    def __init__(self, index: KeyIndex, txn):
        self._index, self._txn, self._cur = index, txn, txn.cursor()

    def version_of(self, key: bytes, tx_id: int) -> Version | None:
        return self._index._version_of(self._txn, self._cur, key, tx_id)

    def count_up_to(self, tx_id: int) -> int:
        """Versions written by transactions <= tx_id, each record CRC-checked."""
        crc32, index = zlib.crc32, self._index
        n = 0
        for enc, raw in self._txn.cursor().iternext(keys=True, values=True):
            key = index._full_key(self._txn, enc) if len(enc) == LONG_KEY_SIZE else enc
            if len(raw) != VERSION_SIZE or _CRC.unpack_from(raw, 72)[0] != crc32(key + raw[:72]):
                raise IndexCorruptedError("index entry checksum mismatch",
                                          where=f"{index.path} key {key[:64].hex()}")
            if _TX.unpack_from(raw)[0] <= tx_id:
                n += 1
        return n


def _all_at_or_past(enc: bytes, high: bytes) -> bool:
    """True if this lmdb key, and so every later one, is >= high (conservative)."""
    if len(enc) != LONG_KEY_SIZE:
        return enc >= high
    prefix = enc[:SHORT_KEY_MAX]
    return prefix > high[:SHORT_KEY_MAX] or (len(high) <= SHORT_KEY_MAX and prefix >= high)


def _all_before(enc: bytes, low: bytes) -> bool:
    """True if this lmdb key, and so every earlier one, is < low (conservative)."""
    if len(enc) != LONG_KEY_SIZE:
        return enc < low
    return enc[:SHORT_KEY_MAX] < low[:SHORT_KEY_MAX]
