"""bytea functions: get_byte/set_byte, get_bit/set_bit, bit_count, and the encoding
conversions convert_to/convert_from/convert.

Why: PostgreSQL indexes bytes from 0 and bits from the low bit of each byte, and reports
an out-of-range index as 2202E with the valid range; conversions name encodings the
PostgreSQL way ('UTF8', 'LATIN1', 'SQL_ASCII'...), case- and punctuation-insensitively.
"""

from __future__ import annotations

import re

from ..errors import ArraySubscriptError, CharacterNotInRepertoire, InvalidParameterValue
from . import types as T
from .functions import register
from .numerics import UntranslatableCharacter

BYTEA, I4, I8, TXT, NAME = T.BYTEA, T.INT4, T.INT8, T.TEXT, T.NAME

# PostgreSQL encoding name -> Python codec (server encoding is always UTF8)
_CODECS = {"utf8": ("UTF8", "utf-8"), "unicode": ("UTF8", "utf-8"),
           "sqlascii": ("SQL_ASCII", None), "latin1": ("LATIN1", "latin-1"),
           "iso88591": ("LATIN1", "latin-1"), "latin2": ("LATIN2", "iso8859-2"),
           "latin9": ("LATIN9", "iso8859-15"), "win1252": ("WIN1252", "cp1252"),
           "win1251": ("WIN1251", "cp1251"), "koi8r": ("KOI8R", "koi8-r"),
           "eucjp": ("EUC_JP", "euc-jp"), "sjis": ("SJIS", "shift-jis"),
           "gbk": ("GBK", "gbk"), "big5": ("BIG5", "big5")}


def _encoding(name: str, what: str):
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    if key not in _CODECS:
        raise InvalidParameterValue(f'invalid {what} encoding name "{name}"')
    return _CODECS[key]


def _hex(bs: bytes) -> str:
    return " ".join(f"0x{b:02x}" for b in bs)


def _decode(data: bytes, pg: str, codec: str | None) -> str:
    if codec is None:  # SQL_ASCII: bytes taken as they are (must still be valid here)
        codec = "utf-8"
    try:
        s = data.decode(codec)
    except UnicodeDecodeError as e:
        bad = data[e.start:e.start + max(1, min(e.end - e.start, 2))]
        raise CharacterNotInRepertoire(
            f'invalid byte sequence for encoding "{pg}": {_hex(bad)}') from None
    if "\x00" in s:
        raise CharacterNotInRepertoire(f'invalid byte sequence for encoding "{pg}": 0x00')
    return s


def _encode(s: str, pg: str, codec: str | None) -> bytes:
    if codec is None:
        return s.encode("utf-8")
    out = bytearray()
    for ch in s:
        try:
            out += ch.encode(codec)
        except UnicodeEncodeError:
            raise UntranslatableCharacter(
                f'character with byte sequence {_hex(ch.encode("utf-8"))} in encoding '
                f'"UTF8" has no equivalent in encoding "{pg}"') from None
    return bytes(out)


def convert_to(s: str, enc: str) -> bytes:
    return _encode(s, *_encoding(enc, "destination"))


def convert_from(b: bytes, enc: str) -> str:
    return _decode(b, *_encoding(enc, "source"))


def convert(b: bytes, src: str, dst: str) -> bytes:
    source, target = _encoding(src, "source"), _encoding(dst, "destination")
    return _encode(_decode(b, *source), *target)


def _check(n: int, size: int) -> None:
    if not 0 <= n < size:
        raise ArraySubscriptError(f"index {n} out of valid range, 0..{size - 1}")


def get_byte(b: bytes, n: int) -> int:
    _check(n, len(b))
    return b[n]


def set_byte(b: bytes, n: int, v: int) -> bytes:
    _check(n, len(b))
    return b[:n] + bytes([v & 0xFF]) + b[n + 1:]


def get_bit(b: bytes, n: int) -> int:
    _check(n, len(b) * 8)
    return (b[n // 8] >> (n % 8)) & 1


def set_bit(b: bytes, n: int, v: int) -> bytes:
    _check(n, len(b) * 8)
    if v not in (0, 1):
        raise InvalidParameterValue("new bit must be 0 or 1")
    i, mask = n // 8, 1 << (n % 8)
    byte = (b[i] | mask) if v else (b[i] & ~mask)
    return b[:i] + bytes([byte]) + b[i + 1:]


def _reg_all():
    r = register
    r("get_byte", (BYTEA, I4), I4, get_byte)
    r("set_byte", (BYTEA, I4, I4), BYTEA, set_byte)
    r("get_bit", (BYTEA, I8), I4, get_bit)
    r("set_bit", (BYTEA, I8, I4), BYTEA, set_bit)
    r("bit_count", (BYTEA,), I8, lambda b: sum(bin(x).count("1") for x in b))
    r("convert_to", (TXT, NAME), BYTEA, convert_to)
    r("convert_from", (BYTEA, NAME), TXT, convert_from)
    r("convert", (BYTEA, NAME, NAME), BYTEA, convert)


_reg_all()
