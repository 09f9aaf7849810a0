"""PostgreSQL v3 protocol messages: reading the frontend's, building the backend's.

Framing is the only place a peer's lengths are trusted, so every length is checked here
before anything is allocated: the startup packet against PostgreSQL's 10,000-byte limit,
other messages against the server's configured maximum. Builders return bytes ready to
write; the connection batches them into one write per round trip.
"""

from __future__ import annotations

import asyncio
import struct

from .. import errors
from ..errors import ProtocolViolation

PROTOCOL_3_0 = 196608  # 3 << 16
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
MAX_STARTUP_PACKET = 10000  # PostgreSQL's MAX_STARTUP_PACKET_LENGTH
DEFAULT_MAX_MESSAGE = 1 << 30  # PostgreSQL's PQ_LARGE_MESSAGE_LIMIT

_I32 = struct.Struct("!i")
_I16 = struct.Struct("!h")
_HEADER = struct.Struct("!ci")
_II = struct.Struct("!ii")


class ConnectionLost(Exception):
    """The peer went away (EOF or reset) in the middle of a message."""


# ---------------------------------------------------------------------- reading --------


async def read_exactly(reader: asyncio.StreamReader, n: int) -> bytes:
    try:
        return await reader.readexactly(n)
    except (asyncio.IncompleteReadError, ConnectionError) as e:
        raise ConnectionLost() from e


