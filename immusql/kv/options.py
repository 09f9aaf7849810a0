"""Store options, and the ones fixed when a store is created (kept in `immusql.json`).

Limits and the segment size shape the files on disk, so they are chosen once: reopening
with a different value is refused with a clear error rather than silently ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, fields

from .errors import CorruptionError, InvalidArgumentError

FORMAT_VERSION = 1
META_FILE = "immusql.json"


@dataclass(frozen=True)
class CreationOptions:
    segment_size: int = 512 << 20
    max_tx_entries: int = 1024
    max_key_len: int = 1024
    max_value_len: int = 32 << 20
    db: str = "defaultdb"

    def validate(self) -> None:
        if not 4096 <= self.segment_size < 1 << 40:
            raise InvalidArgumentError("segment_size must be between 4 KiB and 1 TiB")
        if not 1 <= self.max_tx_entries <= 1 << 24:
            raise InvalidArgumentError("max_tx_entries must be between 1 and 16,777,216")
        if not 1 <= self.max_key_len <= 16384:
            raise InvalidArgumentError("max_key_len must be between 1 and 16384")
        if not 0 <= self.max_value_len < 1 << 32:
            raise InvalidArgumentError("max_value_len must be below 4 GiB")
        if not self.db or len(self.db.encode()) > 255:
            raise InvalidArgumentError("db name must be 1..255 bytes")


@dataclass(frozen=True)
class RuntimeOptions:
    synced: bool = True  # fsync before a commit returns; False = asynchronous commit
    checkpoint_every_txs: int = 2000
    checkpoint_every_bytes: int = 8 << 20
    header_cache: int = 4096  # verified transaction headers kept in memory
    index_map_size: int = 1 << 40
    signing_key: bytes | str | None = None  # PEM bytes, or a path to a PEM file
    read_only: bool = False


CREATION_FIELDS = {f.name for f in fields(CreationOptions)}
RUNTIME_FIELDS = {f.name for f in fields(RuntimeOptions)}


def split_options(options: dict) -> tuple[dict, RuntimeOptions]:
    unknown = set(options) - CREATION_FIELDS - RUNTIME_FIELDS
    if unknown:
        raise InvalidArgumentError(f"unknown store option(s): {', '.join(sorted(unknown))}")
    creation = {k: v for k, v in options.items() if k in CREATION_FIELDS}
    runtime = RuntimeOptions(**{k: v for k, v in options.items() if k in RUNTIME_FIELDS})
    return creation, runtime


def load_or_create(path: str, requested: dict) -> CreationOptions:
    """The creation options of the store at `path`, writing them if it is new."""
    meta = os.path.join(path, META_FILE)
    if not os.path.exists(meta):
        opts = CreationOptions(**requested)
        opts.validate()
        body = {"format": FORMAT_VERSION, **asdict(opts)}
        tmp = meta + ".tmp"
        with open(tmp, "w") as f:
            json.dump({**body, "checksum": _checksum(body)}, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, meta)
        return opts
    try:
        with open(meta) as f:
            saved = json.load(f)
        checksum = saved.pop("checksum")
        if checksum != _checksum(saved):
            raise CorruptionError("store metadata checksum mismatch", where=meta)
        if saved.pop("format") != FORMAT_VERSION:
            raise CorruptionError("unsupported store format", where=meta)
        opts = CreationOptions(**saved)
        opts.validate()
    except (ValueError, KeyError, TypeError, AttributeError, InvalidArgumentError) as e:
        raise CorruptionError(f"unreadable store metadata: {e}", where=meta) from e
    for name, value in requested.items():
        if getattr(opts, name) != value:
            raise InvalidArgumentError(
                f"{name} is fixed when a store is created: this store has "
                f"{getattr(opts, name)!r}, not {value!r}")
    return opts


def _checksum(body: dict) -> str:
    """SHA-256 of the canonical JSON of the options: a changed limit or name is caught."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(canonical).hexdigest()
