"""The storage seam: an append-only byte stream, in segment files or in memory.

Every log of the store (transaction log, value log, tx index, hash tree) is one
`Appendable`: a logical stream of bytes that only grows (or is cut back to a whole record
after a crash). The store speaks only this interface, so an object-store backend can be
added later by implementing it, without touching the rest of `kv`.

`SegmentedFile` splits the stream into fixed-size files `00000000.<ext>`, `00000001.<ext>`...
A record may straddle two segments; reads stitch them. Appends are buffered in memory and
reach the OS on `flush()`; `sync()` also makes them durable (fsync).
"""

from __future__ import annotations

import os
import threading
from typing import Protocol

from .errors import CorruptionError, StorageError, StoreClosedError


class Appendable(Protocol):
    def append(self, data: bytes) -> int:
        """Append bytes; return the logical offset where they start."""

    def read(self, offset: int, length: int) -> bytes:
        """Exactly `length` bytes at `offset`; CorruptionError if the stream is shorter."""

    def size(self) -> int:
        """Logical size, including buffered appends."""

    def flush(self) -> None:
        """Hand buffered appends to the OS (visible to other readers, not yet durable)."""

    def sync(self) -> None:
        """Flush and make everything appended so far durable."""

    def truncate(self, size: int) -> None:
        """Cut the stream back to `size` bytes (crash recovery only)."""

    def close(self) -> None: ...


class MemoryAppendable:
    """An Appendable held in a bytearray: for tests and throwaway stores."""

    def __init__(self, name: str = "memory"):
        self.name = name
        self._buf = bytearray()

    def append(self, data: bytes) -> int:
        off = len(self._buf)
        self._buf += data
        return off

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or offset + length > len(self._buf):
            raise CorruptionError(f"read of {length} bytes past the end of {self.name}",
                                  where=f"{self.name}@{offset}")
        return bytes(self._buf[offset:offset + length])

    def size(self) -> int:
        return len(self._buf)

    def flush(self) -> None:
        pass

    def sync(self) -> None:
        pass

    def truncate(self, size: int) -> None:
        del self._buf[size:]

    def close(self) -> None:
        pass