async def read_startup(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """(code, body) of an untyped startup-phase packet."""
    (length,) = _I32.unpack(await read_exactly(reader, 4))
    if length < 8 or length > MAX_STARTUP_PACKET:
        raise ProtocolViolation("invalid length of startup packet")
    body = await read_exactly(reader, length - 4)
    return _I32.unpack_from(body)[0], body[4:]


async def read_message(reader: asyncio.StreamReader, max_size: int) -> tuple[bytes, bytes]:
    """(type byte, body) of one typed message."""
    head = await read_exactly(reader, 5)
    kind, length = _HEADER.unpack(head)
    if length < 4:
        raise ProtocolViolation(f"invalid message length {length}")
    if length - 4 > max_size:
        raise ProtocolViolation(f"message of {length - 4} bytes exceeds the limit of "
                                f"{max_size} bytes")
    body = await read_exactly(reader, length - 4) if length > 4 else b""
    return kind, body


class Body:
    """A cursor over one message's body; every read is bounds-checked."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def _need(self, n: int) -> None:
        if n < 0 or self.pos + n > len(self.data):
            raise ProtocolViolation("insufficient data left in message")

    def int32(self) -> int:
        self._need(4)
        (v,) = _I32.unpack_from(self.data, self.pos)
        self.pos += 4
        return v

    def int16(self) -> int:
        self._need(2)
        (v,) = _I16.unpack_from(self.data, self.pos)
        self.pos += 2
        return v

    def byte(self) -> bytes:
        self._need(1)
        self.pos += 1
        return self.data[self.pos - 1:self.pos]

    def bytes(self, n: int) -> bytes:
        self._need(n)
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def cstring(self) -> str:
        end = self.data.find(b"\0", self.pos)
        if end < 0:
            raise ProtocolViolation("invalid string in message")
        raw = self.data[self.pos:end]
        self.pos = end + 1
        return decode_utf8(raw)

    def count(self, each: int) -> int:
        """A non-negative int16 count whose items need at least `each` bytes apiece."""
        n = self.int16()
        if n < 0 or n * each > len(self.data) - self.pos:
            raise ProtocolViolation(f"invalid count {n} in message")
        return n

    def done(self) -> None:
        if self.pos != len(self.data):
            raise ProtocolViolation("invalid message format")


def decode_utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise errors.CharacterNotInRepertoire(
            f'invalid byte sequence for encoding "UTF8": 0x{raw[e.start]:02x}') from None


def parse_startup_parameters(body: bytes) -> dict[str, str]:
    """The name/value pairs of a StartupMessage (after the protocol code)."""
    parts = body.split(b"\0")
    if len(parts) < 2 or parts[-1] != b"" or parts[-2] != b"":
        raise ProtocolViolation("invalid startup packet layout: expected terminator as "
                                "last byte")
    parts = parts[:-2]
    if len(parts) % 2:
        raise ProtocolViolation("invalid startup packet layout: expected terminator as "
                                "last byte")
    params = {}
    for i in range(0, len(parts), 2):
        params[decode_utf8(parts[i])] = decode_utf8(parts[i + 1])
    return params


# ---------------------------------------------------------------------- building -------


def message(kind: bytes, body: bytes = b"") -> bytes:
    return _HEADER.pack(kind, len(body) + 4) + body


def cstr(s: str) -> bytes:
    return s.encode() + b"\0"


AUTH_OK = message(b"R", _I32.pack(0))
AUTH_CLEARTEXT = message(b"R", _I32.pack(3))
PARSE_COMPLETE = message(b"1")
BIND_COMPLETE = message(b"2")
CLOSE_COMPLETE = message(b"3")
NO_DATA = message(b"n")
PORTAL_SUSPENDED = message(b"s")
EMPTY_QUERY = message(b"I")
COPY_DONE = message(b"c")
READY = {status: message(b"Z", status.encode()) for status in "ITE"}


def auth_md5(salt: bytes) -> bytes:
    return message(b"R", _I32.pack(5) + salt)


def auth_sasl(mechanisms: list[str]) -> bytes:
    return message(b"R", _I32.pack(10) + b"".join(cstr(m) for m in mechanisms) + b"\0")


def auth_sasl_continue(data: bytes) -> bytes:
    return message(b"R", _I32.pack(11) + data)


def auth_sasl_final(data: bytes) -> bytes:
    return message(b"R", _I32.pack(12) + data)


def parameter_status(name: str, value: str) -> bytes:
    return message(b"S", cstr(name) + cstr(value))


def backend_key_data(pid: int, secret: int) -> bytes:
    return message(b"K", _II.pack(pid, secret))


def negotiate_protocol_version(minor: int, unrecognised: list[str]) -> bytes:
    body = _I32.pack(minor) + _I32.pack(len(unrecognised))
    return message(b"v", body + b"".join(cstr(o) for o in unrecognised))


def command_complete(tag: str) -> bytes:
    return message(b"C", cstr(tag))


def parameter_description(oids: list[int]) -> bytes:
    return message(b"t", _I16.pack(len(oids)) + b"".join(_I32.pack(o) for o in oids))


_FIELD = struct.Struct("!ihihih")


def row_description(fields) -> bytes:
    """fields: (name, table_oid, attnum, type_oid, typlen, typmod, format) tuples."""
    parts = [_I16.pack(len(fields))]
    for name, table, attnum, oid, size, mod, fmt in fields:
        parts.append(cstr(name))
        parts.append(_FIELD.pack(table, attnum, oid, size, mod, fmt))
    return message(b"T", b"".join(parts))


def copy_response(kind: bytes, overall_format: int, column_formats: list[int]) -> bytes:
    """CopyInResponse (G) or CopyOutResponse (H)."""
    body = bytes([overall_format]) + _I16.pack(len(column_formats))
    return message(kind, body + b"".join(_I16.pack(f) for f in column_formats))


def copy_data(payload: bytes) -> bytes:
    return _HEADER.pack(b"d", len(payload) + 4) + payload


# ErrorResponse / NoticeResponse field codes (protocol "Error and Notice Message Fields")
_OBJECT_FIELDS = ((b"s", "schema_name"), (b"t", "table_name"), (b"c", "column_name"),
                  (b"d", "datatype_name"), (b"n", "constraint_name"))


def error_fields(severity: str, sqlstate: str, message_: str, *, detail=None, hint=None,
                 position=None, where=None, routine=None, objects=None) -> bytes:
    parts = [b"S", cstr(severity), b"V", cstr(severity), b"C", cstr(sqlstate),
             b"M", cstr(message_)]
    if detail:
        parts += [b"D", cstr(detail)]
    if hint:
        parts += [b"H", cstr(hint)]
    if position:
        parts += [b"P", cstr(str(position))]
    if where:
        parts += [b"W", cstr(where)]
    for code, attr in _OBJECT_FIELDS:
        value = getattr(objects, attr, None)
        if value:
            parts += [code, cstr(value)]
    if routine:
        parts += [b"R", cstr(routine)]
    parts.append(b"\0")
    return b"".join(parts)


def error_response(exc: BaseException, severity: str = "ERROR") -> bytes:
    """An ErrorResponse for any exception: ours carry their SQLSTATE and fields."""
    sqlstate = getattr(exc, "sqlstate", None) or "XX000"
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return message(b"E", error_fields(
        severity, sqlstate, text, detail=getattr(exc, "detail", None),
        hint=getattr(exc, "hint", None), position=getattr(exc, "position", None),
        where=getattr(exc, "context", None) or getattr(exc, "where_", None),
        routine=getattr(exc, "routine", None),  # "R": drivers key on a few (asyncpg)
        objects=exc))


def notice_response(text: str, sqlstate: str = "00000", severity: str = "NOTICE",
                    detail: str | None = None) -> bytes:
    return message(b"N", error_fields(severity, sqlstate, text, detail=detail))
