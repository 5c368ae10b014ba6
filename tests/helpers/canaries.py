"""The secret canaries and the watch over every in-process run of ``tmsclient.cli.main``."""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

import tmsclient.cli as _cli_module

#: Files larger than this are not searched for canaries (a tool-written file is a .pfx, a .cer, a profile).
_MAX_SCANNED_FILE = 50_000_000


@dataclass
class Canaries:
    """Unique markers standing for secrets. Any CLI output or tool-written file that contains one fails."""

    values: dict[str, str] = field(default_factory=dict)  # marker -> what it stands for

    def secret(self, kind: str, *, extra: str = "") -> str:
        """A fresh password-like marker; ``extra`` adds characters a password may hold (spaces, & # $ ...)."""
        marker = f"Cnry{kind.title().replace('-', '')}{secrets.token_hex(6)}{extra}"
        self.values[marker] = kind
        return marker

    def register(self, value: str | bytes, kind: str) -> None:
        """Watch an existing secret: a password, or key material (each PEM body line is watched)."""
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        if "-----BEGIN" in text:
            for line in text.splitlines():
                if line and not line.startswith("-----") and len(line) >= 16:
                    self.values[line] = kind
        elif len(text) >= 4:
            self.values[text] = kind

    def register_key(self, key: Any) -> None:
        """Watch a private key object: its PKCS#8 PEM lines and its DER in base64 and hex."""
        der = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self.register(pem, "private-key")
        self.values[base64.b64encode(der).decode()[40:100]] = "private-key"
        self.values[der.hex()[80:200]] = "private-key"

    def find(self, text: str | bytes) -> list[str]:
        if isinstance(text, bytes):
            text = text.decode("latin-1")
        return [f"{kind} ({marker[:12]}...)" for marker, kind in self.values.items() if marker in text]

    def assert_clean(self, text: str | bytes, where: str) -> None:
        found = self.find(text)
        assert not found, f"secret leaked into {where}: {', '.join(found)}"


