"""The examples run as their docstrings say and show what they claim."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_example(name: str, tmp_path) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "examples" / name), str(tmp_path / "db")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_sql_quickstart(tmp_path):
    out = run_example("sql_quickstart.py", tmp_path)
    assert "refused: 23514" in out                      # the CHECK, with its SQLSTATE
    assert "(range: id)" in out                          # the planner's key range
    assert "(3, Decimal('0.00'), True," in out           # a delete is a new version
    assert "VERIFY ROW: {'id': 1, 'owner': 'Ann', 'balance': Decimal('70.00')}" in out


def test_kv_quickstart(tmp_path):
    out = run_example("kv_quickstart.py", tmp_path)
    assert "latest:" in out and "history:" in out
