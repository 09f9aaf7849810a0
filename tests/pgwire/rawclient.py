"""A minimal PostgreSQL v3 client over a plain socket, for tests that must send exactly the
bytes they mean (malformed messages, odd orders) and read exactly what comes back."""

from __future__ import annotations

import socket
import struct


def msg(kind: bytes, body: bytes = b"") -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def cstr(s: str) -> bytes:
    return s.encode() + b"\0"


def startup_packet(**params) -> bytes:
    body = struct.pack("!i", 196608) + b"".join(cstr(k) + cstr(v) for k, v in params.items())
    body += b"\0"
    return struct.pack("!i", len(body) + 4) + body


class RawClient:
    def __init__(self, port: int, timeout: float = 30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self, n: int) -> bool:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                return False
            self.buf += chunk
        return True

    def read_byte(self) -> bytes:
        if not self._fill(1):
            raise EOFError
        b, self.buf = self.buf[:1], self.buf[1:]
        return b

    def read(self):
        """(type, body) of the next message, or None at EOF."""
        if not self._fill(5):
            return None
        kind = self.buf[:1]
        (length,) = struct.unpack("!i", self.buf[1:5])
        if not self._fill(1 + length):
            return None
        body = self.buf[5:1 + length]
        self.buf = self.buf[1 + length:]
        return kind, body

    def read_until(self, kind: bytes) -> list:
        out = []
        while True:
            m = self.read()
            if m is None:
                return out
            out.append(m)
            if m[0] == kind:
                return out

    def login(self, user="immusql", database="immusql", **params) -> list:
        """Startup with trust authentication, up to the first ReadyForQuery."""
        self.send(startup_packet(user=user, database=database, **params))
        return self.read_until(b"Z")

    def query(self, sql: str) -> list:
        self.send(msg(b"Q", cstr(sql)))
        return self.read_until(b"Z")

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def error_fields(body: bytes) -> dict[str, str]:
    """The fields of an ErrorResponse / NoticeResponse body by their code letter."""
    out = {}
    for part in body.split(b"\0"):
        if part:
            out[chr(part[0])] = part[1:].decode()
    return out


def data_rows(messages_) -> list[list]:
    rows = []
    for kind, body in messages_:
        if kind != b"D":
            continue
        (n,) = struct.unpack("!h", body[:2])
        pos, row = 2, []
        for _ in range(n):
            (size,) = struct.unpack("!i", body[pos:pos + 4])
            pos += 4
            if size < 0:
                row.append(None)
            else:
                row.append(body[pos:pos + size].decode())
                pos += size
        rows.append(row)
    return rows
