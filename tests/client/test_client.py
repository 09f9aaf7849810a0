"""The verifying client (immusql.client) against a real server: every happy path, trust on
first use then dual proofs only, the state file shared by instances and processes, and
signatures with the right and a wrong key."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from harness import InProcessServer
from psycopg import errors as pgerrors

from immusql.client import ClientError, StateStore, TamperedError, connect
from immusql.kv import State, generate_signing_key, public_key_bytes
from immusql.signing import write_key_pair

REPO = Path(__file__).resolve().parents[2]


def test_verify_row_trusts_first_then_requires_dual_proofs(conn, dsn, state_dir, dbname):
    conn.execute("CREATE TABLE acct (id int PRIMARY KEY, owner text, balance numeric(12,2))")
    conn.execute("INSERT INTO acct VALUES (1, 'alice', 100.00), (2, 'bob', 50.50)")
    with connect(dsn, state_dir=state_dir) as client:
        assert client.state is None
        row = client.verify_row("acct", 1)
        assert row.proof.dual is None  # trust on first use: nothing to link to
        assert row.values == {"id": 1, "owner": "alice", "balance": Decimal("100.00")}
        assert row.state.db == dbname  # new databases' stores carry their SQL name
        assert not row.deleted and row.unchecked == []
        first = client.state
        assert first is not None and first.tx_id == row.state.tx_id
        conn.execute("UPDATE acct SET balance = 75.25 WHERE id = 2")
        row = client.verify_row("acct", {"id": 2})
        assert row.proof.dual is not None and row.proof.dual.source.id == first.tx_id
        assert row.values["balance"] == Decimal("75.25")
        assert client.state.tx_id > first.tx_id
        # an older row: proven with a dual proof towards the trusted (newer) state
        before = client.state
        row = client.verify_row("acct", 1)
        assert row.tx_id < before.tx_id and client.state == before


def test_every_column_type_decodes_and_matches(conn, dsn, state_dir):
    conn.execute("""CREATE TABLE every (id bigint PRIMARY KEY, s smallint, i int, b boolean,
        r real, d double precision, n numeric, t text, vc varchar(10), ch char(4),
        by bytea, dd date, ts timestamp, tz timestamptz, tm time, ttz timetz,
        iv interval, u uuid, j json, jb jsonb, ai int[], at text[], an numeric[],
        o oid)""")
    u = uuid.uuid4()
    conn.execute("""INSERT INTO every VALUES (-7, -3, 42, true, 0.1, '-0.0', 1.50, 'héllo',
        'v', 'ab', '\\x00ff10', '2020-02-29', '2001-02-03 04:05:06.789',
        '2001-02-03 04:05:06+02', '23:59:59.999999', '10:00:00+05:30',
        '1 year 2 mons 3 days 04:05:06.5', %s, '{"k": [1, 2.5, "x"]}',
        '{"b": 1, "a": null}', ARRAY[[1, NULL], [3, 4]], ARRAY['a', NULL],
        ARRAY[1.10, -2], 99)""", (u,))
    conn.execute("INSERT INTO every (id) VALUES (8)")  # every other column NULL
    with connect(dsn, state_dir=state_dir) as client:
        row = client.verify_row("every", -7)
        v = row.values
        assert v["r"] == pytest.approx(0.1) and str(v["d"]) == "-0.0"
        assert v["n"] == Decimal("1.50") and str(v["n"]) == "1.50"
        assert (v["t"], v["ch"], v["by"]) == ("héllo", "ab  ", b"\x00\xff\x10")
        assert v["dd"] == dt.date(2020, 2, 29)
        assert v["tz"] == dt.datetime(2001, 2, 3, 2, 5, 6, tzinfo=dt.timezone.utc)
        assert v["ttz"].utcoffset() == dt.timedelta(hours=5, minutes=30)
        assert v["u"] == u and v["ai"] == [[1, None], [3, 4]]
        assert v["j"] == {"k": [1, 2.5, "x"]} and v["o"] == 99
        assert row.raw["iv"] == [14, 3, 14_706_500_000]  # the exact stored fields
        assert row.unchecked == []
        row = client.verify_row("every", 8)
        assert [k for k, x in row.values.items() if x is not None] == ["id"]


def test_enum_columns_decode_to_label_oids(conn, dsn, state_dir):
    """An enum column's proven value is its label's OID (the label table is not in the
    schema proof): shown as that OID and left unchecked; an enum primary key still
    verifies, its label OID checked against the proven key."""
    conn.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
    conn.execute("CREATE TABLE moods (m mood PRIMARY KEY, other mood, n int)")
    conn.execute("INSERT INTO moods VALUES ('happy', 'sad', 1), ('ok', NULL, 2)")
    conn.execute("ALTER TYPE mood RENAME VALUE 'happy' TO 'glad'")  # rows keep label OIDs
    oids = dict(conn.execute("SELECT enumlabel, oid::int FROM pg_enum").fetchall())
    with connect(dsn, state_dir=state_dir) as client:
        with pytest.raises(ClientError, match="key="):
            client.verify_row("moods", "glad")
        for label, n in (("glad", 1), ("ok", 2)):
            key = bytes(conn.execute("SELECT _key FROM moods WHERE m = %s::mood",
                                     (label,)).fetchone()[0])
            row = client.verify_row("moods", key=key)
            assert row.values["n"] == n and row.values["m"] == oids[label]
            assert row.unchecked == ["m"] + (["other"] if n == 1 else [])
        assert row.values["other"] is None


def test_composite_keys_hidden_row_ids_and_history(conn, dsn, state_dir):
    conn.execute("CREATE TABLE pair (a text, b numeric, c int, PRIMARY KEY (a, b))")
    conn.execute("INSERT INTO pair VALUES ('x', 10.50, 1), ('y', -2, 2)")
    conn.execute("CREATE TABLE heap (v text)")
    conn.execute("INSERT INTO heap VALUES ('only')")
    key = bytes(conn.execute("SELECT _key FROM heap").fetchone()[0])
    with connect(dsn, state_dir=state_dir) as client:
        assert client.verify_row("pair", ("x", Decimal("10.5"))).values["c"] == 1
        assert client.verify_row("pair", {"a": "y", "b": -2}).values["c"] == 2
        assert client.verify_row("heap", key=key).values == {"v": "only"}
        conn.execute("DELETE FROM pair WHERE a = 'y'")
        with pytest.raises(pgerrors.NoDataFound):
            client.verify_row("pair", ("y", -2))
        gone = client.verify_row("pair", ("y", -2), history=True)
        assert gone.deleted and gone.values["c"] == 2  # the tombstone holds the deleted row
        first = client.verify_row("pair", ("y", -2), history=True, rev=1)
        assert not first.deleted and first.tx_id < gone.tx_id
        old = client.verify_row("pair", ("y", -2), as_of_tx=first.tx_id)
        assert old.tx_id == first.tx_id


def test_verify_tx_and_the_kv_api(conn, dsn, state_dir):
    conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
    with connect(dsn, state_dir=state_dir) as client:
        written = client.verified_set("greeting", "hello")
        assert written.entries == [(b"\x00Kgreeting", b"\x00hello", b"")]
        assert client.state.tx_id == written.tx_id
        got = client.verified_get("greeting")
        assert (got.value, got.tx_id, got.reference) == (b"hello", written.tx_id, None)
        assert got.proof.dual is not None
        client.verified_set(b"greeting", b"bye")
        assert client.verified_get("greeting", at_tx=written.tx_id).value == b"hello"
        conn.execute("SELECT * FROM kv_set_reference('alias', 'greeting')")
        ref = client.verified_get("alias")
        assert ref.value is None and ref.reference == (0, b"greeting")
        conn.execute("INSERT INTO t VALUES (1), (2)")
        last = conn.execute("SELECT tx_id FROM immusql_state()").fetchone()[0]
        tx = client.verify_tx(last)
        assert tx.tx_id == last and len(tx.entries) == 2  # the two rows
        assert client.state.tx_id == last
        assert client.verify_tx(1).tx_id == 1  # an old transaction: linked to the trusted
        assert client.verify_state().tx_id == last


def test_state_persists_across_client_instances(conn, dsn, state_dir):
    conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
    conn.execute("INSERT INTO t VALUES (1)")
    with connect(dsn, state_dir=state_dir) as a:
        a.verify_row("t", 1)
        saved = a.state
    files = sorted(p.name for p in state_dir.iterdir())
    assert len(files) == 2 and files[0].endswith(".json") and files[1].endswith(".lock")
    conn.execute("INSERT INTO t VALUES (2)")
    with connect(dsn, state_dir=state_dir) as b:
        assert b.state == saved
        row = b.verify_row("t", 2)
        assert row.proof.dual.source.id == saved.tx_id  # proven from the saved state
    with connect(dsn, state_dir=state_dir, identity="another-name") as c:
        assert c.state is None  # states are kept per server identity


_WRITER = """
import sys
from immusql.client import connect
dsn, state_dir, name, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with connect(dsn, state_dir=state_dir, identity="shared") as client:
    for i in range(n):
        client.verified_set(f"{name}-{i}", "x")
        client.verified_get(f"{name}-{i}")
