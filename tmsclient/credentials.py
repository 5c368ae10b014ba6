"""Secrets: a value type that never prints itself, and one resolution order for every password."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tmsclient.errors import InputFileError, PasswordError, UsageError

log = logging.getLogger(__name__)

#: Largest password file we read; a password file is a line, not a document.
MAX_SECRET_FILE_BYTES = 64 * 1024


#: Secret values seen in this process. The output and logging layers scrub them as a last line of defence;
#: shorter values are not scrubbed because they would mangle ordinary words.
_KNOWN_VALUES: set[str] = set()
MIN_SCRUB_LENGTH = 4


def scrub(text: str) -> str:
    """Replace every known secret value in ``text`` with ``<hidden>``."""
    for value in sorted(_KNOWN_VALUES, key=len, reverse=True):
        if value in text:
            text = text.replace(value, "<hidden>")
    return text


class Secret:
    """A password or passphrase. ``repr``/``str``/``format`` show ``<hidden>``; ``reveal()`` gives the value."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str) -> None:
        self._value = value
        if len(value) >= MIN_SCRUB_LENGTH:
            _KNOWN_VALUES.add(value)
        #: Where it came from (``env:NAME``, ``file:PATH``, ``stdin``, ``prompt``, ``config``); safe to print.
        self.source = source

    def reveal(self) -> str:
        return self._value

    def encode(self, encoding: str = "utf-8") -> bytes:
        return self._value.encode(encoding)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"Secret(<hidden>, source={self.source!r})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self._value == other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


@dataclass
class StdinGate:
    """stdin can feed one secret per run; a second claim is a usage error, not a silent empty read."""

    stream: IO[str] = field(default_factory=lambda: sys.stdin)
    claimed_by: str | None = None

    def read_secret(self, what: str) -> Secret:
        if self.claimed_by is not None:
            raise UsageError(
                f"stdin already supplies the {self.claimed_by}; it cannot also supply the {what}",
                hint="give one of them through an environment variable or a file",
            )
        self.claimed_by = what
        data = self.stream.read(MAX_SECRET_FILE_BYTES + 1)
        if len(data) > MAX_SECRET_FILE_BYTES:
            raise InputFileError(f"the {what} on stdin is longer than {MAX_SECRET_FILE_BYTES} characters")
        return Secret(_strip_one_newline(data), "stdin")


def _strip_one_newline(text: str) -> str:
    # Only the line ending an editor or `echo` adds: spaces and other characters are part of a password.
    text = text.removeprefix("\ufeff")
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n") or text.endswith("\r"):
        return text[:-1]
    return text


def read_secret_file(path: str | Path, what: str) -> Secret:
    """The first line of a file (one trailing newline removed), with a warning if others may read it."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError as exc:
        raise InputFileError(f"the {what} file {p} does not exist") from exc
    except OSError as exc:
        raise InputFileError(f"cannot read the {what} file {p}: {exc.strerror}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise InputFileError(f"the {what} file {p} is not a regular file")
    if st.st_size > MAX_SECRET_FILE_BYTES:
        raise InputFileError(f"the {what} file {p} is {st.st_size} bytes; a password file holds one line")
    if os.name == "posix" and st.st_mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("the %s file %s is readable by other users (chmod 600 it)", what, p)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputFileError(f"cannot read the {what} file {p}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"the {what} file {p} is not UTF-8 text") from exc
    if "\n" in _strip_one_newline(text).strip("\r\n"):
        raise InputFileError(f"the {what} file {p} holds more than one line; it must hold only the password")
    return Secret(_strip_one_newline(text), f"file:{p}")


@dataclass(frozen=True)
class SecretSpec:
    """How one secret is asked for: its flags' prefix, its default environment variable, its prompt."""

    what: str  # e.g. ".pfx password"
    flag: str  # e.g. "pfx-password" -> --pfx-password-env/--pfx-password-file/--pfx-password-stdin
    default_env: str | None  # e.g. "TMSCLIENT_PFX_PASSWORD"
    prompt: str

    @property
    def dest(self) -> str:
        return self.flag.replace("-", "_")