class SegmentedFile:
    """An Appendable over fixed-size segment files in one directory."""

    FLUSH_AT = 1 << 20  # hand the buffer to the OS once it holds this much

    def __init__(self, directory: str, ext: str, segment_size: int):
        if segment_size < 4096:
            raise ValueError("segment size must be at least 4096 bytes")
        self.directory = directory
        self.ext = ext
        self.segment_size = segment_size
        os.makedirs(directory, exist_ok=True)
        self._fds: dict[int, int] = {}
        self._lock = threading.Lock()  # guards the fd cache and the write buffer
        self._pending = bytearray()
        self._closed = False
        self._written = self._scan_size()  # bytes already handed to the OS
        self._dirty_segments: set[int] = set()
        self._synced_segments: set[int] = set(self._all_segments())

    # -- naming ---------------------------------------------------------------------------
    def segment_path(self, n: int) -> str:
        return os.path.join(self.directory, f"{n:08d}.{self.ext}")

    def locate(self, offset: int) -> str:
        """Human-readable place of a logical offset, for corruption messages."""
        seg, pos = divmod(offset, self.segment_size)
        return f"{self.segment_path(seg)}@{pos}"

    def _scan_size(self) -> int:
        segs = sorted(int(name.split(".")[0]) for name in os.listdir(self.directory)
                      if name.endswith("." + self.ext) and name.split(".")[0].isdigit())
        if not segs:
            return 0
        if segs != list(range(len(segs))):
            raise CorruptionError(f"missing segment file in {self.directory}: found {segs}",
                                  where=self.directory)
        for n in segs[:-1]:
            got = os.path.getsize(self.segment_path(n))
            if got != self.segment_size:
                raise CorruptionError(
                    f"segment is {got} bytes, expected {self.segment_size}",
                    where=self.segment_path(n))
        last = segs[-1]
        return last * self.segment_size + os.path.getsize(self.segment_path(last))

    def _fd(self, n: int) -> int:
        fd = self._fds.get(n)
        if fd is None:  # readers may race here without the lock: keep exactly one fd
            if self._closed:
                raise StoreClosedError(f"{self.directory} is closed")
            fd = os.open(self.segment_path(n), os.O_RDWR | os.O_CREAT, 0o644)
            kept = self._fds.setdefault(n, fd)
            if kept != fd:
                os.close(fd)
                fd = kept
        return fd

    # -- Appendable -----------------------------------------------------------------------
    def append(self, data: bytes) -> int:
        with self._lock:
            off = self._written + len(self._pending)
            self._pending += data
            if len(self._pending) >= self.FLUSH_AT:
                self._flush_locked()
            return off

    def size(self) -> int:
        return self._written + len(self._pending)

    def read(self, offset: int, length: int) -> bytes:
        end = offset + length
        if offset < 0 or end > self._written + len(self._pending):
            raise CorruptionError(f"read of {length} bytes past the end of the log",
                                  where=self.locate(offset))
        if end > self._written:  # part of it is still in the write buffer
            with self._lock:
                return self._read_locked(offset, length)
        return self._read_files(offset, length)

    def _read_locked(self, offset: int, length: int) -> bytes:
        end = offset + length
        head = b""
        if offset < self._written:
            head = self._read_files(offset, self._written - offset)
            offset = self._written
        start = offset - self._written
        return head + bytes(self._pending[start:end - self._written])

    def _read_files(self, offset: int, length: int) -> bytes:
        parts = []
        while length > 0:
            seg, pos = divmod(offset, self.segment_size)
            n = min(length, self.segment_size - pos)
            try:
                chunk = os.pread(self._fd(seg), n, pos)
            except OSError as e:
                raise StorageError(f"cannot read {self.segment_path(seg)}: {e}") from e
            if len(chunk) != n:
                raise CorruptionError("short read (file shorter than the log says)",
                                      where=self.locate(offset))
            parts.append(chunk)
            offset += n
            length -= n
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not self._pending:
            return
        data = memoryview(bytes(self._pending))  # a copy: the bytearray stays resizable
        off = self._written
        try:
            while data:
                seg, pos = divmod(off, self.segment_size)
                n = min(len(data), self.segment_size - pos)
                written = os.pwrite(self._fd(seg), data[:n], pos)
                self._dirty_segments.add(seg)
                data = data[written:]
                off += written
        except OSError as e:
            raise StorageError(f"cannot write {self.directory}: {e}") from e
        finally:
            del self._pending[:off - self._written]
            self._written = off

    def sync(self) -> None:
        with self._lock:
            self._flush_locked()
            dirty, self._dirty_segments = self._dirty_segments, set()
            new_file = False
            try:
                for seg in sorted(dirty):
                    os.fsync(self._fd(seg))
                    new_file |= seg not in self._synced_segments
                    self._synced_segments.add(seg)
                if new_file:  # a new segment's directory entry must be durable too
                    _fsync_dir(self.directory)
            except OSError as e:
                raise StorageError(f"fsync failed in {self.directory}: {e}") from e

    def truncate(self, size: int) -> None:
        with self._lock:
            self._flush_locked()
            if size > self._written:
                raise ValueError("cannot truncate forward")
            last = size // self.segment_size
            try:
                for seg in self._all_segments():
                    if seg > last:
                        fd = self._fds.pop(seg, None)
                        if fd is not None:
                            os.close(fd)
                        os.unlink(self.segment_path(seg))
                        self._synced_segments.discard(seg)
                fd = self._fd(last)
                os.ftruncate(fd, size - last * self.segment_size)
                os.fsync(fd)
                _fsync_dir(self.directory)
            except OSError as e:
                raise StorageError(f"cannot truncate {self.directory}: {e}") from e
            self._written = size

    def _all_segments(self) -> list[int]:
        return [int(name.split(".")[0]) for name in os.listdir(self.directory)
                if name.endswith("." + self.ext) and name.split(".")[0].isdigit()]

    def close(self) -> None:
        with self._lock:
            try:
                self._flush_locked()
            finally:
                self._closed = True
                for fd in self._fds.values():
                    os.close(fd)
                self._fds.clear()


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
