"""Secrets: a value type that never prints itself, and each place one can be read from (flags, files, references)."""

from __future__ import annotations

import argparse
import logging
import os
import re
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tmsclient.errors import ConfigError, InputFileError, PasswordError, UsageError

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


def secret_flags_given(args: argparse.Namespace | None, spec: SecretSpec) -> bool:
    """Whether any of ``--X-env``, ``--X-file``, ``--X-stdin`` was given for ``spec``."""
    return args is not None and bool(
        getattr(args, f"{spec.dest}_env", None)
        or getattr(args, f"{spec.dest}_file", None)
        or getattr(args, f"{spec.dest}_stdin", False)
    )


def secret_from_flags(spec: SecretSpec, args: argparse.Namespace | None, environ: Mapping[str, str],
                      stdin: StdinGate) -> Secret | None:
    """The secret ``--X-env VAR``, ``--X-file F`` or ``--X-stdin`` names, or None when none was given."""
    if args is None:
        return None
    env_name = getattr(args, f"{spec.dest}_env", None)
    file_name = getattr(args, f"{spec.dest}_file", None)
    if env_name:
        if env_name not in environ:
            raise PasswordError(
                f"environment variable {env_name} (named by --{spec.flag}-env) is not set",
                hint=f"export {env_name} with the {spec.what}",
            )
        return Secret(environ[env_name], f"env:{env_name}")
    if file_name:
        return read_secret_file(file_name, spec.what)
    if getattr(args, f"{spec.dest}_stdin", False):
        return stdin.read_secret(spec.what)
    return None


#: The password of the .pfx a command reads (`renew` also gives it to the .pfx it makes from PEM files).
PFX_PASSWORD = SecretSpec(".pfx password", "pfx-password", "TMSCLIENT_PFX_PASSWORD", "Password of the .pfx")
#: The password of the .pfx `bundle` and `convert` write to --out (each command says where it falls back to).
OUT_PASSWORD = SecretSpec("new .pfx password", "out-password", None, "Password for the new .pfx")
#: The TMS login password: ``--tms-password-env VAR``, ``--tms-password-file F``, ``--tms-password-stdin``.
TMS_PASSWORD = SecretSpec("TMS password", "tms-password", "TMSCLIENT_TMS_PASSWORD", "TMS password")


# --------------------------------------------------------------------------------------------- config references

#: Prefixes that make a config string a secret *reference*; ``inline:`` forces a literal that starts with one.
SECRET_REF_KINDS: tuple[str, ...] = ("env", "file", "keyring")
_REF_FORM = {"env": "NAME", "file": "PATH", "keyring": "SERVICE/USER"}


@dataclass(frozen=True)
class SecretRef:
    """A secret named in a config file: ``env:NAME``, ``file:PATH``, ``keyring:service/user`` or inline."""

    kind: str  # env, file, keyring, inline
    ref: str  # the variable, path or service/user; "" for inline
    where: str  # "config.toml: profiles.prod.password", safe to print
    inline: Secret | None = field(default=None, repr=False)

    def resolve(self, environ: Mapping[str, str], what: str) -> Secret:
        """The secret itself; a reference is read only now, when the resolver has chosen it."""
        if self.kind == "inline":
            assert self.inline is not None
            return self.inline
        if self.kind == "env":
            if self.ref not in environ:
                raise PasswordError(
                    f"environment variable {self.ref} (named by {self.where}) is not set",
                    hint=f"export {self.ref} with the {what}",
                )
            return Secret(environ[self.ref], f"env:{self.ref}")
        if self.kind == "file":
            return read_secret_file(self.ref, what)
        return keyring_secret(self.ref, self.where, what)


def keyring_secret(ref: str, where: str, what: str) -> Secret:
    """The secret the OS keyring holds for ``service/user`` (split at the last slash)."""
    service, _, user = ref.rpartition("/")
    try:
        # The optional extra is imported only here: its import alone takes longer than all of `tmsclient --help`.
        import keyring
        import keyring.errors
    except ImportError as exc:
        raise ConfigError(
            f"{where} names the OS keyring, but the keyring package is not installed",
            hint="pip install 'tmsclient[keyring]', or use env:NAME or file:PATH",
        ) from exc
    try:
        value = keyring.get_password(service, user)
    except keyring.errors.KeyringError as exc:
        raise ConfigError(
            f"{where}: the OS keyring cannot be read: {type(exc).__name__}",
            hint="check the keyring backend (`keyring diagnose`), or use env:NAME or file:PATH",
        ) from exc
    if value is None:
        raise PasswordError(
            f"the OS keyring holds no {what} for service {service!r}, user {user!r} (named by {where})",
            hint=f"store it with `keyring set {service} {user}`",
        )
    return Secret(value, f"keyring:{service}/{user}")


def config_file_path(text: str, base_dir: Path) -> Path:
    """A path written in a config file: ``~`` and ``$VARS`` expanded, a relative one taken from the file's folder."""
    p = Path(os.path.expandvars(text)).expanduser()
    return p if p.is_absolute() else base_dir / p


def parse_secret_value(value: str, where: str, base_dir: Path) -> SecretRef:
    """A config string: a reference by prefix, else an inline value (``inline:`` escapes a prefix)."""
    prefix, sep, rest = value.partition(":")
    if sep and prefix == "inline":
        return SecretRef("inline", "", where, Secret(rest, "config"))
    if sep and prefix in SECRET_REF_KINDS:
        if not rest:
            raise ConfigError(f"{where}: got {prefix}: with nothing after it, "
                              f"expected {prefix}:{_REF_FORM[prefix]}")
        if prefix == "env" and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", rest):
            raise ConfigError(f"{where}: got env:{rest!r}, expected env:NAME with a variable name")
        if prefix == "keyring":
            service, slash, user = rest.rpartition("/")
            if not slash or not service or not user:
                raise ConfigError(f"{where}: got keyring:{rest!r}, expected keyring:SERVICE/USER")
        if prefix == "file":
            rest = str(config_file_path(rest, base_dir))
        return SecretRef(prefix, rest, where)
    return SecretRef("inline", "", where, Secret(value, "config"))
