"""The layering rule of DEVELOPERS.md, checked from the import statements.

`immusql.kv` imports nothing of immusql outside itself; pure verification modules do no
I/O (they import neither os nor the storage modules), so a client can verify with them
alone.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "immusql"
PURE = {"hashing", "header", "merkle", "proofs", "state"}
STORAGE = {"appendable", "store", "index", "recovery", "check", "txlog", "ahtree", "htree",
           "prover", "transaction"}


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(level, module) of every import; level > 0 for relative imports."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(0, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append((node.level, node.module or ""))
    return out


KV_FILES = sorted((PACKAGE / "kv").glob("*.py"))


@pytest.mark.parametrize("path", KV_FILES, ids=lambda p: p.name)
def test_kv_imports_nothing_of_ours_outside_kv(path):
    for level, module in imports_of(path):
        assert level <= 1, f"{path.name} reaches outside kv with a relative import"
        if level == 0:
            assert not module.startswith("immusql") or module.startswith("immusql.kv"), \
                f"{path.name} imports {module}"


@pytest.mark.parametrize("name", sorted(PURE & {p.stem for p in KV_FILES}))
def test_pure_modules_do_no_io(name):
    for level, module in imports_of(PACKAGE / "kv" / f"{name}.py"):
        root = module.split(".")[0]
        assert root not in {"os", "io", "lmdb", "fcntl", "shutil"}, f"{name} imports {module}"
        if level == 1:
            assert root not in STORAGE, f"{name} imports the storage module {module}"


def _ours(path: Path) -> set[str]:
    """Top-level immusql packages a module imports (absolute or relative)."""
    pkg = path.parent.relative_to(PACKAGE.parent).parts  # ('immusql', 'planner', ...)
    out = set()
    for level, module in imports_of(path):
        if level == 0:
            if module.startswith("immusql."):
                out.add(module.split(".")[1])
            continue
        base = pkg[:len(pkg) - level + 1] if level <= len(pkg) else ()
        full = list(base) + ([m for m in module.split(".") if m] if module else [])
        if len(full) >= 2 and full[0] == "immusql":
            out.add(full[1])
    return out


ALLOWED = {  # DEVELOPERS.md: pgwire -> planner -> parser, planner -> kv
    "parser": {"parser", "errors", "kv"},  # kv only through immusql.errors' re-exports
    "planner": {"planner", "parser", "kv", "errors"},
    # the verifying client checks with the store's pure functions; it must not share
    # code with the server it checks (no planner, no pgwire): rows are decoded from the
    # format documents. `signing` only reads PEM public keys (it imports kv alone).
    "client": {"client", "kv", "errors", "signing"},
}


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_sql_layers_point_one_way(layer):
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        reached = _ours(path) - ALLOWED[layer]
        assert not reached, f"{path.relative_to(PACKAGE)} imports immusql.{reached}"


def test_signing_stays_below_the_client():
    assert _ours(PACKAGE / "signing.py") <= {"kv"}


def test_parser_does_not_reach_the_store():
    for path in sorted((PACKAGE / "parser").rglob("*.py")):
        assert "kv" not in _ours(path), f"{path.name} imports the store"