class _RecordCapture(logging.Handler):
    """Keeps the text of every log record it sees, formatted when it is emitted: before the tool's own
    scrubbing filter rewrites the record, so a secret that reaches the logging call at all is seen."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception as exc:  # a bad format string is not what this handler judges
            text = f"{record.msg!r} {record.args!r} ({type(exc).__name__})"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.texts.append(f"{record.name}:{record.levelname}: {text}")

    def handle(self, record: logging.LogRecord) -> bool:
        # No filters, no level: every record of every logger, raw.
        self.emit(record)
        return True


def _snapshot(roots: Mapping[Path, bool]) -> dict[Path, tuple[int, int]]:
    """(mtime, size) of the files under each root: recursively for True, its direct entries for False."""
    snap: dict[Path, tuple[int, int]] = {}
    for root, recursive in roots.items():
        try:
            paths = root.rglob("*") if recursive else root.iterdir()
            for path in paths:
                try:
                    if path.is_file():
                        st = path.stat()
                        snap[path] = (st.st_mtime_ns, st.st_size)
                except OSError:
                    continue
        except OSError:
            continue
    return snap


@dataclass
class WatchedRun:
    """One call of ``tmsclient.cli.main`` as the watch saw it."""

    stdout: Any
    stderr: Any
    roots: dict[Path, bool]
    before: dict[Path, tuple[int, int]]
    capture: _RecordCapture
    out_text: str | None = None
    err_text: str | None = None
    written: set[Path] = field(default_factory=set)
    checked: bool = False
    saved_levels: list[tuple[logging.Logger, int]] = field(default_factory=list)
    handled: list[logging.Logger] = field(default_factory=list)

    @property
    def records(self) -> list[str]:
        return self.capture.texts


class CliWatch:
    """Sees every in-process run of ``tmsclient.cli.main`` during a test, whether through the ``cli`` fixture
    or a direct call: its stdout and stderr, every log record of every logger at DEBUG (whatever ``-v`` says,
    and before the tool's scrubbing filter), and the files it wrote under the test's ``tmp_path`` and in the
    current directory. ``check()`` fails if a canary shows in
    any of them, or if a run used streams it cannot read back (call main through the ``cli`` fixture).

    It wraps ``tmsclient.cli``'s ``Output``, ``configure_logging`` and ``restore_logging``, which ``main``
    looks up on every call: the first marks the start of a run, the last its end (``main`` calls it in a
    ``finally``), so even a run that fails in argument parsing is seen."""

    def __init__(self, canaries: Canaries, roots: Callable[[], Mapping[Path, bool]] = dict) -> None:
        self.canaries = canaries
        self.roots = roots
        self.runs: list[WatchedRun] = []
        self._current: WatchedRun | None = None
        self._undo: list[tuple[str, Any]] = []

    # -- installing
    def install(self) -> CliWatch:
        """Wrap the current hooks (so watches nest: each sees every run)."""
        watch = self
        base_output = _cli_module.Output
        base_configure = _cli_module.configure_logging
        base_restore = _cli_module.restore_logging

        class WatchedOutput(base_output):  # type: ignore[misc, valid-type]
            def __init__(self, stdout: Any, stderr: Any, *args: Any, **kwargs: Any) -> None:
                watch._begin(stdout, stderr)
                super().__init__(stdout, stderr, *args, **kwargs)

        def configure_logging(stream: Any, verbosity: int) -> Any:
            installed = base_configure(stream, verbosity)
            watch._tool_loggers(installed)
            return installed

        def restore_logging(installed: Any) -> None:
            try:
                base_restore(installed)
            finally:
                watch._end()

        self._undo = [("Output", base_output), ("configure_logging", base_configure), ("restore_logging", base_restore)]
        _cli_module.Output = WatchedOutput  # type: ignore[misc]
        _cli_module.configure_logging = configure_logging
        _cli_module.restore_logging = restore_logging
        return self

    def uninstall(self) -> None:
        for name, value in reversed(self._undo):
            setattr(_cli_module, name, value)
        self._undo = []

    # -- one run
    def _begin(self, stdout: Any, stderr: Any) -> None:
        roots = {Path(p): recursive for p, recursive in self.roots().items()}
        roots.setdefault(Path.cwd(), False)
        run = WatchedRun(stdout, stderr, roots, _snapshot(roots), _RecordCapture())
        capture = run.capture
        # Every logger at DEBUG for the run; records reach the capture through the root, or directly for
        # loggers that do not propagate.
        loggers = [logging.getLogger()] + [
            lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
        ]
        for lg in loggers:
            run.saved_levels.append((lg, lg.level))
            if lg.level != logging.NOTSET or lg is logging.getLogger():
                lg.setLevel(logging.DEBUG)
            if lg is logging.getLogger() or not lg.propagate:
                lg.handlers.insert(0, capture)
                run.handled.append(lg)
        self._current = run
        self.runs.append(run)

    def _tool_loggers(self, installed: list[tuple[logging.Logger, logging.Handler, int]]) -> None:
        """The tool's own loggers (``tmsclient``, ``urllib3`` at -vv): its handler keeps the level it asked
        for, so its output is unchanged; the logger itself goes to DEBUG so the capture sees everything."""
        run = self._current
        if run is None:
            return
        for logger, handler, _old in installed:
            if handler.level == logging.NOTSET:  # a nested watch finds it set already
                handler.setLevel(logger.level)
            logger.setLevel(logging.DEBUG)
            if run.capture not in logger.handlers:
                logger.handlers.insert(0, run.capture)
                run.handled.append(logger)

    def _end(self) -> None:
        run, self._current = self._current, None
        if run is None:
            return
        for lg in run.handled:
            while run.capture in lg.handlers:
                lg.handlers.remove(run.capture)
        for lg, level in reversed(run.saved_levels):
            lg.setLevel(level)
        run.out_text = _read_back(run.stdout)
        run.err_text = _read_back(run.stderr)
        after = _snapshot(run.roots)
        run.written = {p for p, sig in after.items() if run.before.get(p) != sig}

    # -- judging
    def check(self) -> None:
        for run in self.runs:
            if run.checked:
                continue
            run.checked = True
            for name, text in (("stdout", run.out_text), ("stderr", run.err_text)):
                assert text is not None, (
                    f"tmsclient.cli.main ran with a {name} the secret canaries cannot read back "
                    f"({type(getattr(run, name)).__name__}); run it through the `cli` fixture"
                )
                self.canaries.assert_clean(text, f"{name} of a tmsclient run")
            for text in run.records:
                self.canaries.assert_clean(text, f"a log record of a tmsclient run ({text[:60]!r})")
            for path in sorted(run.written):
                if path.exists() and path.stat().st_size < _MAX_SCANNED_FILE:
                    self.canaries.assert_clean(path.read_bytes(), f"file written by the tool: {path}")


def _read_back(stream: Any) -> str | None:
    getvalue = getattr(stream, "getvalue", None)
    if getvalue is None:
        return None
    value = getvalue()
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
