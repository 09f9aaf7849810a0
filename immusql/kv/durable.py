"""Replacing a small file so that a crash leaves either the old or the new contents.

Trusted states (the verifier's, the client's) must never be half written: a torn state
would either lose trust or, worse, be read as a different state. Write a temporary file
beside the target, fsync it, rename it over the target, then fsync the directory so the
rename itself is durable.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def replace_file(path, data: bytes) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(path.parent)


def fsync_dir(directory) -> None:
    """Make a rename in `directory` durable; best effort where directories can't be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
