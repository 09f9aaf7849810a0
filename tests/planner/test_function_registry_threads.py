"""The function registry fills itself on first use; `immusql serve` makes that first use
from many worker threads at once. A thread must never see a half-filled registry (seen
with pgbench: 16 clients preparing `INSERT ... CURRENT_TIMESTAMP` on a fresh server, two
of them got `function current_timestamp() does not exist`).

The registry is process-wide state, so the check runs in a fresh interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CHILD = """
import threading
from immusql.planner import functions as F
assert not F._loaded
barrier = threading.Barrier(16)
errors = []
def lookup():
    barrier.wait()
    try:
        F.lookup_function("current_timestamp", ())
        F.lookup_function("length", (F.T.TEXT,))
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=lookup) for _ in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(errors), errors[:1])
"""


def test_first_lookups_from_many_threads_see_a_complete_registry():
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          env=env, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0 []"
