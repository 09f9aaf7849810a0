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
