"""Careful file I/O for the toolkit: bounded reads of inputs, atomic no-clobber writes of outputs."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import tempfile
from pathlib import Path

from tmsclient.errors import InputFileError, OutputFileError

log = logging.getLogger(__name__)

#: Largest certificate, key or PKCS#12 file we read. A .pfx with a long chain is a few tens of KB; anything
#: near a megabyte is the wrong file, and refusing it early keeps memory bounded.
MAX_INPUT_BYTES = 1024 * 1024

# O_NONBLOCK keeps open() from hanging on a FIFO: we can then see it is not a regular file and say so.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def read_input_file(
    path: str | os.PathLike[str], what: str = "file", *, limit: int = MAX_INPUT_BYTES
) -> bytes:
    """The whole of a small regular file, or an InputFileError naming exactly what is wrong with it.

    The size is checked on the open descriptor before reading, and at most ``limit + 1`` bytes are ever read,
    so a huge file is refused without being loaded.
    """
    p = Path(path)
    try:
        fd = os.open(p, _OPEN_FLAGS)
    except FileNotFoundError as exc:
        raise InputFileError(f"the {what} {p} does not exist", hint="check the path") from exc
    except IsADirectoryError as exc:
        raise InputFileError(f"the {what} {p} is a directory, expected a file") from exc
    except PermissionError as exc:
        raise InputFileError(
            f"cannot read the {what} {p}: permission denied",
            hint="check the file's permissions, or run as a user who may read it",
        ) from exc
    except OSError as exc:
        raise InputFileError(f"cannot open the {what} {p}: {exc.strerror or exc}") from exc
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise InputFileError(f"the {what} {p} is a directory, expected a file")
        if not stat.S_ISREG(st.st_mode):
            raise InputFileError(
                f"the {what} {p} is not a regular file (a FIFO, socket or device)",
                hint="give the file itself",
            )
        if st.st_size > limit:
            raise InputFileError(
                f"the {what} {p} is {st.st_size:,} bytes; expected at most {limit:,}",
                hint="is this the right file? certificates, keys and .pfx files are a few KB",
            )
        if st.st_size == 0:
            raise InputFileError(f"the {what} {p} is empty (0 bytes)")
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(65536, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except InputFileError:
        raise
    except OSError as exc:
        raise InputFileError(f"cannot read the {what} {p}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if total > limit:  # it grew after the size check
        raise InputFileError(f"the {what} {p} is larger than {limit:,} bytes")
    if total == 0:
        raise InputFileError(f"the {what} {p} is empty (0 bytes)")
    log.debug("read %d bytes from the %s %s", total, what, p)
    return b"".join(chunks)


def ensure_writable(path: str | os.PathLike[str], *, force: bool, what: str = "output file") -> Path:
    """Fail early, before any password is asked for, when ``path`` cannot or must not be written."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise OutputFileError(f"cannot write the {what} {p}: the directory {parent} does not exist")
    if p.is_dir():
        raise OutputFileError(f"cannot write the {what} {p}: it is a directory")
    if p.exists() and not force:
        raise OutputFileError(f"the {what} {p} already exists", hint="use --force to replace it")
    return p


def write_file_atomic(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    mode: int = 0o600,
    force: bool = False,
    what: str = "output file",
) -> Path:
    """Write ``data`` to a temporary file beside ``path`` and move it into place in one step.

    Readers never see a half-written file. Without ``force`` an existing file is never replaced, even one that
    appears between our check and the move (the move is a hard link, which fails if the name is taken).
    """
    p = ensure_writable(path, force=force, what=what)
    parent = p.parent if str(p.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(dir=parent, prefix=f".{p.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputFileError(f"cannot write the {what} {p}: {exc.strerror or exc}") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if force:
            os.replace(tmp, p)
        else:
            _link_no_clobber(tmp, p, what)
    except OutputFileError:
        _remove_quietly(tmp)
        raise
    except OSError as exc:
        _remove_quietly(tmp)
        raise OutputFileError(f"cannot write the {what} {p}: {exc.strerror or exc}") from exc
    except BaseException:
        _remove_quietly(tmp)
        raise
    _fsync_dir(parent)
    log.debug("wrote %d bytes to %s (mode %o)", len(data), p, mode)
    return p


def _link_no_clobber(tmp: Path, target: Path, what: str) -> None:
    try:
        os.link(tmp, target)
    except FileExistsError as exc:
        raise OutputFileError(
            f"the {what} {target} already exists", hint="use --force to replace it"
        ) from exc
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
            raise
        # A file system without hard links: fall back to check-then-replace.
        if target.exists():
            raise OutputFileError(
                f"the {what} {target} already exists", hint="use --force to replace it"
            ) from exc
        os.replace(tmp, target)
        return
    tmp.unlink()


def create_exclusive(
    path: str | os.PathLike[str], data: bytes, *, mode: int = 0o600, what: str = "file"
) -> Path:
    """Create a new file holding ``data``; refuses to touch an existing one (no --force for this)."""
    p = Path(path)
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    except FileExistsError as exc:
        raise OutputFileError(
            f"the {what} {p} already exists; refusing to overwrite it",
            hint="choose a new file name (an old password file may still be needed for an older .pfx)",
        ) from exc
    except OSError as exc:
        raise OutputFileError(f"cannot create the {what} {p}: {exc.strerror or exc}") from exc
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)  # the umask may have removed bits; never added any
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except OSError as exc:
        os.close(fd)
        _remove_quietly(p)
        raise OutputFileError(f"cannot write the {what} {p}: {exc.strerror or exc}") from exc
    os.close(fd)
    return p


def remove_quietly(path: str | os.PathLike[str]) -> None:
    """Undo a file this run created (for example a password file when the .pfx could not be written)."""
    _remove_quietly(Path(path))


def _remove_quietly(p: Path) -> None:
    with contextlib.suppress(OSError):
        p.unlink()


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
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
