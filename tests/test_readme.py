"""README's code must stay true: its SQL example runs, and gives what it says."""

import os
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_sql_example_runs(tmp_path, monkeypatch):
    code = re.search(r"## SQL in a few lines\n\n```python\n(.*?)```", README.read_text(),
                     re.S).group(1)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    cur = scope["cur"]
    history = cur.fetchall()  # the last statement: every version of every row
    assert sorted((r[0], str(r[1]), r[4]) for r in history) == [
        (1, "10.00", False), (1, "7.00", False), (2, "5.00", False)]
    assert os.path.isdir(tmp_path / "sqldata")
    scope["conn"].close()
