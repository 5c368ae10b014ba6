"""Files the emulator writes (ready file, CA file, TLS key, password files), replaced in one step."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from tmsemulator.errors import OutputFileError


def write_atomically(path: str | os.PathLike[str], data: bytes, *, mode: int, what: str) -> Path:
    """Write ``data`` beside ``path`` and rename it over ``path``: whoever watches the file never reads half of it.

    An existing file is replaced. The mode is set before any byte is written, so a key is never readable by others.
    """
    target = Path(path)
    try:
        fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputFileError(f"cannot write the {what} {target}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        if isinstance(exc, OSError):
            raise OutputFileError(f"cannot write the {what} {target}: {exc.strerror or exc}") from exc
        raise
    return target