print("ok")
"""


def test_processes_share_the_state_file_under_its_lock(conn, dsn, state_dir):
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, dsn, str(state_dir), f"w{i}",
                               "6"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for i in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0 and out.strip() == "ok", err
    last = conn.execute("SELECT tx_id FROM immusql_state()").fetchone()[0]
    # every call held the lock through its round trip, so the last write saved is the last
    store = StateStore(state_dir, "shared")
    (state,) = store.all().values()
    assert state.tx_id == last


_WAITER = """
import sys
from immusql.client import connect
with connect(sys.argv[1], state_dir=sys.argv[2], identity="shared") as client:
    print("calling", flush=True)
    got = client.verified_get("k")
    print(got.proof.dual.target.id if got.proof.dual else 0)
"""


def test_a_verified_call_waits_for_the_lock(conn, dsn, state_dir, dbname):
    conn.execute("SELECT * FROM kv_set('k', 'v')")
    with connect(dsn, state_dir=state_dir, identity="shared") as client:
        client.verified_get("k")
    conn.execute("SELECT * FROM kv_set('other', 'v')")
    newer = State.from_json(conn.execute("SELECT state FROM immusql_state()").fetchone()[0])
    store = StateStore(state_dir, "shared")
    with store.lock():
        child = subprocess.Popen([sys.executable, "-c", _WAITER, dsn, str(state_dir)],
                                 cwd=REPO, stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline() == "calling\n"
        store._write({dbname: newer})  # while the child waits for the lock
    out, _ = child.communicate(timeout=120)
    assert child.returncode == 0
    assert int(out) == newer.tx_id  # it proved from the state written under the lock


def test_a_damaged_state_file_is_refused(conn, dsn, state_dir):
    conn.execute("SELECT * FROM kv_set('k', 'v')")
    with connect(dsn, state_dir=state_dir) as client:
        client.verified_get("k")
        path = client.store.path
    path.write_text(path.read_text().replace('"alh": "', '"alh": "zz', 1))
    with connect(dsn, state_dir=state_dir) as client:
        with pytest.raises(TamperedError) as info:
            client.verified_get("k")
        assert info.value.check == "state-file" and info.value.sqlstate == "XX003"


def test_pinning_a_state_out_of_band(conn, dsn, state_dir, tmp_path):
    conn.execute("SELECT * FROM kv_set('k', 'v1')")
    conn.execute("SELECT * FROM kv_set('k', 'v2')")
    pinned = conn.execute("SELECT state FROM immusql_state()").fetchone()[0]
    conn.execute("SELECT * FROM kv_set('k', 'v3')")
    with connect(dsn, state_dir=state_dir) as client:
        client.pin_state(pinned)
        assert client.state.tx_id == pinned["tx_id"]
        new = client.verify_state()  # linked to the pinned state by a dual proof
        assert new.tx_id == pinned["tx_id"] + 1
    # a pinned state the server's history does not contain
    forged = dict(pinned, alh="00" * 32)
    with connect(dsn, state_dir=tmp_path / "other") as client:
        client.pin_state(forged)
        with pytest.raises(TamperedError) as info:
            client.verify_state()
        assert info.value.check == "dual-proof"
        with pytest.raises(TamperedError):
            client.verified_get("k")
        # a pinned state beyond the server's last transaction: the server rolled back
        client.pin_state(dict(pinned, tx_id=pinned["tx_id"] + 50))
        with pytest.raises(TamperedError) as info:
            client.verify_state()
        assert info.value.check == "rollback"


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    base = tmp_path_factory.mktemp("signed-client")
    key_path = str(base / "signing.pem")
    _, public = write_key_pair(key_path)
    with InProcessServer(base / "data", signing_key=key_path) as s:
        yield s, key_path.replace(".pem", ".pub.pem"), public


def test_signatures_with_the_pinned_key(signed, tmp_path):
    server, pub_path, public = signed
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        c.execute("CREATE TABLE IF NOT EXISTS s (id int PRIMARY KEY, v text)")
        c.execute("INSERT INTO s VALUES (1, 'x') ON CONFLICT DO NOTHING")
    with connect(server.dsn(), state_dir=tmp_path, server_public_key=pub_path) as client:
        assert client.identity.startswith("key:")
        row = client.verify_row("s", 1)
        row.state.verify_signature(public)
        assert client.verify_state().signature is not None
    # offline: a saved proof checks against the pinned key, and fails another
    from immusql.cli import main
    saved = tmp_path / "row.json"
    saved.write_text(json.dumps(row.to_json()))
    assert main(["verify-proof", str(saved), "--public-key", pub_path]) == 0
    other = public_key_bytes(generate_signing_key()).hex()
    assert main(["verify-proof", str(saved), "--public-key", other]) == 1
    with connect(server.dsn(), state_dir=tmp_path, server_public_key=public.hex()) as client:
        assert client.state is not None  # same key, same identity, same state file
    wrong = bytes.fromhex("04" + "11" * 64)  # not even on the curve
    for key in (wrong, public_key_bytes(generate_signing_key())):
        with connect(server.dsn(), state_dir=tmp_path / "w", server_public_key=key) as client:
            with pytest.raises(TamperedError) as info:
                client.verify_row("s", 1)
            assert info.value.check == "signature"
            assert client.state is None  # nothing was saved


def test_an_unsigned_server_fails_a_pinned_key(dsn, conn, tmp_path):
    conn.execute("SELECT * FROM kv_set('k', 'v')")
    key = public_key_bytes(generate_signing_key())
    with connect(dsn, state_dir=tmp_path, server_public_key=key) as client:
        with pytest.raises(TamperedError) as info:
            client.verified_get("k")
        assert info.value.check == "signature"


def test_state_file_format(conn, dsn, state_dir, dbname):
    conn.execute("SELECT * FROM kv_set('k', 'v')")
    with connect(dsn, state_dir=state_dir) as client:
        client.verified_get("k")
        body = json.loads(client.store.path.read_text())
    assert body["format"] == 1 and body["identity"] == client.identity
    assert State.from_json(body["databases"][dbname]).db == dbname
