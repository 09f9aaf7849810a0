"""COPY's data formats, both directions: PostgreSQL 15's text, CSV and binary framing.

Why a package of its own: the formats are pure byte and string work (no catalog, no
store), and they are where most of COPY's PostgreSQL-compatibility lives: which bytes end
a row, what an escape means, when a CSV field is NULL, and the exact error (SQLSTATE
22P04 bad_copy_file_format, 22021 for invalid UTF-8) with its CONTEXT line
(`COPY t, line 3: "..."`). The engine side (planner/copy.py) turns the rows into values
and writes them.

Input (`CopyParser`, `BinaryParser`): feed arbitrary chunks of bytes (CopyData messages
split rows anywhere, even inside a UTF-8 character or a quoted CSV field); each `feed`
and the final `finish` is a generator of `Batch`es of complete rows, each row a list of
str | None (binary: bytes | None) with as many fields as columns. An error in
the data is raised only after the batch of the rows before it has been yielded, so the
consumer handles (and may fail on) earlier rows first, in PostgreSQL's order.

One job per module, bottom-up:
- options: COPY's option list validated into `CopyOptions` (ProcessCopyOptions).
- messages: CONTEXT lines, the 22P04 error, invalid-UTF-8 detection and its 22021 error.
- batch: `Batch`, the unit every parser yields.
- lines: where a text/CSV line ends (CopyReadLineText) and its line-level errors.
- text, csvformat: a line's fields (CopyReadAttributesText / CopyReadAttributesCSV) and
  each format's str.split fast path.
- parser: `CopyParser`, the incremental text/CSV input that puts those together.
- formatter: `CopyFormatter`, text/CSV output.
- binary: the binary format's framing, both directions.

Callers import from this package only; the names below are its whole interface.
"""

from .batch import Batch
from .binary import BINARY_HEADER, BINARY_SIGNATURE, BINARY_TRAILER, BinaryParser, binary_row
from .formatter import CopyFormatter
from .messages import (
    MAX_DISPLAY,
    column_context,
    first_invalid_utf8,
    invalid_utf8,
    limit_printout,
    line_context,
)
from .options import CopyOptions, clean_encoding_name, parse_options
from .parser import CopyParser

__all__ = [
    "BINARY_HEADER", "BINARY_SIGNATURE", "BINARY_TRAILER", "MAX_DISPLAY", "Batch",
    "BinaryParser", "CopyFormatter", "CopyOptions", "CopyParser", "binary_row",
    "clean_encoding_name", "column_context", "first_invalid_utf8", "invalid_utf8",
    "limit_printout", "line_context", "parse_options",
]
