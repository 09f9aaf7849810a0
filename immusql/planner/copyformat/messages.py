"""What COPY's errors say: the CONTEXT lines (CopyFromErrorCallback, with PostgreSQL's
100-byte printout limit), the 22P04 bad_copy_file_format error, and invalid UTF-8
(found and reported as 22021 naming the bad bytes). Shared by every format's parser.
"""

from __future__ import annotations

from ... import errors

MAX_DISPLAY = 100  # PostgreSQL's MAX_COPY_DATA_DISPLAY (bytes)


def limit_printout(s: str) -> str:
    """limit_printout_length: at most 100 bytes, cut at a character boundary, '...'."""
    if len(s) <= MAX_DISPLAY // 4:
        return s
    b = s.encode("utf-8", "surrogatepass")
    if len(b) <= MAX_DISPLAY:
        return s
    return b[:MAX_DISPLAY].decode("utf-8", "ignore") + "..."


def line_context(relname: str, lineno: int, line: str | None = None) -> str:
    """CopyFromErrorCallback for an error about a whole line (its text when known)."""
    if line is None:
        return f"COPY {relname}, line {lineno}"
    return f'COPY {relname}, line {lineno}: "{limit_printout(line)}"'


def column_context(relname: str, lineno: int, column: str, value, binary=False) -> str:
    """CopyFromErrorCallback for an error about one column's value."""
    if binary:
        return f"COPY {relname}, line {lineno}, column {column}"
    if value is None:
        return f"COPY {relname}, line {lineno}, column {column}: null input"
    return f'COPY {relname}, line {lineno}, column {column}: "{limit_printout(value)}"'


def _with_context(err: errors.Error, context: str) -> errors.Error:
    err.context = context
    return err


def _bad_format(message: str, context: str | None = None, hint: str | None = None):
    e = errors.BadCopyFileFormat(message, hint=hint)
    e.context = context
    return e


def _utf8_len(first: int) -> int:
    """pg_utf_mblen: the length a UTF-8 sequence starting with this byte claims."""
    if first < 0x80:
        return 1
    if first & 0xE0 == 0xC0:
        return 2
    if first & 0xF0 == 0xE0:
        return 3
    if first & 0xF8 == 0xF0:
        return 4
    return 1


def invalid_utf8(data: bytes, at: int) -> errors.Error:
    """report_invalid_encoding: 22021 naming the bytes of the bad sequence."""
    n = min(_utf8_len(data[at]), len(data) - at, 8)
    shown = " ".join(f"0x{b:02x}" for b in data[at:at + n])
    return errors.CharacterNotInRepertoire(
        f'invalid byte sequence for encoding "UTF8": {shown}')


def first_invalid_utf8(data: bytes) -> int | None:
    """Offset of the first byte that is not valid UTF-8 for PostgreSQL (NUL included)."""
    nul = data.find(b"\x00")
    end = nul if nul >= 0 else len(data)
    try:
        data[:end].decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start
    return nul if nul >= 0 else None