def add_secret_arguments(parser: argparse.ArgumentParser, spec: SecretSpec, *, otherwise: str | None = None) -> None:
    """Add ``--X-env VAR``, ``--X-file F`` and ``--X-stdin``; never a flag that takes the value itself.
    ``otherwise``: what the command uses when none of them is given, for a spec without an environment variable."""
    group = parser.add_mutually_exclusive_group()
    if spec.default_env:
        default = f" (default: ${spec.default_env}, then a prompt on a terminal)"
    else:
        default = f" (default: {otherwise})" if otherwise else ""
    group.add_argument(
        f"--{spec.flag}-env", metavar="VAR", dest=f"{spec.dest}_env",
        help=f"read the {spec.what} from environment variable VAR{default}",
    )
    group.add_argument(
        f"--{spec.flag}-file", metavar="FILE", dest=f"{spec.dest}_file",
        help=f"read the {spec.what} from the first line of FILE",
    )
    group.add_argument(
        f"--{spec.flag}-stdin", action="store_true", dest=f"{spec.dest}_stdin",
        help=f"read the {spec.what} from standard input",
    )


@dataclass
class SecretResolver:
    """Resolves secrets in one documented order: flag, environment, config file, prompt.

    ``interactive`` is false with ``--non-interactive`` or when stdin is not a terminal: then a missing
    secret is an error instead of a prompt.
    """

    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    stdin: StdinGate = field(default_factory=StdinGate)
    interactive: bool = True
    prompter: Callable[[str], str] | None = None

    def resolve(
        self,
        spec: SecretSpec,
        args: argparse.Namespace | None = None,
        *,
        config_value: Secret | None = None,
        required: bool = True,
        allow_empty: bool = False,
    ) -> Secret | None:
        secret = self._from_flags(spec, args)
        if secret is None and spec.default_env and spec.default_env in self.environ:
            secret = Secret(self.environ[spec.default_env], f"env:{spec.default_env}")
        if secret is None and config_value is not None:
            secret = config_value
        if secret is None and self.interactive and self._can_prompt():
            secret = Secret(self._prompt(spec.prompt), "prompt")
        if secret is None:
            if not required:
                return None
            where = [f"--{spec.flag}-env VAR", f"--{spec.flag}-file FILE", f"--{spec.flag}-stdin"]
            if spec.default_env:
                where.insert(0, f"${spec.default_env}")
            raise PasswordError(
                f"no {spec.what} given",
                hint=f"set it through {', '.join(where)} (never on the command line)",
            )
        if not secret and not allow_empty:
            raise PasswordError(f"the {spec.what} from {secret.source} is empty")
        log.debug("%s: <hidden> (from %s)", spec.what, secret.source)
        return secret

    def _from_flags(self, spec: SecretSpec, args: argparse.Namespace | None) -> Secret | None:
        if args is None:
            return None
        env_name = getattr(args, f"{spec.dest}_env", None)
        file_name = getattr(args, f"{spec.dest}_file", None)
        if env_name:
            if env_name not in self.environ:
                raise PasswordError(
                    f"environment variable {env_name} (named by --{spec.flag}-env) is not set",
                    hint=f"export {env_name} with the {spec.what}",
                )
            return Secret(self.environ[env_name], f"env:{env_name}")
        if file_name:
            return read_secret_file(file_name, spec.what)
        if getattr(args, f"{spec.dest}_stdin", False):
            return self.stdin.read_secret(spec.what)
        return None

    def _can_prompt(self) -> bool:
        if self.prompter is not None:
            return True
        try:
            return sys.stdin.isatty() and sys.stderr.isatty()
        except (AttributeError, ValueError):
            return False

    def _prompt(self, text: str) -> str:
        if self.prompter is not None:
            return self.prompter(text)
        return getpass.getpass(f"{text}: ")


#: The password of the .pfx a command reads (`renew` also gives it to the .pfx it makes from PEM files).
PFX_PASSWORD = SecretSpec(".pfx password", "pfx-password", "TMSCLIENT_PFX_PASSWORD", "Password of the .pfx")
#: The password of the .pfx `bundle` and `convert` write to --out (each command says where it falls back to).
OUT_PASSWORD = SecretSpec("new .pfx password", "out-password", None, "Password for the new .pfx")
