"""immusql against PostgreSQL 15: every fixture script, then seeded random queries.

A difference is a failure whose message shows the statement, its fixture line and both
results. Without `immusql.connect` these tests fail (they never skip); IMMUSQL_DIFF_SELF=1
compares PostgreSQL with itself to validate the harness.

Environment:
  IMMUSQL_FUZZ_SEED, IMMUSQL_FUZZ_N  seed and number of generated queries (default 1, 300)
  IMMUSQL_DIFF_REPORT=DIR            write each script's full transcript (every statement,
                                     both outcomes, error messages) to DIR/<name>.txt
"""

from __future__ import annotations

import os
from pathlib import Path

import generator
import pytest
import sqlscript

FIXTURES = sorted((Path(__file__).resolve().parent / "fixtures").glob("*.sql"))
FUZZ_SEED = int(os.environ.get("IMMUSQL_FUZZ_SEED", "1"))
FUZZ_N = int(os.environ.get("IMMUSQL_FUZZ_N", "300"))


def _write_report(result) -> None:
    target = os.environ.get("IMMUSQL_DIFF_REPORT")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        name = result.name.removesuffix(".sql").replace("/", "_")
        (Path(target) / f"{name}.txt").write_text(result.transcript() + "\n")


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture(compare, path):
    result = compare.run(sqlscript.load(path), name=path.name)
    _write_report(result)
    assert result.records, f"{path.name} has no statements"
    if result.mismatches:
        pytest.fail(result.report(), pytrace=False)


def test_generated_queries(compare):
    setup = compare.run(generator.schema_statements(), name="generator-schema")
    failed = [r for r in setup.records if r.pg.failed]
    assert not failed, f"generator schema fails on PostgreSQL: {failed[0].pg.error}"
    if setup.mismatches:
        pytest.fail(setup.report(), pytrace=False)
    result = compare.run(generator.queries(FUZZ_SEED, FUZZ_N),
                         name=f"generated-seed{FUZZ_SEED}-n{FUZZ_N}")
    _write_report(result)
    if result.mismatches:
        pytest.fail(f"re-run with IMMUSQL_FUZZ_SEED={FUZZ_SEED} IMMUSQL_FUZZ_N={FUZZ_N}; "
                    f"`python tests/sql/generator.py {FUZZ_SEED} {FUZZ_N}` prints the "
                    "script\n" + result.report(), pytrace=False)
