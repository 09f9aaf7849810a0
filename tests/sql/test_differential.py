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

HERE = Path(__file__).resolve().parent
FIXTURES = sorted((HERE / "fixtures").glob("*.sql"))
KNOWN_GAPS_FILE = HERE / "known_gaps.txt"
FUZZ_SEED = int(os.environ.get("IMMUSQL_FUZZ_SEED", "1"))
FUZZ_N = int(os.environ.get("IMMUSQL_FUZZ_N", "300"))


def _write_report(result) -> None:
    target = os.environ.get("IMMUSQL_DIFF_REPORT")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        name = result.name.removesuffix(".sql").replace("/", "_")
        (Path(target) / f"{name}.txt").write_text(result.transcript() + "\n")


def known_gaps() -> dict[str, set[int]]:
    """script name -> statement lines that still differ from PostgreSQL (known_gaps.txt).

    Every other statement must match; a listed one that starts matching fails too, so the
    list only ever shrinks. The self-check mode (PostgreSQL vs PostgreSQL) ignores it.
    """
    if os.environ.get("IMMUSQL_DIFF_SELF"):
        return {}
    gaps: dict[str, set[int]] = {}
    for raw in KNOWN_GAPS_FILE.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            name, _, number = line.split()[0].rpartition(":")
            gaps.setdefault(name, set()).add(int(number))
    return gaps


def check(result, gaps: set[int], rerun: str = "") -> None:
    unexpected = [r for r in result.mismatches if r.stmt.line not in gaps]
    fixed = sorted(gaps - {r.stmt.line for r in result.mismatches})
    if unexpected:
        result.records = [r for r in result.records if r.stmt.line not in gaps]
        pytest.fail(rerun + result.report(), pytrace=False)
    if fixed:
        pytest.fail(f"{result.name}: statements at lines {fixed} now match PostgreSQL: "
                    f"remove them from {KNOWN_GAPS_FILE.name}", pytrace=False)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture(compare, path):
    result = compare.run(sqlscript.load(path), name=path.name)
    _write_report(result)
    assert result.records, f"{path.name} has no statements"
    check(result, known_gaps().get(path.name, set()))


def test_generated_queries(compare):
    setup = compare.run(generator.schema_statements(), name="generator-schema")
    failed = [r for r in setup.records if r.pg.failed]
    assert not failed, f"generator schema fails on PostgreSQL: {failed[0].pg.error}"
    if setup.mismatches:
        pytest.fail(setup.report(), pytrace=False)
    name = f"generated-seed{FUZZ_SEED}-n{FUZZ_N}"
    result = compare.run(generator.queries(FUZZ_SEED, FUZZ_N), name=name)
    _write_report(result)
    check(result, known_gaps().get(name, set()),
          f"re-run with IMMUSQL_FUZZ_SEED={FUZZ_SEED} IMMUSQL_FUZZ_N={FUZZ_N}; "
          f"`python tests/sql/generator.py {FUZZ_SEED} {FUZZ_N}` prints the script\n")
