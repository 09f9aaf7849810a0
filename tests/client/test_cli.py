"""`immusql verify`, `immusql verify-proof`, `immusql audit` and the standalone verifier
(examples/verify_standalone.py): verdict text and exit status (0 VERIFIED, 1 TAMPERED,
2 could not verify), the auditor's rounds and Prometheus metrics, and the auditor
stopping with a non-zero status at a fork."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from test_attacks import Bank, row_tx, truncate_after

from immusql.cli import main

REPO = Path(__file__).resolve().parents[2]
STANDALONE = REPO / "examples" / "verify_standalone.py"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def table(conn):
    conn.execute("CREATE TABLE acct (id int PRIMARY KEY, owner text, balance numeric)")
    conn.execute("INSERT INTO acct VALUES (1, 'alice', 10.50), (2, 'bob', 3)")
    return "acct"


def test_verify_row_tx_state_and_get(capsys, dsn, state_dir, table, conn):
    opts = ["--dsn", dsn, "--state-dir", str(state_dir)]
    code, out, _ = run(capsys, "verify", "row", table, "id=1", *opts)
    assert code == 0 and out.startswith("VERIFIED row public.acct id=1: live version")
    assert "  owner = 'alice'" in out and "  balance = 10.50" in out
    assert "trusted state: db " in out and "(unsigned)" in out
    code, out, _ = run(capsys, "verify", "state", *opts)
    assert code == 0 and out.startswith("VERIFIED state of ") and "(from tx" in out
    last = conn.execute("SELECT tx_id FROM immusql_state()").fetchone()[0]
    code, out, _ = run(capsys, "verify", "tx", str(last), *opts)
    assert code == 0 and out.startswith(f"VERIFIED tx {last} ")
    assert "row of table" in out
    conn.execute("SELECT * FROM kv_set('k', 'v')")
    code, out, _ = run(capsys, "verify", "get", "k", *opts)
    assert code == 0 and out.startswith("VERIFIED key b'k' = 'v'")
    # could not verify: no such row, a bad argument
    code, out, err = run(capsys, "verify", "row", table, "id=99", *opts)
    assert code == 2 and out == "" and err.startswith("ERROR: could not verify")
    code, _, err = run(capsys, "verify", "row", table, "id", *opts)
    assert code == 2 and "COLUMN=VALUE" in err


def test_verify_says_tampered_when_the_history_does_not_link(capsys, dsn, state_dir, table,
                                                               conn, tmp_path):
    state = conn.execute("SELECT state FROM immusql_state()").fetchone()[0]
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(dict(state, alh="ab" * 32)))
    opts = ["--dsn", dsn, "--state-dir", str(state_dir)]
    code, out, _ = run(capsys, "verify", "state", "--pin", str(forged), *opts)
    assert code == 1 and "TAMPERED (dual-proof)" in out
    code, out, _ = run(capsys, "verify", "row", table, "id=2", *opts)
    assert code == 1 and out.startswith("TAMPERED (dual-proof): row proof: ")
    code, out, _ = run(capsys, "verify", "state", "--forget", *opts)
    assert code == 0 and "trusted on first use" in out


def test_verify_proof_offline_and_the_standalone_verifier(capsys, dsn, state_dir, table,
                                                          tmp_path):
    opts = ["--dsn", dsn, "--state-dir", str(state_dir)]
    first = tmp_path / "first.json"
    assert run(capsys, "verify", "row", table, "id=1", "--save", str(first), *opts)[0] == 0
    trusted = tmp_path / "trusted.json"
    (state_file,) = state_dir.glob("*.json")
    # a later proof, made from the trusted state, checked offline against it
    states = json.loads(state_file.read_text())["databases"]
    trusted.write_text(json.dumps(next(iter(states.values()))))
    second = tmp_path / "second.json"
    assert run(capsys, "verify", "row", table, "id=2", "--save", str(second), *opts)[0] == 0
    code, out, _ = run(capsys, "verify-proof", str(second), "--trusted-state", str(trusted))
    assert code == 0 and out.startswith("VERIFIED row of public.acct: live version")
    assert "  owner = 'bob'" in out
    code, out, _ = run(capsys, "verify-proof", str(first))  # no trusted state: TOFU only
    assert code == 0 and "no trusted state given" in out
    code, out, _ = run(capsys, "verify-proof", str(second), "--trusted-state", str(state_file))
    assert code == 0  # a client state file holding one database works too
    # a tampered copy: one byte of the row value changed
    doc = json.loads(second.read_text())
    value = doc["proof"]["entry"]["value"]
    doc["proof"]["entry"]["value"] = value[:-2] + ("00" if value[-2:] != "00" else "01")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    code, out, _ = run(capsys, "verify-proof", str(bad), "--trusted-state", str(trusted))
    assert code == 1 and out.startswith("TAMPERED (proof)")
    # the third-party verifier: stdlib only, written from the format documents
    ok = subprocess.run([sys.executable, str(STANDALONE), str(second), "--trusted-state",
                         str(trusted)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "owner (type oid 25) = 'bob'" in ok.stdout and "VERIFIED" in ok.stdout
    entry_only = tmp_path / "entry.json"
    entry_only.write_text(json.dumps(json.loads(first.read_text())["proof"]))  # TOFU
    assert subprocess.run([sys.executable, str(STANDALONE), str(entry_only)],
                          capture_output=True).returncode == 0
    for path, state in ((bad, trusted), (first, _newer_state(trusted, tmp_path))):
        # a changed byte; a proof without the dual proof the trusted state needs
        r = subprocess.run([sys.executable, str(STANDALONE), str(path), "--trusted-state",
                            str(state)], capture_output=True, text=True)
        assert r.returncode == 1 and r.stdout.startswith("NOT VERIFIED"), r.stdout


def _newer_state(trusted: Path, tmp_path: Path) -> Path:
    """A trusted state the saved TOFU proof has no dual proof for."""
    state = json.loads(trusted.read_text())
    p = tmp_path / "newer.json"
    p.write_text(json.dumps(dict(state, tx_id=state["tx_id"] + 1)))
    return p


def test_audit_rounds(capsys, dsn, state_dir, table, tmp_path):
    flag = tmp_path / "alerted"
    code, out, _ = run(capsys, "audit", "--dsn", dsn, "--state-dir", str(state_dir),
                       "--interval", "10ms", "--rounds", "3", "--alert-command",
                       f"touch {flag}")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3, out
    assert all(re.search(rf"round {i}: VERIFIED db \S+ tx \d+ alh [0-9a-f]{{64}}$", line)
               for i, line in zip((1, 2, 3), lines))
    assert not flag.exists()
    code, _, err = run(capsys, "audit", "--dsn", dsn, "--interval", "soon")
    assert code == 2 and "interval" in err


def test_audit_serves_prometheus_metrics(dsn, state_dir, table, conn):
    last = conn.execute("SELECT tx_id FROM immusql_state()").fetchone()[0]
    proc = subprocess.Popen([sys.executable, "-m", "immusql", "audit", "--dsn", dsn,
                             "--state-dir", str(state_dir), "--interval", "50ms",
                             "--metrics-port", "0"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        m = re.match(r"metrics on (http://127\.0\.0\.1:\d+/metrics)$", first.strip())
        assert m, first + proc.stderr.read() if proc.poll() is not None else first
        for line in proc.stdout:  # rounds are logged as they end
            if " round 2: " in line:
                assert "VERIFIED" in line
                break
        with urllib.request.urlopen(m.group(1), timeout=30) as r:
            body = r.read().decode()
    finally:
        proc.terminate()
        proc.wait(60)
    db = conn.info.dbname
    rounds = re.search(rf'immusql_audit_rounds_total{{database="{db}",verdict="verified"}} '
                       r"(\S+)", body)
    assert rounds and float(rounds.group(1)) >= 2
    assert f'immusql_audit_last_verified_tx{{database="{db}"}} {float(last)}' in body
    assert f'immusql_audit_tampered{{database="{db}"}} 0.0' in body
    assert "immusql_audit_failures_total" in body or "immusql_audit_failures" in body


def test_audit_exits_non_zero_at_a_fork(tmp_path, capsys):
    bank = Bank(tmp_path)
    bank.start()
    try:
        bank.setup()
        flag = tmp_path / "alerted"
        opts = ["--state-dir", str(tmp_path / "audit"), "--identity", "bank-server",
                "--interval", "10ms", "--alert-command", f"touch {flag}"]
        code, out, _ = run(capsys, "audit", "--dsn", bank.dsn(), "--rounds", "2", *opts)
        assert code == 0 and out.count("VERIFIED") == 2
        keep = row_tx(bank, 2)
        bank.stop()
        truncate_after(bank.store_dir, keep)
        bank.start()
        for i in range(3, 12):  # a different, longer history
            bank.sql("INSERT INTO acct VALUES (%s, 'mallory', 0)", (i,))
        code, out, _ = run(capsys, "audit", "--dsn", bank.dsn(), "--rounds", "3", *opts)
        assert code == 1
        assert re.search(r"round 1: TAMPERED \(dual-proof\) ", out) and "round 2" not in out
        assert flag.exists()
    finally:
        if bank.srv is not None:
            bank.srv.kill()
