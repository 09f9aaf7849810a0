"""Binary COPY: the framing only, both directions (signature, flags, header extension,
per-tuple field count, -1 trailer). The values' binary encodings belong to the wire
layer, so the engine takes them as injected callables (see planner/copy.py).
"""

from __future__ import annotations

import struct
from typing import Iterator

from ... import errors
from .batch import Batch
from .messages import _bad_format, column_context, line_context

BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
BINARY_HEADER = BINARY_SIGNATURE + b"\x00\x00\x00\x00\x00\x00\x00\x00"
BINARY_TRAILER = b"\xff\xff"
_I16 = struct.Struct("!h")
_I32 = struct.Struct("!i")


def binary_row(fields) -> bytes:
    """One tuple of the binary format: field count, then (length, bytes) or -1 per field."""
    parts = [_I16.pack(len(fields))]
    for f in fields:
        if f is None:
            parts.append(b"\xff\xff\xff\xff")
        else:
            parts.append(_I32.pack(len(f)))
            parts.append(f)
    return b"".join(parts)


class BinaryParser:
    """PostgreSQL's binary COPY input (framing only), fed incrementally. Rows are lists of
    bytes | None; messages name the tuple as a "line", as PostgreSQL does."""

    def __init__(self, names, relname: str):
        self.names = list(names)
        self.ncols = len(self.names)
        self.relname = relname
        self.lineno = 0
        self.done = False
        self._buf = bytearray()
        self._pos = 0
        self._header_done = False
        self._trailer_seen = False

    def feed(self, data: bytes) -> Iterator[Batch]:
        if self.done and not self._trailer_seen:
            return
        self._buf += data
        yield from self._parse(final=False)

    def finish(self) -> Iterator[Batch]:
        if self.done and not self._trailer_seen:
            return
        yield from self._parse(final=True)
        self.done = True

    def _parse(self, final: bool) -> Iterator[Batch]:
        buf = self._buf
        if self._trailer_seen:
            if len(buf) > self._pos:
                self._trailer_seen = False
                self.done = True
                raise _bad_format("received copy data after EOF marker",
                                  line_context(self.relname, self.lineno))
            return
        if not self._header_done:
            if not self._header(final):
                return
        rows, linenos = [], []
        err = None
        pos = self._pos
        n = len(buf)
        ncols = self.ncols
        unpack16, unpack32 = _I16.unpack_from, _I32.unpack_from
        try:
            while True:
                if n - pos < 2:
                    if final:
                        self.done = True  # end of data at a tuple boundary (or a stray byte)
                    break
                count = unpack16(buf, pos)[0]
                if count == -1:
                    pos += 2
                    self.lineno += 1
                    self._trailer_seen = True
                    self.done = True
                    if n > pos:
                        self._trailer_seen = False
                        raise _bad_format("received copy data after EOF marker",
                                          line_context(self.relname, self.lineno))
                    break
                if count != ncols:
                    self.lineno += 1
                    raise _bad_format(f"row field count is {count}, expected {ncols}",
                                      line_context(self.relname, self.lineno))
                p = pos + 2
                row = []
                complete = True
                for _ in range(count):
                    if n - p < 4:
                        complete = False
                        break
                    size = unpack32(buf, p)[0]
                    p += 4
                    if size == -1:
                        row.append(None)
                        continue
                    if size < 0:
                        self.lineno += 1
                        raise _bad_format("invalid field size", self._column(len(row)))
                    if n - p < size:
                        complete = False
                        break
                    row.append(bytes(buf[p:p + size]))
                    p += size
                if not complete:
                    if final:
                        self.lineno += 1
                        raise _bad_format("unexpected EOF in COPY data",
                                          self._column(len(row)))
                    break
                pos = p
                self.lineno += 1
                rows.append(row)
                linenos.append(self.lineno)
        except errors.Error as e:
            self.done = True
            err = e
        del buf[:pos]
        self._pos = 0
        if rows:
            yield Batch(rows, linenos, None)
        if err is not None:
            raise err

    def _column(self, i: int) -> str:
        return column_context(self.relname, self.lineno, self.names[i], None, binary=True)

    def _header(self, final: bool) -> bool:
        buf = self._buf
        n = len(buf)
        if n < 11:
            if final or BINARY_SIGNATURE[:n] != bytes(buf):
                raise self._header_error("COPY file signature not recognized")
            return False
        if bytes(buf[:11]) != BINARY_SIGNATURE:
            raise self._header_error("COPY file signature not recognized")
        if n < 15:
            if final:
                raise self._header_error("invalid COPY file header (missing flags)")
            return False
        flags = _I32.unpack_from(buf, 11)[0]
        if flags & (1 << 16):
            raise self._header_error("invalid COPY file header (WITH OIDS)")
        if (flags & ~(1 << 16)) >> 16:
            raise self._header_error("unrecognized critical flags in COPY file header")
        if n < 19:
            if final:
                raise self._header_error("invalid COPY file header (missing length)")
            return False
        ext = _I32.unpack_from(buf, 15)[0]
        if ext < 0:
            raise self._header_error("invalid COPY file header (missing length)")
        if n < 19 + ext:
            if final:
                raise self._header_error("invalid COPY file header (wrong length)")
            return False
        del buf[:19 + ext]
        self._header_done = True
        return True

    def _header_error(self, message: str):
        self.done = True
        return _bad_format(message)
