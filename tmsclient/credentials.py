"""Secrets: a value type that never prints itself, and each place one can be read from (flags, files, references)."""

from __future__ import annotations

import argparse
import functools
import html
import json
import logging
import os
import re
import stat
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, quote_plus

from tmsclient.errors import ConfigError, InputFileError, PasswordError, UsageError
from tmsclient.files import read_bounded

try:
    import keyring
    import keyring.errors
except ImportError:  # the optional extra; a keyring: reference says so when it is read
    keyring = None  # type: ignore[assignment,unused-ignore]

log = logging.getLogger(__name__)

#: Largest password file we read; a password file is a line, not a document.
MAX_SECRET_FILE_BYTES = 64 * 1024


#: Secret values seen in this process. The output and logging layers scrub them as a last line of defence;
#: shorter values are not scrubbed because they would mangle ordinary words.
_KNOWN_VALUES: set[str] = set()
MIN_SCRUB_LENGTH = 4


def scrub(text: str) -> str:
    """Replace every known secret value in ``text`` with ``<hidden>``: as it is, and as a page, a URL or JSON
    that echoes it back writes it (URL-encoded with ``%20`` or ``+`` for a space, HTML-escaped, JSON-escaped).
    Longest first, so no form is left half-replaced by a shorter one."""
    forms = sorted({form for value in _KNOWN_VALUES for form in _written_forms(value)}, key=len, reverse=True)
    for form in forms:
        if form in text:
            text = text.replace(form, "<hidden>")
    return text


@functools.lru_cache(maxsize=256)
def _written_forms(value: str) -> frozenset[str]:
    """``value`` and the forms a server or a serialiser may write it in."""
    encoded = (quote(value, safe=""), quote(value), quote_plus(value))
    return frozenset(
        (
            value,
            *encoded,
            # .NET's HttpUtility.UrlEncode writes the hex digits of an escape in lower case.
            *(re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), form) for form in encoded),
            html.escape(value, quote=True),
            html.escape(value, quote=False),
            json.dumps(value, ensure_ascii=False)[1:-1],
            json.dumps(value)[1:-1],
        )
    )


#: A name an environment variable can have on every platform tmsclient runs on.
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: The upper-case form environment variables are given by convention: a name of this form is shown in an
#: error; any other value is not, as it may be a password typed where a variable's name belongs.
_SHOWN_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")


def checked_secret(value: str, source: str, what: str, *, where: str | None = None) -> Secret:
    """A secret as read from ``source``, refused (exit 4) when it holds control characters or is not text.

    cryptography's Rust code panics on a NUL in a .pfx password, and no TMS password holds an escape or a
    line break: such a value is a file saved in the wrong encoding or a stray key press, so it is refused
    where it is read, with the likely cause, and never shown. ``where`` names the source in the error
    (default ``source``).
    """
    kinds = {unicodedata.category(ch) for ch in value}
    if kinds & {"Cc", "Cs"}:
        # Named by kind only: even which control character it is belongs to the value.
        found = ("a NUL" if "\0" in value else "control characters") if "Cc" in kinds else "bytes that are not UTF-8"
        raise PasswordError(
            f"the {what} from {where or source} holds {found}; it is not shown", hint=_control_hint(value)
        )
    return Secret(value, source)


_UTF16_HINT = (
    "saved as UTF-16? Save it as UTF-8 (PowerShell: Set-Content -Encoding utf8, or "
    "Out-File -Encoding ascii; Notepad: Save As, Encoding UTF-8)"
)


def _control_hint(value: str) -> str:
    if looks_like_utf16(value):
        return _UTF16_HINT
    if "\n" in value or "\r" in value:
        return "a password is one line; remove the other lines"
    return "a password cannot hold control characters; check how it was written (a stray escape or tab?)"


def looks_like_utf16(text: str | bytes) -> bool:
    """Whether ``text`` reads like UTF-16 taken for UTF-8 or Latin-1: a UTF-16 byte-order mark, or a NUL in
    every other place (the high byte of each ASCII character)."""
    nul: str | int = "\0" if isinstance(text, str) else 0
    marks: tuple[Any, ...] = (
        ("\ufffe", "\xff\xfe", "\xfe\xff", "\udcff\udcfe", "\udcfe\udcff")
        if isinstance(text, str)
        else (b"\xff\xfe", b"\xfe\xff")
    )
    if text.startswith(marks):
        return True
    # Four in five of the odd (little-endian) or even (big-endian) places: a non-ASCII letter has no NUL.
    return any(len(half) and sum(1 for c in half if c == nul) * 5 >= len(half) * 4 for half in (text[1::2], text[0::2]))


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
        try:
            data = self.stream.read(MAX_SECRET_FILE_BYTES + 1)
        except UnicodeDecodeError as exc:
            raise PasswordError(
                f"the {what} on stdin is not UTF-8 text; it is not shown",
                hint=_UTF16_HINT if looks_like_utf16(exc.object) else "give it as UTF-8 text",
            ) from None  # the decode error holds the bytes read
        if len(data) > MAX_SECRET_FILE_BYTES:
            raise InputFileError(f"the {what} on stdin is longer than {MAX_SECRET_FILE_BYTES} characters")
        return checked_secret(_strip_one_newline(data), "stdin", what)


def _strip_one_newline(text: str) -> str:
    # Only the line ending an editor or `echo` adds: spaces and other characters are part of a password.
    text = text.removeprefix("\ufeff")
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n") or text.endswith("\r"):
        return text[:-1]
    return text


