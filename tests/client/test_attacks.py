"""Attacks, not just happy paths: someone with access to the server's data directory
changes it while the server is stopped, and the server is started again on the changed
files. Each test shows that the verifying client and the auditor, holding the states
they saved before the attack, refuse the changed history on their next call (the server
may also refuse on its own: it reports damage it finds as XX001, which the client turns
into TamperedError too), and that honest proofs of untouched data still verify.

The attacks: a flipped byte of a stored value; a transaction rewritten in place with its
own hashes recomputed; a whole history rewritten so that every hash is consistent (the
forgery a store's own checks cannot see); the log truncated and a different history
appended (rollback, then fork); an older copy of the data directory restored; the
signing key replaced. Then the row-level checks: a proof of another row, a definition of
another table, a changed column value and a changed definition are each rejected.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from dataclasses import replace
from pathlib import Path
from unittest import mock

import msgpack
import psycopg
import pytest
from harness import ServerProcess

from immusql.client import TamperedError, connect
from immusql.client.audit import Auditor
from immusql.kv import Store
from immusql.kv.merkle import root
from immusql.kv.txlog import TXI_RECORD, decode_record, encode_record, entries_leaves
from immusql.signing import write_key_pair

IDENTITY = "bank-server"  # the server's port changes across restarts: name it
DB = "bank"


class Bank:
    """A server process on `data`, a `bank` database, and a client and an auditor that
    each keep their own trusted state in `tmp`."""

    def __init__(self, tmp: Path, *server_args):
        self.tmp = tmp
        self.data = tmp / "data"
        self.server_args = server_args
        self.srv: ServerProcess | None = None
        self.public_key = None

    def start(self, *extra) -> "Bank":
        self.srv = ServerProcess(self.data, *self.server_args, *extra).start()
        return self

    def stop(self) -> None:
        assert self.srv.terminate() == 0, self.srv.output()
        self.srv = None

    def dsn(self, db: str = DB) -> str:
        return self.srv.dsn(db)

    def sql(self, query: str, params=None):
        with psycopg.connect(self.dsn(), autocommit=True) as c:
            cur = c.execute(query, params)
            return cur.fetchall() if cur.description else None

    def setup(self) -> None:
        with psycopg.connect(self.srv.dsn(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {DB}")
            (oid,) = admin.execute("SELECT oid FROM pg_database WHERE datname = %s",
                                   (DB,)).fetchone()
        self.store_dir = self.data / "base" / str(oid)
        assert (self.store_dir / "tx").is_dir()
        self.sql("CREATE TABLE acct (id int PRIMARY KEY, owner text, balance int)")
        for i in range(1, 7):  # one transaction per row
            self.sql("INSERT INTO acct VALUES (%s, %s, %s)", (i, f"owner-{i}-marker", 100 * i))

    def client(self, name: str = "state", **kw):
        return connect(self.dsn(), state_dir=self.tmp / name, identity=IDENTITY,
                       server_public_key=self.public_key, **kw)

    def auditor(self, name: str = "audit-state", sweep: int = 0) -> Auditor:
        return Auditor(self.dsn(), state_dir=self.tmp / name, identity=IDENTITY,
                       server_public_key=self.public_key, sweep=sweep)

    def trust(self) -> int:
        """The client verifies every row and the auditor runs a round: both save a state."""
        with self.client() as c:
            for i in range(1, 7):
                assert c.verify_row("acct", i).values["owner"] == f"owner-{i}-marker"
            tx = c.verify_state().tx_id
        assert self.auditor().round(1).verdict == "VERIFIED"
        return tx

    def last_tx(self) -> int:
        return self.sql("SELECT tx_id FROM immusql_state()")[0][0]


@pytest.fixture
def bank(tmp_path):
    b = Bank(tmp_path)
    b.start()
    b.setup()
    yield b
    if b.srv is not None:
        b.srv.kill()


def expect_tampered(call, *checks):
    """`call()` must raise TamperedError (with one of `checks`, if given)."""
    with pytest.raises(TamperedError) as info:
        call()
    if checks:
        assert info.value.check in checks, info.value
    return info.value


def audit_verdict(bank: Bank, **kw) -> str:
    r = bank.auditor(**kw).round(1)
    return r.verdict if r.verdict != "TAMPERED" else f"TAMPERED:{r.check}"


# ----------------------------------------------------------------- file surgery ------

def _read_logical(directory: Path, offset: int, length: int, seg: int) -> bytes:
    out = b""
    while length:
        n = min(length, seg - offset % seg)
        with open(directory / f"{offset // seg:08d}.{directory.name}", "rb") as f:
            f.seek(offset % seg)
            out += f.read(n)
        offset, length = offset + n, length - n
    return out


def _write_logical(directory: Path, offset: int, data: bytes, seg: int) -> None:
    while data:
        n = min(len(data), seg - offset % seg)
        with open(directory / f"{offset // seg:08d}.{directory.name}", "r+b") as f:
            f.seek(offset % seg)
            f.write(data[:n])
        offset, data = offset + n, data[n:]


def _segment(store_dir: Path) -> int:
    return json.loads((store_dir / "immusql.json").read_text())["segment_size"]


def find_value(store_dir: Path, needle: bytes) -> int:
    """Logical offset of `needle` in the value log (small test stores: one segment)."""
    data = (store_dir / "val" / "00000000.val").read_bytes()
    pos = data.find(needle)
    assert pos >= 0 and data.find(needle, pos + 1) < 0
    return pos


def tx_record(store_dir: Path, tx_id: int):
    seg = _segment(store_dir)
    raw = _read_logical(store_dir / "txi", (tx_id - 1) * TXI_RECORD.size, TXI_RECORD.size, seg)
    offset, size, _, _, _ = TXI_RECORD.unpack(raw)
    return offset, _read_logical(store_dir / "tx", offset, size, seg)


def row_tx(bank: Bank, row_id: int) -> int:
    return bank.sql("SELECT _tx FROM acct WHERE id = %s", (row_id,))[0][0]


def rewrite_value_in_place(store_dir: Path, tx_id: int, old: bytes, new: bytes) -> None:
    """Change a value of transaction `tx_id` in the value log and rewrite that one record
    with a matching value hash, entries root, alh and CRC: it reads back clean on its
    own; only the chain after it (the next prev_alh, the hash tree) still knows better."""
    seg = _segment(store_dir)
    offset, record = tx_record(store_dir, tx_id)
    header, entries, _ = decode_record(record)
    pos = find_value(store_dir, old)
    _write_logical(store_dir / "val", pos, new, seg)
    changed = []
    for e in entries:
        if e.value_offset <= pos < e.value_offset + e.value_len:
            value = _read_logical(store_dir / "val", e.value_offset, e.value_len, seg)
            e = e._replace(value_hash=hashlib.sha256(value).digest())
        changed.append(e)
    header = replace(header, eh=root(entries_leaves(changed)))
    rewritten = encode_record(header, changed, header.alh())
    assert len(rewritten) == len(record)
    _write_logical(store_dir / "tx", offset, rewritten, seg)


def replay(src: Path, dst: Path, upto: int | None = None, change=None) -> None:
    """A store at `dst` with the transactions of `src` (up to `upto`), each with its
    original commit time, passed through `change(tx_id, entries)`: every hash of the
    copy is recomputed, so it is consistent in itself. Unchanged, it is a byte-identical
    prefix of the original history."""
    with Store.open(src, read_only=True) as s:
        opts = s.options
        txs = [s.tx_by_id(t) for t in range(1, (upto or s.last_committed) + 1)]
    creation = {k: getattr(opts, k) for k in ("segment_size", "max_tx_entries",
                                              "max_key_len", "max_value_len", "db")}
    with Store.open(dst, **creation) as d, mock.patch("immusql.kv.store.time") as clock:
        clock.time_ns.return_value = 0  # the store takes max(now, last ts)
        for tx in txs:
            entries = [(e.key, e.value, e.md) for e in tx.entries]
            if change is not None:
                entries = change(tx.id, entries)
            d._last_ts = tx.header.ts
            d._commit(entries)


def truncate_after(store_dir: Path, keep: int) -> None:
    """Cut the tx log after transaction `keep` and delete every derived file (the store
    rebuilds them from the log on open)."""
    seg = _segment(store_dir)
    offset, record = tx_record(store_dir, keep)
    end = offset + len(record)
    for f in sorted((store_dir / "tx").iterdir()):
        start = int(f.stem) * seg
        if start >= end:
            f.unlink()
        elif start + f.stat().st_size > end:
            with open(f, "r+b") as fh:
                fh.truncate(end - start)
    for derived in ("txi", "aht", "htree", "index"):
        shutil.rmtree(store_dir / derived, ignore_errors=True)
    (store_dir / "checkpoint").unlink(missing_ok=True)


# ---------------------------------------------------------------------- attacks -------

def test_flipped_value_byte(bank):
    bank.trust()
    t = row_tx(bank, 3)
    bank.stop()
    pos = find_value(bank.store_dir, b"owner-3-marker")
    _write_logical(bank.store_dir / "val", pos + 6, b"X", _segment(bank.store_dir))
    bank.start()
    with bank.client() as c:
        expect_tampered(lambda: c.verify_row("acct", 3), "server-corruption")
        # untouched rows still verify, from the same trusted state
        for i in (1, 2, 4, 5, 6):
            assert c.verify_row("acct", i).values["owner"] == f"owner-{i}-marker"
        expect_tampered(lambda: c.verify_tx(t), "server-corruption")
        c.verify_tx(t + 1)
    # the auditor's consistency proof does not read values; its sweep does
    assert audit_verdict(bank) == "VERIFIED"
    assert audit_verdict(bank, sweep=100) == "TAMPERED:server-corruption"


def test_transaction_rewritten_in_place_with_its_own_hashes(bank):
    bank.trust()
    t = row_tx(bank, 3)
    bank.stop()
    rewrite_value_in_place(bank.store_dir, t, b"owner-3-marker", b"owner-3-forged")
    srv = ServerProcess(bank.data).start(expect_ready=False)
    # the record reads back clean on its own; the chain after it does not
    started = _wait_started(srv)
    if not started:  # the server's open-time checks refused the damaged chain
        assert "CorruptionError" in srv.output() or "corrupt" in srv.output().lower()
        return
    bank.srv = srv
    with bank.client() as c:
        err = expect_tampered(lambda: c.verify_row("acct", 3))
        assert err.check in ("server-corruption", "dual-proof", "proof")
        # the rewritten tx is cut off from the chain; the head of the chain is untouched,
        # so the state still links and untouched rows still verify
        c.verify_state()
        for i in (1, 2, 4, 5, 6):
            assert c.verify_row("acct", i).values["owner"] == f"owner-{i}-marker"
    # the auditor's consistency proof only sees the head; its sweep reads tx `t` again
    assert audit_verdict(bank) == "VERIFIED"
    assert audit_verdict(bank, sweep=100).startswith("TAMPERED")


def _wait_started(srv: ServerProcess) -> bool:
    for line in srv.proc.stderr:
        srv.log.append(line)
        if "listening on" in line and srv.port is None:
            srv.port = int(line.rsplit("port", 1)[1].split()[0])
        if "ready to accept connections" in line:
            threading.Thread(target=srv._drain, daemon=True).start()
            return True
    srv.proc.wait(60)
    return False


def test_consistent_looking_forgery(bank, tmp_path):
    """Every hash recomputed: the store opens and serves the forged history without a
    complaint, and only a client that remembers a state can tell."""
    trusted_tx = bank.trust()
    t = row_tx(bank, 3)
    bank.stop()

    def change(tx_id, entries):
        if tx_id != t:
            return entries
        out = []
        for k, v, md in entries:
            if v[:2] == b"\x00\x01":  # a row: owner and balance rewritten
                row = msgpack.unpackb(v[2:], strict_map_key=False)
                row[2], row[3] = "owner-3-forged", 999_999
                v = v[:2] + msgpack.packb(row, use_bin_type=True)
            out.append((k, v, md))
        return out
    forged = tmp_path / "forged"
    replay(bank.store_dir, forged, change=change)
    shutil.rmtree(bank.store_dir)
    forged.rename(bank.store_dir)
    bank.start()
    assert bank.sql("SELECT owner, balance FROM acct WHERE id = 3") == [("owner-3-forged",
                                                                          999_999)]
    assert bank.last_tx() == trusted_tx  # same length, same times: only the content differs
    with bank.client() as c:
        expect_tampered(lambda: c.verify_row("acct", 3), "dual-proof")
        expect_tampered(lambda: c.verify_row("acct", 1), "dual-proof")  # the whole history
        expect_tampered(c.verify_state, "dual-proof")
    assert audit_verdict(bank) == "TAMPERED:dual-proof"
    # what trust on first use means: a client with no state cannot tell
    with bank.client(name="fresh") as fresh:
        assert fresh.verify_row("acct", 3).values["owner"] == "owner-3-forged"


def test_truncated_log_then_a_different_history(bank):
    bank.trust()
    keep = row_tx(bank, 3)
    bank.stop()
    with Store.open(bank.store_dir, read_only=True) as s:  # a state inside the kept prefix
        early_state = {"db": s.db, "tx_id": keep, "alh": s.alh(keep).hex()}
    truncate_after(bank.store_dir, keep)
    bank.start()
    assert bank.last_tx() == keep  # rows 4..6 are gone
    with bank.client() as c:
        expect_tampered(lambda: c.verify_row("acct", 1), "rollback")
        expect_tampered(c.verify_state, "rollback")
    assert audit_verdict(bank) == "TAMPERED:rollback"
    # a different history, longer than the trusted one: a fork
    for i in range(4, 12):
        bank.sql("INSERT INTO acct VALUES (%s, 'mallory', 1)", (i,))
    with bank.client() as c:
        expect_tampered(lambda: c.verify_row("acct", 1), "dual-proof")
        expect_tampered(c.verify_state, "dual-proof")
    assert audit_verdict(bank) == "TAMPERED:dual-proof"
    # honest proofs of the untouched prefix still verify from a state inside it
    with bank.client(name="prefix") as c:
        c.pin_state(early_state)
        assert c.verify_row("acct", 2).values["owner"] == "owner-2-marker"
        assert c.verify_state().tx_id == bank.last_tx()


def test_older_copy_of_the_data_directory_restored(bank, tmp_path):
    bank.stop()
    backup = tmp_path / "backup"
    shutil.copytree(bank.data, backup)
    bank.start()
    bank.sql("UPDATE acct SET balance = 0 WHERE id = 6")  # the change the restore undoes
    bank.trust()  # the client and the auditor see the newer history
    bank.stop()
    shutil.rmtree(bank.data)
    shutil.copytree(backup, bank.data)
    bank.start()
    assert bank.sql("SELECT balance FROM acct WHERE id = 6") == [(600,)]
    with bank.client() as c:
        expect_tampered(lambda: c.verify_row("acct", 1), "rollback")
    assert audit_verdict(bank) == "TAMPERED:rollback"
    bank.sql("UPDATE acct SET balance = 5 WHERE id = 2")  # the restored copy moves on
    with bank.client() as c:
        expect_tampered(lambda: c.verify_row("acct", 2), "dual-proof")
    assert audit_verdict(bank) == "TAMPERED:dual-proof"


def test_signing_key_replaced(tmp_path):
    key_a, key_b = str(tmp_path / "a.pem"), str(tmp_path / "b.pem")
    _, public_a = write_key_pair(key_a)
    write_key_pair(key_b)
    bank = Bank(tmp_path, "--signing-key", key_a)
    bank.public_key = public_a
    bank.start()
    try:
        bank.setup()
        bank.trust()
        bank.stop()
        bank.start("--signing-key", key_b)  # the last --signing-key wins
        with bank.client() as c:
            expect_tampered(lambda: c.verify_row("acct", 1), "signature")
            expect_tampered(c.verify_state, "signature")
        assert audit_verdict(bank) == "TAMPERED:signature"
        bank.stop()
        bank.start()  # the right key again: the same history verifies
        with bank.client() as c:
            assert c.verify_row("acct", 1).values["owner"] == "owner-1-marker"
        assert audit_verdict(bank) == "VERIFIED"
    finally:
        if bank.srv is not None:
            bank.srv.kill()


# ------------------------------------------------------------- row-level lies --------

class Liar:
    """Rewrites what the server answers to VERIFY ROW before the client checks it."""

    def __init__(self, client, rewrite):
        self.client, self.rewrite = client, rewrite
        self.real = client._one

    def __enter__(self):
        def lying(query, params, trusted):
            row, names = self.real(query, params, trusted)
            return self.rewrite(list(row), trusted.tx_id), names
        self.client._one = lying
        return self

    def __exit__(self, *exc):
        self.client._one = self.real


def test_row_level_lies_are_rejected(bank):
    bank.sql("CREATE TABLE other (id int PRIMARY KEY, owner text, balance int)")
    bank.sql("INSERT INTO other VALUES (1, 'owner-1-marker', 100)")
    with bank.client() as c:
        c.verify_state()
        honest = c.state

        def proofs_of(table, since):  # valid proofs, from the same trusted state
            row = c.conn.execute(f"VERIFY ROW FROM {table} SINCE TX %s", (since,)).fetchone()
            return list(row[-2:])

        lies = {
            # shown values differ from the proven bytes
            "row-value": lambda row, since: [row[0], "someone else", *row[2:]],
            # a valid proof of another row of the same table
            "row-key": lambda row, since: [*row[:3], *proofs_of("acct WHERE id = 2", since)],
            # a valid definition of another table with the same columns
            "schema": lambda row, since: [*row[:4],
                                          proofs_of("other WHERE id = 1", since)[1]],
        }
        for check, lie in lies.items():
            with Liar(c, lie):
                expect_tampered(lambda: c.verify_row("acct", 1), check)
            assert c.state == honest  # nothing saved
        # a definition whose bytes were altered (a column renamed): its proof breaks

        def altered_definition(row, since):
            sp = row[4]
            desc = msgpack.unpackb(bytes.fromhex(sp["entry"]["value"])[1:],
                                   strict_map_key=False)
            desc["columns"][1][1] = "name"
            sp = {**sp, "entry": {**sp["entry"], "value": "00" + msgpack.packb(
                desc, use_bin_type=True).hex()}}
            return [*row[:4], sp]
        with Liar(c, altered_definition):
            expect_tampered(lambda: c.verify_row("acct", 1), "proof")
        # a row value whose bytes were altered
        with Liar(c, lambda row, since: [*row[:3], {**row[3], "entry": {
                **row[3]["entry"], "value": row[3]["entry"]["value"][:-2] + "00"}}, row[4]]):
            expect_tampered(lambda: c.verify_row("acct", 1), "proof")
        assert c.verify_row("acct", 1).values["owner"] == "owner-1-marker"
