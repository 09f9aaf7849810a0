"""Statement results as protocol messages: RowDescription and DataRow.

Encoding rows is the per-row hot path of every query, so encoders are built once per
column (and cached per session for the settings they depend on) and a row becomes one
message with a single join.
"""

from __future__ import annotations

import logging
import struct

from .. import errors
from . import codecs
from .messages import row_description

log = logging.getLogger("immusql.pgwire")
_I16 = struct.Struct("!h")
_I32 = struct.Struct("!i")
_NULL = _I32.pack(-1)
_DATA_ROW_HEADER = struct.Struct("!cih")

# Settings whose value changes a text encoding: a change invalidates the encoder cache.
_ENCODING_SETTINGS = ("timezone", "datestyle", "intervalstyle", "extra_float_digits",
                      "bytea_output")


def format_codes(codes: list[int], n: int) -> list[int]:
    """The per-column formats of a Bind: none -> all text, one -> all alike."""
    if not codes:
        return [0] * n
    if len(codes) == 1:
        return codes * n
    if len(codes) != n:
        from ..errors import ProtocolViolation
        raise ProtocolViolation(f"bind message has {len(codes)} result formats but query "
                                f"has {n} columns")
    return list(codes)


class ResultEncoder:
    """Column encoders of one session, keyed by type, format and encoding settings."""

    def __init__(self, session):
        self.session = session
        self.settings = session.settings
        self._cache: dict = {}
        self._key: tuple = ()

    def _encoders(self, columns, formats) -> list:
        key = tuple(self.settings.get(k) for k in _ENCODING_SETTINGS)
        if key != self._key:
            self._cache.clear()
            self._key = key
        out = []
        for col, fmt in zip(columns, formats):
            ck = (col.type, fmt)
            enc = self._cache.get(ck)
            if enc is None:
                enc = self._cache[ck] = codecs.column_encoder(
                    col.type, fmt, self.settings,
                    resolver=self.session.fctx.resolver)  # reg* names: this session's catalog
            out.append(enc)
        return out

    def describe(self, columns, formats) -> bytes:
        return row_description([
            (c.name, c.table_id or 0, c.column_id or 0, codecs.type_oid(c.type),
             codecs.type_size(c.type), codecs.type_modifier(c.type), f)
            for c, f in zip(columns, formats)])

    def check(self, columns, formats) -> None:
        """Build the encoders now, so an unsupported format fails before any row is sent."""
        self._encoders(columns, formats)

    def data_rows(self, columns, formats, rows) -> list[bytes]:
        """DataRow messages; a value the encoder cannot handle is an ERROR (XX000) for
        this statement, never a dropped connection."""
        try:
            return self._data_rows(columns, formats, rows)
        except errors.Error:
            raise
        except Exception as e:
            log.exception("encoding a result row failed")
            raise errors.InternalError(
                f"could not encode a result value: {type(e).__name__}: {e}") from e

    def _data_rows(self, columns, formats, rows) -> list[bytes]:
        encoders = self._encoders(columns, formats)
        n = len(encoders)
        pairs = list(enumerate(encoders))
        out = []
        append = out.append
        for row in rows:
            parts = []
            size = 6
            for i, enc in pairs:
                v = row[i]
                if v is None:
                    parts.append(_NULL)
                    size += 4
                else:
                    b = enc(v)
                    parts.append(_I32.pack(len(b)))
                    parts.append(b)
                    size += 4 + len(b)
            append(_DATA_ROW_HEADER.pack(b"D", size, n) + b"".join(parts))
        return out