def read_secret_file(path: str | Path, what: str, named_by: str) -> Secret:
    """The first line of a file (one trailing newline removed), with a warning if others may read it.

    ``named_by`` (a flag or a config key) names the file in the one error that cannot show its path: a path
    that does not exist may be the password itself, typed where a file name belongs."""
    p = Path(path)
    if not os.path.lexists(p):
        raise InputFileError(
            f"the {what} file named by {named_by} does not exist",
            hint="check the path (it is not shown, in case it is the password itself)",
        )
    raw, st = read_bounded(
        p,
        f"{what} file",
        limit=MAX_SECRET_FILE_BYTES,
        allow_empty=True,
        hints={"too-large": "a password file holds one line"},
    )
    if os.name == "posix" and st.st_mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("the %s file %s is readable by other users (chmod 600 it)", what, p)
    return secret_of_file_bytes(raw, p, what)


def secret_of_file_bytes(raw: bytes, p: Path, what: str) -> Secret:
    """The password a password file's contents hold (its first line, one trailing newline removed)."""
    if looks_like_utf16(raw):
        raise PasswordError(f"the {what} file {p} reads as UTF-16 text, not UTF-8; it is not shown", hint=_UTF16_HINT)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"the {what} file {p} is not UTF-8 text") from exc
    if "\n" in _strip_one_newline(text).strip("\r\n"):
        raise InputFileError(f"the {what} file {p} holds more than one line; it must hold only the password")
    return checked_secret(_strip_one_newline(text), f"file:{p}", what)


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
        f"--{spec.flag}-env",
        metavar="VAR",
        dest=f"{spec.dest}_env",
        help=f"read the {spec.what} from environment variable VAR{default}",
    )
    group.add_argument(
        f"--{spec.flag}-file",
        metavar="FILE",
        dest=f"{spec.dest}_file",
        help=f"read the {spec.what} from the first line of FILE",
    )
    group.add_argument(
        f"--{spec.flag}-stdin",
        action="store_true",
        dest=f"{spec.dest}_stdin",
        help=f"read the {spec.what} from standard input",
    )


def secret_flags_given(args: argparse.Namespace | None, spec: SecretSpec) -> bool:
    """Whether any of ``--X-env``, ``--X-file``, ``--X-stdin`` was given for ``spec``."""
    return args is not None and bool(
        getattr(args, f"{spec.dest}_env", None)
        or getattr(args, f"{spec.dest}_file", None)
        or getattr(args, f"{spec.dest}_stdin", False)
    )


def secret_from_flags(
    spec: SecretSpec, args: argparse.Namespace | None, environ: Mapping[str, str], stdin: StdinGate
) -> Secret | None:
    """The secret ``--X-env VAR``, ``--X-file F`` or ``--X-stdin`` names, or None when none was given."""
    if args is None:
        return None
    env_name = getattr(args, f"{spec.dest}_env", None)
    file_name = getattr(args, f"{spec.dest}_file", None)
    if env_name:
        return environment_secret(environ, env_name, f"--{spec.flag}-env", spec.what)
    if file_name:
        return read_secret_file(file_name, spec.what, f"--{spec.flag}-file")
    if getattr(args, f"{spec.dest}_stdin", False):
        return stdin.read_secret(spec.what)
    return None


def environment_secret(environ: Mapping[str, str], name: str, named_by: str, what: str) -> Secret:
    """The secret in the environment variable ``name``. An unset name is shown in the error only in the
    upper-case form of a variable's name: anything else may be the secret itself, typed where a name belongs."""
    if name not in environ:
        if not _ENV_NAME.fullmatch(name):
            raise UsageError(
                f"{named_by}: got a value that is not an environment variable name (not shown, in case it is "
                f"the {what} itself)",
                hint=f"give the NAME of a variable that holds the {what}, e.g. {named_by} MY_VAR",
            )
        if _SHOWN_ENV_NAME.fullmatch(name):
            raise PasswordError(
                f"environment variable {name} (named by {named_by}) is not set", hint=f"export {name} with the {what}"
            )
        raise PasswordError(
            f"the environment variable named by {named_by} is not set (its name is not shown, "
            "in case it is the secret itself)",
            hint=f"export it with the {what}, or check its spelling",
        )
    return checked_secret(environ[name], f"env:{name}", what)


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
            return checked_secret(self.inline.reveal(), self.inline.source, what, where=self.where)
        if self.kind == "env":
            return environment_secret(environ, self.ref, self.where, what)
        if self.kind == "file":
            return read_secret_file(self.ref, what, self.where)
        return keyring_secret(self.ref, self.where, what)


def keyring_secret(ref: str, where: str, what: str) -> Secret:
    """The secret the OS keyring holds for ``service/user`` (split at the last slash)."""
    service, _, user = ref.rpartition("/")
    if keyring is None:
        raise ConfigError(
            f"{where} names the OS keyring, but the keyring package is not installed",
            hint="pip install 'tmsclient[keyring]', or use env:NAME or file:PATH",
        )
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
    return checked_secret(value, f"keyring:{service}/{user}", what)


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
            raise ConfigError(f"{where}: got {prefix}: with nothing after it, expected {prefix}:{_REF_FORM[prefix]}")
        # The part after the prefix is not shown: a value that is not a reference may be the secret itself.
        if prefix == "env" and not _ENV_NAME.fullmatch(rest):
            raise ConfigError(
                f"{where}: got env: with something that is not a variable name (not shown), expected env:NAME"
            )
        if prefix == "keyring":
            service, slash, user = rest.rpartition("/")
            if not slash or not service or not user:
                raise ConfigError(
                    f"{where}: got keyring: with something that is not SERVICE/USER (not shown), "
                    "expected keyring:SERVICE/USER"
                )
        if prefix == "file":
            rest = str(config_file_path(rest, base_dir))
        return SecretRef(prefix, rest, where)
    return SecretRef("inline", "", where, Secret(value, "config"))
