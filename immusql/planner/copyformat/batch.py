"""`Batch`: the complete rows a COPY parser yields at a time (text, CSV and binary alike),
with what the consumer needs for messages.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Batch:
    """Complete rows, in input order. rows[i] has one field per column (str | None, or
    bytes | None for binary). linenos[i] is its line number for messages; lines[i] its
    text (the line without its end, for messages) or None (binary). With the parser's
    allow_short, a row may have fewer fields (then `short` is set): the caller converts
    the fields it has, then reports `missing_data` for the first missing one."""

    rows: list
    linenos: object  # list[int] or range
    lines: list | None = None
    short: bool = False  # some rows have fewer fields than columns (allow_short)


