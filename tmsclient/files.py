"""Careful file I/O: the one bounded reader of every input file and the one atomic writer of every output."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from tmsclient.errors import InputFileError, OutputFileError, TmsClientError

log = logging.getLogger(__name__)

#: Largest certificate, key or PKCS#12 file we read. A .pfx with a long chain is a few tens of KB; anything
#: near a megabyte is the wrong file, and refusing it early keeps memory bounded.
MAX_INPUT_BYTES = 1024 * 1024

# O_NONBLOCK keeps open() from hanging on a FIFO: we can then see it is not a regular file and say so.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)

_NO_HINTS: Mapping[str, str] = {}


def read_input_file(path: str | os.PathLike[str], what: str = "file", *, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The whole of a small regular file (see :func:`read_bounded`), refused when empty."""
    return read_bounded(path, what, limit=limit)[0]


def read_bounded(
    path: str | os.PathLike[str],
    what: str = "file",
    *,
    limit: int = MAX_INPUT_BYTES,
    error: type[TmsClientError] = InputFileError,
    allow_empty: bool = False,
    hints: Mapping[str, str] = _NO_HINTS,
) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file of at most ``limit`` bytes and its status, or ``error`` naming what is wrong.

    Every file tmsclient reads comes through here, so a FIFO, a device such as /dev/zero or a huge file is
    refused the same way everywhere: it is opened without blocking, judged on the open descriptor (no race
    with a swapped path), and at most ``limit + 1`` bytes are ever read. ``hints`` replaces the hint for a
    reason: ``missing``, ``directory``, ``not-regular``, ``too-large``, ``empty``.
    """
    p = Path(path)

    def fail(reason: str, message: str, hint: str | None = None) -> TmsClientError:
        return error(message, hint=hints.get(reason, hint))

    try:
        fd = os.open(p, _OPEN_FLAGS)
    except FileNotFoundError as exc:
        raise fail("missing", f"the {what} {p} does not exist", "check the path") from exc
    except IsADirectoryError as exc:
        raise fail("directory", f"the {what} {p} is a directory, not a regular file") from exc
    except PermissionError as exc:
        raise fail(
            "unreadable",
            f"cannot read the {what} {p}: permission denied",
            "check the file's permissions, or run as a user who may read it",
        ) from exc
    except OSError as exc:
        raise fail("unreadable", f"cannot open the {what} {p}: {exc.strerror or exc}") from exc
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise fail("directory", f"the {what} {p} is a directory, not a regular file")
        if not stat.S_ISREG(st.st_mode):
            raise fail(
                "not-regular",
                f"the {what} {p} is not a regular file (a FIFO, socket or device)",
                "give the file itself",
            )
        if st.st_size > limit:
            raise fail(
                "too-large",
                f"the {what} {p} is {st.st_size:,} bytes; expected at most {limit:,}",
                "is this the right file? certificates, keys and .pfx files are a few KB",
            )
        if st.st_size == 0 and not allow_empty:
            raise fail("empty", f"the {what} {p} is empty (0 bytes)")
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(65536, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except TmsClientError:
        raise
    except OSError as exc:
        raise fail("unreadable", f"cannot read the {what} {p}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if total > limit:  # it grew after the size check
        raise fail("too-large", f"the {what} {p} is larger than {limit:,} bytes")
    if total == 0 and not allow_empty:
        raise fail("empty", f"the {what} {p} is empty (0 bytes)")
    log.debug("read %d bytes from the %s %s", total, what, p)
    return b"".join(chunks), st


def ensure_writable(
    path: str | os.PathLike[str],
    *,
    force: bool,
    what: str = "output file",
    exists_hint: str = "use --force to replace it",
) -> Path:
    """Fail early, before any password is asked for, when ``path`` cannot or must not be written."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise OutputFileError(f"cannot write the {what} {p}: the directory {parent} does not exist")
    if p.is_dir():
        raise OutputFileError(f"cannot write the {what} {p}: it is a directory")
    if os.path.lexists(p) and not force:
        raise _exists(what, p, exists_hint)
    return p


def write_file_atomic(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    mode: int = 0o600,
    force: bool = False,
    what: str = "output file",
    exists_hint: str = "use --force to replace it",
) -> Path:
    """Write ``data`` to ``path`` in one step: the one writer of every file tmsclient writes.

    The data goes to a new file of unpredictable name beside ``path`` (``mkstemp``: created exclusively,
    never through a symlink, mode 0600 until ``mode`` is set on the descriptor), then takes the name in one
    rename, so readers never see a half-written file and a link planted at the name is replaced, never
    followed. Without ``force`` an existing file is never replaced, even one that appears between our check
    and the move (the move is a hard link, which fails if the name is taken).
    """
    p = ensure_writable(path, force=force, what=what, exists_hint=exists_hint)
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
            _link_no_clobber(tmp, p, what, exists_hint)
    except OSError as exc:
        remove_quietly(tmp)
        raise OutputFileError(f"cannot write the {what} {p}: {exc.strerror or exc}") from exc
    except BaseException:  # an OutputFileError from the no-clobber link, or an interrupt: no temporary file left
        remove_quietly(tmp)
        raise
    _fsync_dir(parent)
    log.debug("wrote %d bytes to %s (mode %o)", len(data), p, mode)
    return p


def _exists(what: str, p: Path, hint: str) -> OutputFileError:
    return OutputFileError(f"the {what} {p} already exists; refusing to overwrite it", hint=hint)


def _link_no_clobber(tmp: Path, target: Path, what: str, exists_hint: str) -> None:
    try:
        os.link(tmp, target)
    except FileExistsError as exc:
        raise _exists(what, target, exists_hint) from exc
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
            raise
        # A file system without hard links: fall back to check-then-replace.
        if os.path.lexists(target):
            raise _exists(what, target, exists_hint) from exc
        os.replace(tmp, target)
        return
    tmp.unlink()


def create_exclusive(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o600, what: str = "file") -> Path:
    """Create a new file holding ``data``; refuses to touch an existing one (no --force for this)."""
    return write_file_atomic(
        path,
        data,
        mode=mode,
        force=False,
        what=what,
        exists_hint="choose a new file name (an old password file may still be needed for an older .pfx)",
    )


def remove_quietly(path: str | os.PathLike[str]) -> None:
    """Undo a file this run created (a temporary file, or a password file when the .pfx could not be written)."""
    with contextlib.suppress(OSError):
        Path(path).unlink()


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
