"""Fixture scripts: splitting SQL text into statements and reading their directives.

A fixture is a plain SQL file. A statement ends with `;` at the end of a line (only
whitespace or a `--` comment may follow it); a `;` inside a string, quoted identifier,
comment or dollar-quoted body does not count, and any other `;` in the middle of a line is
rejected so a fixture never sends two statements in one call. Whole-line comments just
before a statement may carry directives for it:

    -- ordered               compare rows in order (default: only with a top-level ORDER BY)
    -- unordered             compare rows as a multiset even though there is an ORDER BY
    -- skip-immusql: reason  run on PostgreSQL only (it prepares PostgreSQL)
    -- params: [1, "x"]      JSON list (or object) of parameters, psycopg-style %s/%(name)s

Rules for fixture authors, so that PostgreSQL's answer is the only right one:
* an ORDER BY must make the order total (end with a unique key), else mark the statement
  `-- unordered`; never LIMIT / DISTINCT ON / ROWS frames / row_number over ties;
* no now(), random(), gen_random_uuid(), version(), OIDs or other server-dependent output;
* a statement whose rows can raise an error must raise the same SQLSTATE whichever bad row
  comes first; avoid errors from constant-only expressions in queries that read no row
  (PostgreSQL folds constants while planning and raises anyway);
* no dates PostgreSQL prints but Python cannot hold (infinity, BC, year > 9999) as results.
IMMUSQL_DIFF_SELF=1 runs every fixture against PostgreSQL twice; it must pass.

The lexer behind this also masks strings and comments so that `is_ordered` can look for a
top-level ORDER BY without being fooled by one in a string, subquery or OVER clause.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path


class FixtureError(ValueError):
    """The fixture text itself is malformed (not a difference between the engines)."""


@dataclass
class Statement:
    sql: str                       # without the terminating `;`
    line: int                      # 1-based line of its first character in the fixture
    ordered: bool | None = None    # None: decide by is_ordered()
    skip_immusql: str | None = None
    params: list | dict | None = None
    source: str = "<string>"

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"

    def rows_ordered(self) -> bool:
        return self.ordered if self.ordered is not None else is_ordered(self.sql)


_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")


def mask(sql: str) -> str:
    """`sql` with the contents of strings, quoted identifiers, dollar-quoted bodies and
    comments replaced by spaces (newlines kept, so offsets and line numbers stay valid).
    Quote characters themselves are kept, so a statement starting with one is not blank.
    Raises FixtureError on an unterminated string or comment."""
    out = list(sql)
    i, n = 0, len(sql)

    def blank(a: int, b: int) -> None:
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = sql[i]
        if c == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            blank(i, end)
            i = end
        elif c == "/" and sql.startswith("/*", i):
            depth, j = 1, i + 2
            while depth and j < n:
                if sql.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif sql.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                raise FixtureError(f"unterminated /* comment at offset {i}")
            blank(i, j)
            i = j
        elif c == "'":
            # E'...' strings (the E/e right before the quote, not part of a longer word)
            # allow backslash escapes; standard strings only double the quote.
            escapes = i > 0 and sql[i - 1] in "eE" and (i < 2 or not _word(sql[i - 2]))
            j = i + 1
            while True:
                if j >= n:
                    raise FixtureError(f"unterminated string literal at offset {i}")
                if escapes and sql[j] == "\\":
                    j += 2
                elif sql[j] == "'":
                    if j + 1 < n and sql[j + 1] == "'":
                        j += 2
                    else:
                        break
                else:
                    j += 1
            blank(i + 1, j)
            i = j + 1
        elif c == '"':
            j = i + 1
            while True:
                j = sql.find('"', j)
                if j < 0:
                    raise FixtureError(f"unterminated quoted identifier at offset {i}")
                if sql.startswith('""', j):
                    j += 2
                else:
                    break
            blank(i + 1, j)
            i = j + 1
        elif c == "$" and (i == 0 or not _word(sql[i - 1])):
            m = _DOLLAR_TAG.match(sql, i)
            if m is None:  # a parameter like $1
                i += 1
                continue
            tag = m.group(0)
            end = sql.find(tag, m.end())
            if end < 0:
                raise FixtureError(f"unterminated dollar-quoted string {tag} at offset {i}")
            blank(m.end(), end)
            i = end + len(tag)
        else:
            i += 1
    return "".join(out)


def _word(c: str) -> bool:
    return c.isalnum() or c in "_$"


_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)


def is_ordered(sql: str) -> bool:
    """True when the statement has an ORDER BY outside any parentheses: the order of its
    rows is then defined (the fixture must make the sort keys unique to be total)."""
    masked = mask(sql)
    depth_at = []
    depth = 0
    for ch in masked:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        depth_at.append(depth)
    return any(depth_at[m.start()] == 0 for m in _ORDER_BY.finditer(masked))


_DIRECTIVE = re.compile(r"^\s*--\s*(ordered|unordered|skip-immusql|params)\b\s*(:?)\s*(.*?)\s*$")


def split(text: str, source: str = "<string>") -> list[Statement]:
    """The statements of a fixture, in order, with their directives and line numbers."""
    masked = mask(text)
    lines = text.split("\n")
    masked_lines = masked.split("\n")
    statements: list[Statement] = []
    pending: dict = {}
    body: list[str] = []
    first_line = 0
    for number, (raw, m) in enumerate(zip(lines, masked_lines), start=1):
        if not body and not m.strip():
            _directive(raw, pending, source, number)
            continue
        if not body:
            first_line = number
        semi = m.find(";")
        if semi >= 0 and m[semi + 1:].strip():
            raise FixtureError(f"{source}:{number}: `;` must end its line (one statement per "
                               "`;`-terminated line group)")
        if semi >= 0:
            body.append(raw[:semi])
            sql = "\n".join(body).strip()
            if not sql:
                raise FixtureError(f"{source}:{number}: empty statement")
            statements.append(Statement(sql=sql, line=first_line, source=source, **pending))
            body, pending = [], {}
        else:
            body.append(raw)
    if body and "\n".join(body).strip():
        raise FixtureError(f"{source}:{first_line}: statement not terminated by `;`")
    if pending:
        raise FixtureError(f"{source}: directive {pending} at the end applies to no statement")
    return statements


def _directive(raw: str, pending: dict, source: str, number: int) -> None:
    m = _DIRECTIVE.match(raw)
    if not m:
        return
    name, colon, arg = m.groups()
    where = f"{source}:{number}"
    if name in ("ordered", "unordered"):
        if colon or arg:
            raise FixtureError(f"{where}: `-- {name}` takes no argument")
        if "ordered" in pending:
            raise FixtureError(f"{where}: two ordering directives for one statement")
        pending["ordered"] = name == "ordered"
    elif name == "skip-immusql":
        if not colon or not arg:
            raise FixtureError(f"{where}: write `-- skip-immusql: reason`")
        pending["skip_immusql"] = arg
    else:
        try:
            value = json.loads(arg)
        except ValueError as e:
            raise FixtureError(f"{where}: params must be JSON: {e}") from None
        if not colon or not isinstance(value, list | dict):
            raise FixtureError(f"{where}: write `-- params: [...]` or `-- params: {{...}}`")
        pending["params"] = value


def load(path: Path) -> list[Statement]:
    return split(path.read_text(encoding="utf-8"), source=path.name)
