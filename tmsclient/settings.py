"""Target settings in one documented order: flag, environment, TOML config profile, prompt."""

from __future__ import annotations

import argparse
import logging
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin, urlsplit, urlunsplit

from tmsclient.certs.compat import DEFAULT_TARGET_OS, WINDOWS_VERSIONS
from tmsclient.credentials import (
    PFX_PASSWORD,
    Secret,
    SecretSpec,
    add_secret_arguments,
    read_secret_file,
)
from tmsclient.errors import ConfigError, PasswordError, TLSError, UsageError

if TYPE_CHECKING:
    from tmsclient.credentials import SecretResolver

log = logging.getLogger(__name__)

#: ``--auth`` values. ``negotiate`` is Kerberos through the optional ``kerberos`` extra; ``auto`` reads the
#: first 401's ``WWW-Authenticate`` headers (NTLM or Negotiate offered: NTLM with the password; else Basic).
AUTH_CHOICES: tuple[str, ...] = ("auto", "ntlm", "negotiate", "basic")
DEFAULT_TIMEOUT = 30.0
#: The Save carries the .pfx and makes TMS import it; give it longer than a page read.
DEFAULT_UPLOAD_TIMEOUT = 300.0
DEFAULT_PROFILE_NAME = "default"
#: Windows Server versions the ``check`` rules know.
TARGET_OS_CHOICES: tuple[str, ...] = WINDOWS_VERSIONS

#: The TMS password: ``--tms-password-env VAR``, ``--tms-password-file F``, ``--tms-password-stdin``.
TMS_PASSWORD = SecretSpec("TMS password", "tms-password", "TMSCLIENT_TMS_PASSWORD", "TMS password")

#: Prefixes that make a config string a secret *reference*; ``inline:`` forces a literal that starts with one.
SECRET_REF_KINDS: tuple[str, ...] = ("env", "file", "keyring")
_PROFILE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class _Ctx(Protocol):
    """What resolve_target needs from tmsclient.cli.Context."""

    secrets: SecretResolver
    environ: Mapping[str, str]
    interactive: bool
    stdin: IO[str]


@dataclass(frozen=True)
class SettingSpec:
    """One non-secret setting: its flag, environment variable, config key and default."""

    key: str  # TargetSettings field and config key
    flag: str | None
    env: str | None
    kind: str  # url, str, user, path, bool, seconds, auth, os, page-url
    default: Any
    help: str

    @property
    def dest(self) -> str:
        return (self.flag or self.key).lstrip("-").replace("-", "_")

    def where(self) -> str:
        """How a user sets it, for 'missing setting' hints."""
        parts = [p for p in (self.flag and f"{self.flag}", self.env and f"${self.env}") if p]
        parts.append(f"`{self.key}` in the config profile")
        return ", ".join(parts)


#: Every non-secret target setting, in the order of the docs' table.
SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("url", "--url", "TMSCLIENT_URL", "url", None,
                "TMS base URL, e.g. https://tms.example.com/tms/ (a host alone means https://HOST/tms/)"),
    SettingSpec("username", "--username", "TMSCLIENT_TMS_USERNAME", "user", None,
                "Windows account: DOMAIN\\user, user@domain or user"),
    SettingSpec("auth", "--auth", "TMSCLIENT_AUTH", "auth", "auto",
                "login scheme: auto (from the server's 401), ntlm, negotiate (Kerberos, extra), basic"),
    SettingSpec("ca_bundle", "--ca-bundle", "TMSCLIENT_CA_BUNDLE", "path", None,
                "PEM file (or c_rehash directory) of CAs to trust for the TMS certificate"),
    SettingSpec("insecure", "--insecure", None, "bool", False,
                "do not verify the TMS TLS certificate (warns; for a lab only)"),
    SettingSpec("allow_http", "--allow-http", None, "bool", False,
                "allow a plain http:// URL (the password and .pfx cross the network unprotected)"),
    SettingSpec("timeout", "--timeout", "TMSCLIENT_TIMEOUT", "seconds", DEFAULT_TIMEOUT,
                "seconds to wait for TMS on each page read"),
    SettingSpec("upload_timeout", "--upload-timeout", None, "seconds", DEFAULT_UPLOAD_TIMEOUT,
                "seconds to wait for TMS to answer the Save that carries the .pfx"),
    SettingSpec("site", "--site", "TMSCLIENT_SITE", "site", None,
                "WebEx site: host name, site name or site URL"),
    SettingSpec("page_profile", "--page-profile", "TMSCLIENT_PAGE_PROFILE", "path", None,
                "page-profile file overriding the built-in TMS 15.x labels"),
    SettingSpec("page_url", "--page-url", None, "page-url", None,
                "the WebEx Settings page URL, skipping the menu walk (absolute or relative to --url)"),
    SettingSpec("target_os", "--target-os", None, "os", DEFAULT_TARGET_OS,
                "Windows Server version of the TMS host, for the .pfx compatibility check"),
    SettingSpec("pfx", "--pfx", None, "path", None, "the PKCS#12 file to upload"),
)
SETTINGS_BY_KEY: dict[str, SettingSpec] = {s.key: s for s in SETTINGS}
#: Config keys holding secrets (values are references or, in a private file, inline).
SECRET_KEYS: dict[str, SecretSpec] = {"password": TMS_PASSWORD, "pfx_password": PFX_PASSWORD}
PROFILE_KEYS: frozenset[str] = frozenset(SETTINGS_BY_KEY) | frozenset(SECRET_KEYS)
#: Settings whose flag the command itself defines (add_target_arguments leaves them out).
COMMAND_OWNED_FLAGS: frozenset[str] = frozenset({"target_os", "pfx"})


# --------------------------------------------------------------------------------------------- secrets


@dataclass(frozen=True)
class SecretRef:
    """A secret named in a config file: ``env:NAME``, ``file:PATH``, ``keyring:service/user`` or inline."""

    kind: str  # env, file, keyring, inline
    ref: str  # the variable, path or service/user; "" for inline
    where: str  # "config.toml: profiles.prod.password", safe to print
    inline: Secret | None = field(default=None, repr=False)

    def resolve(self, environ: Mapping[str, str], what: str) -> Secret:
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
        return _keyring_secret(self.ref, self.where, what)


def _keyring_secret(ref: str, where: str, what: str) -> Secret:
    service, _, user = ref.rpartition("/")
    try:
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
            rest = str(_config_path(rest, base_dir))
        return SecretRef(prefix, rest, where)
    return SecretRef("inline", "", where, Secret(value, "config"))


_REF_FORM = {"env": "NAME", "file": "PATH", "keyring": "SERVICE/USER"}


# --------------------------------------------------------------------------------------------- config file


@dataclass(frozen=True)
class ProfileConfig:
    """One named target from the config file, with ``[defaults]`` merged in and values validated."""

    name: str
    values: Mapping[str, Any]  # key -> str | bool | float | Path | SecretRef
    path: Path

    def where(self, key: str) -> str:
        return f"{self.path}: profiles.{self.name}.{key}"


@dataclass(frozen=True)
class Config:
    """A parsed config file: its named profiles, ``[defaults]`` and ``default_profile``."""

    path: Path
    profiles: Mapping[str, ProfileConfig]
    defaults: Mapping[str, Any]
    default_profile: str | None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.profiles)

    def profile(self, name: str) -> ProfileConfig:
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(self.profiles) or "none"
            raise ConfigError(
                f"profile {name!r} is not in the config file {self.path}",
                hint=f"profiles there: {known}",
            ) from None

    def unnamed(self) -> ProfileConfig:
        """The values used when no profile is selected: ``[defaults]`` alone."""
        return ProfileConfig(DEFAULT_PROFILE_NAME, self.defaults, self.path)


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/tmsclient/config.toml`` (``~/.config``), or ``%APPDATA%\\tmsclient`` on Windows."""
    environ = os.environ if environ is None else environ
    if os.name == "nt" and environ.get("APPDATA"):
        return Path(environ["APPDATA"]) / "tmsclient" / "config.toml"
    base = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".config")
    return Path(base) / "tmsclient" / "config.toml"


def load_config(path: str | Path) -> Config:
    """Parse and validate a config file; an inline secret in a file others can read is refused."""
    p = Path(path).expanduser()
    try:
        raw = p.read_bytes()
        st = p.stat()
    except FileNotFoundError as exc:
        raise ConfigError(f"the config file {p} does not exist",
                          hint="create it (see docs/configuration.md) or point --config at it") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"the config file {p} is a directory, expected a TOML file") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {p}: {exc.strerror}") from exc
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"the config file {p} is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the config file {p} is not valid TOML: {exc}",
                          hint="see docs/configuration.md for the format") from exc

    unknown = sorted(set(data) - {"default_profile", "defaults", "profiles"})
    if unknown:
        raise _unknown_key(p, unknown[0], "", ("default_profile", "defaults", "profiles"))
    base_dir = p.parent
    defaults_raw = data.get("defaults", {})
    if not isinstance(defaults_raw, dict):
        raise ConfigError(f"{p}: defaults: got {_type_name(defaults_raw)}, expected a table [defaults]")
    defaults = _validate_profile(defaults_raw, p, "defaults", base_dir)
    profiles_raw = data.get("profiles", {})
    if not isinstance(profiles_raw, dict):
        raise ConfigError(f"{p}: profiles: got {_type_name(profiles_raw)}, expected tables [profiles.NAME]")
    profiles: dict[str, ProfileConfig] = {}
    for name, table in profiles_raw.items():
        if not _PROFILE_NAME.match(name):
            raise ConfigError(f"{p}: profiles.{name}: got profile name {name!r}, "
                              "expected letters, digits, '.', '_' or '-'")
        if not isinstance(table, dict):
            raise ConfigError(f"{p}: profiles.{name}: got {_type_name(table)}, "
                              f"expected a table [profiles.{name}]")
        values = {**defaults, **_validate_profile(table, p, f"profiles.{name}", base_dir)}
        profiles[name] = ProfileConfig(name, values, p)
    default_profile = data.get("default_profile")
    if default_profile is not None:
        if not isinstance(default_profile, str):
            raise ConfigError(f"{p}: default_profile: got {_type_name(default_profile)}, "
                              "expected a profile name")
        if default_profile not in profiles:
            raise ConfigError(f"{p}: default_profile: got {default_profile!r}, "
                              f"expected one of the profiles ({', '.join(profiles) or 'none defined'})")
    _refuse_readable_inline_secrets(p, st, [defaults, *(pr.values for pr in profiles.values())])
    return Config(p, profiles, defaults, default_profile)


def _refuse_readable_inline_secrets(p: Path, st: os.stat_result, tables: Iterable[Mapping[str, Any]]) -> None:
    """Inline secrets only in a file nobody else can read (issue 7): refuse, do not just warn."""
    if os.name != "posix" or not st.st_mode & (stat.S_IRGRP | stat.S_IROTH):
        return
    for values in tables:
        for key in SECRET_KEYS:
            ref = values.get(key)
            if isinstance(ref, SecretRef) and ref.kind == "inline":
                raise ConfigError(
                    f"{ref.where} is an inline secret in a file other users can read "
                    f"(mode {stat.S_IMODE(st.st_mode):04o})",
                    hint=f"chmod 600 {p}, or use a reference: {key} = \"env:NAME\", \"file:PATH\" "
                         "or \"keyring:SERVICE/USER\"",
                )


def _validate_profile(table: Mapping[str, Any], p: Path, prefix: str, base_dir: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        where = f"{p}: {prefix}.{key}"
        if key not in PROFILE_KEYS:
            raise _unknown_key(p, key, prefix, sorted(PROFILE_KEYS))
        if key in SECRET_KEYS:
            if not isinstance(value, str):
                raise ConfigError(f"{where}: got {_type_name(value)}, expected a string "
                                  "(env:NAME, file:PATH, keyring:SERVICE/USER or the value)")
            out[key] = parse_secret_value(value, where, base_dir)
            continue
        spec = SETTINGS_BY_KEY[key]
        out[key] = _convert(spec, value, where, base_dir, from_text=False)
    return out


def _unknown_key(p: Path, key: str, prefix: str, known: Iterable[str]) -> ConfigError:
    dotted = f"{prefix}.{key}" if prefix else key
    return ConfigError(f"{p}: unknown key {dotted}", hint=f"known keys here: {', '.join(known)}")


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


# --------------------------------------------------------------------------------------------- values


def normalise_url(text: str, where: str) -> str:
    """The TMS base URL ending in ``/``; a bare host (or ``https://host``) becomes ``https://host/tms/``."""
    text = text.strip()
    if "://" not in text:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        hostname = parts.hostname
    except ValueError as exc:  # e.g. an unclosed [IPv6 bracket
        raise ConfigError(f"{where}: got {text!r}, which is not a URL ({exc})",
                          hint="give the TMS base URL, such as https://tms.example.com/tms/") from exc
    if parts.scheme.lower() not in ("https", "http") or not hostname:
        raise ConfigError(f"{where}: got {text!r}, expected an https:// URL such as https://tms.example.com/tms/")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"{where}: the URL holds a user name or password",
                          hint="give the user with --username and the password through $TMSCLIENT_TMS_PASSWORD")
    if parts.query or parts.fragment:
        raise ConfigError(f"{where}: got {text!r}, expected the TMS base URL without ?query or #fragment",
                          hint="give a page's address with --page-url")
    try:
        parts.port  # noqa: B018 - validates the port number
    except ValueError as exc:
        raise ConfigError(f"{where}: got {text!r}, the port is not a number from 1 to 65535") from exc
    netloc = _ascii_netloc(parts.netloc, hostname, parts.port, text, where)
    path = parts.path or "/"
    if path == "/":
        path = "/tms/"
    elif not path.endswith("/"):
        last = path.rsplit("/", 1)[-1]
        # A page such as /tms/default.aspx stands for its folder; /tms stands for /tms/.
        path = path.rsplit("/", 1)[0] + "/" if "." in last else path + "/"
    return urlunsplit((parts.scheme.lower(), netloc, path, "", ""))


def _ascii_netloc(netloc: str, hostname: str, port: int | None, text: str, where: str) -> str:
    """The host in the ASCII form requests will send (IDNA for a Unicode name), every label checked."""
    if netloc.startswith("[") or netloc.rpartition(":")[0].startswith("["):
        return netloc.lower()  # an IPv6 literal
    try:
        # Python's IDNA codec refuses empty or over-long labels ("a..b"), which urllib3 would refuse later.
        ascii_host = hostname.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ConfigError(f"{where}: got {text!r}: the host name {hostname!r} is not valid ({exc})",
                          hint="give the TMS host name as it resolves, e.g. tms.example.com") from exc
    if any(ch in ascii_host for ch in " \t%<>\"{}|\\^`"):
        raise ConfigError(f"{where}: got {text!r}: the host name {hostname!r} holds characters a host name cannot")
    return ascii_host.lower() + (f":{port}" if port is not None else "")


def check_site(text: str, where: str) -> str:
    """A host name, a site name, ``host/site`` or a site URL; checked here so a bad one fails before login."""
    spec = text.strip()
    if "/" in spec:
        try:
            parts = urlsplit(spec if "://" in spec else "https://" + spec)
            parts.hostname  # noqa: B018 - raises ValueError for a broken [IPv6 part
        except ValueError as exc:
            raise ConfigError(f"{where}: got {spec!r}, which is not a host name, site name or site URL ({exc})",
                              hint="give the site as TMS lists it, e.g. example.webex.com or "
                                   "https://example.webex.com/example") from exc
    return spec


def check_username(text: str, where: str) -> str:
    """``DOMAIN\\user``, ``user@domain`` or ``user``, returned as given (pyspnego splits the forms)."""
    user = text.strip()
    if not user:
        raise ConfigError(f"{where}: the user name is empty")
    if "\\" in user:
        domain, _, name = user.partition("\\")
        if not domain or not name or "\\" in name or "@" in name:
            raise ConfigError(f"{where}: got {user!r}, expected DOMAIN\\user, user@domain or user")
    elif "@" in user:
        name, _, domain = user.rpartition("@")
        if not name or not domain:
            raise ConfigError(f"{where}: got {user!r}, expected DOMAIN\\user, user@domain or user")
    if any(ch in user for ch in ":/\r\n\t"):
        raise ConfigError(f"{where}: got {user!r}, a Windows user name cannot hold ':', '/' "
                          "or control characters")
    return user


def _config_path(text: str, base_dir: Path) -> Path:
    p = Path(os.path.expandvars(text)).expanduser()
    return p if p.is_absolute() else base_dir / p


def _convert(spec: SettingSpec, value: Any, where: str, base_dir: Path, *, from_text: bool) -> Any:
    """Check one value's type and form; ``from_text`` for flags and environment variables."""
    kind = spec.kind
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if from_text and isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on", "0",
                                                                               "false", "no", "off"):
            return value.strip().lower() in ("1", "true", "yes", "on")
        raise ConfigError(f"{where}: got {_type_name(value)}, expected true or false")
    if kind == "seconds":
        number: Any = value
        if from_text and isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = value
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not 0 < number <= 86400:
            raise ConfigError(f"{where}: got {_type_name(value)}, expected a number of seconds above 0")
        return float(number)
    if from_text and isinstance(value, os.PathLike):
        value = os.fspath(value)  # a command's own flag may parse to a Path
    if not isinstance(value, str):
        raise ConfigError(f"{where}: got {_type_name(value)}, expected a string")
    if not value.strip():
        raise ConfigError(f"{where}: got an empty string, expected a value "
                          "(leave the key out for the default)")
    if kind == "url":
        return normalise_url(value, where)
    if kind == "user":
        return check_username(value, where)
    if kind == "site":
        return check_site(value, where)
    if kind == "auth":
        if value.strip().lower() not in AUTH_CHOICES:
            raise ConfigError(f"{where}: got {value!r}, expected one of {', '.join(AUTH_CHOICES)}")
        return value.strip().lower()
    if kind == "os":
        v = value.strip().lower().replace(" ", "").removeprefix("windows").removeprefix("server")
        if v not in TARGET_OS_CHOICES:
            raise ConfigError(f"{where}: got {value!r}, expected one of {', '.join(TARGET_OS_CHOICES)}")
        return v
    if kind == "path":
        return _config_path(value, base_dir) if not from_text else Path(value).expanduser()
    return value.strip() if kind in ("str", "page-url") else value


# --------------------------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class TargetSettings:
    """Everything needed to reach one TMS: where, who, how, and the per-target command defaults."""

    url: str
    name: str = DEFAULT_PROFILE_NAME
    username: str | None = None
    password: Secret | None = None
    auth: str = "auto"
    ca_bundle: Path | None = None
    insecure: bool = False
    allow_http: bool = False
    timeout: float = DEFAULT_TIMEOUT
    upload_timeout: float = DEFAULT_UPLOAD_TIMEOUT
    site: str | None = None
    page_profile: Path | None = None
    page_url: str | None = None
    target_os: str = DEFAULT_TARGET_OS
    pfx: Path | None = None
    pfx_password: Secret | None = None
    config_path: Path | None = None
    #: setting -> where its value came from (``--url``, ``env:TMSCLIENT_URL``, ``config``, ``default``, ...).
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    def require(self, key: str) -> Any:
        """A setting's value, or a ConfigError naming its flag, environment variable and config key."""
        value = getattr(self, key)
        if value is None:
            raise missing_setting(key, self.name)
        return value

    def describe(self) -> list[str]:
        """``key: value (from source)`` lines for ``-v``; secrets show as ``<hidden>``."""
        lines = []
        for key in ("url", "username", "password", "auth", "ca_bundle", "insecure", "allow_http", "timeout",
                    "upload_timeout", "site", "page_profile", "page_url", "target_os", "pfx", "pfx_password"):
            value = getattr(self, key)
            if value is None:
                continue
            shown = "<hidden>" if isinstance(value, Secret) else value
            lines.append(f"{key}: {shown} (from {self.sources.get(key, 'default')})")
        return lines


def missing_setting(key: str, profile: str = DEFAULT_PROFILE_NAME) -> ConfigError:
    spec = SETTINGS_BY_KEY[key]
    where = spec.where().replace("the config profile", f"the config profile ({profile})")
    return ConfigError(f"no {key.replace('_', ' ')} given", hint=f"set it with {where}")


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a number of seconds") from None
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"got {text}, expected a number of seconds above 0")
    return value


_METAVARS = {"url": "URL", "user": "USER", "path": "FILE", "page-url": "URL"}


def add_target_arguments(parser: argparse.ArgumentParser, *, many: bool = False) -> None:
    """The shared flags of every command that talks to TMS (``--target-os``, ``--pfx``: the command's).

    ``many``: the command runs several targets, so ``--profile`` may be repeated and ``--all-profiles`` selects
    every profile of the config file (tmsclient.commands.pool adds how they run)."""
    group = parser.add_argument_group("TMS target (flag, then environment, then config profile, then prompt)")
    for spec in SETTINGS:
        if spec.key in COMMAND_OWNED_FLAGS or spec.flag is None:
            continue
        env = f" [${spec.env}]" if spec.env else ""
        if spec.kind == "bool":
            group.add_argument(spec.flag, dest=spec.dest, action="store_true", default=None,
                               help=f"{spec.help}{env}")
        elif spec.kind == "seconds":
            group.add_argument(spec.flag, dest=spec.dest, type=_positive_seconds, metavar="SECONDS",
                               help=f"{spec.help} (default {spec.default:g}){env}")
        elif spec.kind == "auth":
            group.add_argument(spec.flag, dest=spec.dest, choices=AUTH_CHOICES,
                               help=f"{spec.help} (default auto){env}")
        else:
            metavar = _METAVARS.get(spec.kind, "VALUE")
            group.add_argument(spec.flag, dest=spec.dest, metavar=metavar, help=f"{spec.help}{env}")
    group.add_argument("--config", metavar="FILE",
                       help="TOML config file [$TMSCLIENT_CONFIG, else ~/.config/tmsclient/config.toml]")
    if many:
        group.add_argument("--profile", metavar="NAME", action="append",
                           help="named target in the config file [$TMSCLIENT_PROFILE, else default_profile]; "
                                "repeat it to run several targets")
        group.add_argument("--all-profiles", action="store_true",
                           help="run every profile of the config file, in file order")
    else:
        group.add_argument("--profile", metavar="NAME",
                           help="named target in the config file [$TMSCLIENT_PROFILE, else default_profile]")
    add_secret_arguments(parser, TMS_PASSWORD)


def requested_profiles(args: argparse.Namespace | None) -> tuple[str, ...]:
    """The ``--profile`` names given, in order and without repeats (a repeatable flag gives a list)."""
    given = getattr(args, "profile", None) if args is not None else None
    if not given:
        return ()
    names = [given] if isinstance(given, str) else list(given)
    return tuple(dict.fromkeys(names))


def find_config(args: argparse.Namespace | None, environ: Mapping[str, str]) -> Config | None:
    """The config named by ``--config`` or ``$TMSCLIENT_CONFIG`` (must exist), else the default one if any."""
    explicit = getattr(args, "config", None) or environ.get("TMSCLIENT_CONFIG") or None
    if explicit:
        return load_config(explicit)
    path = default_config_path(environ)
    return load_config(path) if path.exists() else None


def list_profiles(args: argparse.Namespace | None, ctx: _Ctx) -> tuple[str, ...]:
    """Names of the profiles in the config file in use (for ``--all-profiles``)."""
    config = find_config(args, ctx.environ)
    return config.names if config else ()


def _select_profile(args: argparse.Namespace | None, environ: Mapping[str, str], config: Config | None,
                    explicit: str | None) -> tuple[ProfileConfig | None, str]:
    flagged = requested_profiles(args)
    if explicit is None and len(flagged) > 1:
        raise UsageError(f"--profile was given {len(flagged)} times ({', '.join(flagged)}), but this runs "
                         "one target", hint="give --profile once")
    requested = explicit or (flagged[0] if flagged else None) or environ.get("TMSCLIENT_PROFILE") or None
    if requested:
        if config is None:
            raise ConfigError(
                f"profile {requested!r} requested but there is no config file at "
                f"{default_config_path(environ)}",
                hint="create it or point --config (or $TMSCLIENT_CONFIG) at one",
            )
        return config.profile(requested), requested
    if config is None:
        return None, DEFAULT_PROFILE_NAME
    if config.default_profile:
        return config.profile(config.default_profile), config.default_profile
    if DEFAULT_PROFILE_NAME in config.profiles:
        return config.profiles[DEFAULT_PROFILE_NAME], DEFAULT_PROFILE_NAME
    return config.unnamed(), DEFAULT_PROFILE_NAME


def _flag_or_env_given(spec: SecretSpec, args: argparse.Namespace | None, environ: Mapping[str, str]) -> bool:
    if args is not None and any(getattr(args, f"{spec.dest}_{s}", None) for s in ("env", "file", "stdin")):
        return True
    return bool(spec.default_env and spec.default_env in environ)


def _resolve_secret(ctx: _Ctx, spec: SecretSpec, args: argparse.Namespace | None,
                    profile: ProfileConfig | None, key: str, *, required: bool,
                    profile_first: bool = False) -> Secret | None:
    config_value = None
    ref = profile.values.get(key) if profile else None
    if profile_first and isinstance(ref, SecretRef) and not _flag_or_env_given(spec, args, {}):
        # Several targets: the profile's own reference beats the one environment variable shared by all.
        secret = ref.resolve(ctx.environ, spec.what)
        if not secret:
            raise PasswordError(f"the {spec.what} from {secret.source} is empty")
        log.debug("%s: <hidden> (from %s)", spec.what, secret.source)
        return secret
    # A config reference is followed only when flag and environment are silent: a stale env: name in the
    # file must not break a run whose password came from the command line's --X-env.
    if isinstance(ref, SecretRef) and not _flag_or_env_given(spec, args, ctx.environ):
        config_value = ref.resolve(ctx.environ, spec.what)
    return ctx.secrets.resolve(spec, args, config_value=config_value, required=required)


def resolve_target(
    args: argparse.Namespace | None,
    ctx: _Ctx,
    *,
    profile: str | None = None,
    need_password: bool = True,
    need_pfx_password: bool = False,
    line_prompter: Callable[[str], str] | None = None,
    profile_first: bool = False,
    config: Config | None = None,
    required: Sequence[str] = (),
) -> TargetSettings:
    """Resolve one target: flag, then environment, then config profile, then a prompt on a terminal.

    ``profile`` overrides ``--profile`` (for running many targets). The TMS password is resolved when
    ``need_password`` and the login scheme uses one; the .pfx password (``--pfx-password-*``,
    ``$TMSCLIENT_PFX_PASSWORD``, ``pfx_password``) only when ``need_pfx_password``. ``line_prompter`` reads
    a non-secret answer (the user name) in tests; by default a terminal is asked when ``ctx.interactive``.
    ``profile_first`` (several targets in one run): the profile's values beat the environment, which is one
    for all targets, so order is flag, profile, environment, prompt. ``config``: the config file already
    read (several targets share one read), else it is found and read here. ``required``: settings that must be
    given (e.g. ``("site", "pfx")``), checked before any secret is resolved or prompted for, so a missing
    --pfx is reported as that, not as a missing .pfx password.
    """
    environ = ctx.environ
    if config is None:
        config = find_config(args, environ)
    prof, name = _select_profile(args, environ, config, profile)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for spec in SETTINGS:
        flag_value = getattr(args, spec.dest, None) if args is not None else None
        in_env = bool(spec.env and environ.get(spec.env, "").strip())
        in_profile = prof is not None and spec.key in prof.values
        if flag_value is not None:
            where = spec.flag or spec.key
            values[spec.key] = _convert(spec, flag_value, where, Path.cwd(), from_text=True)
            sources[spec.key] = where
        elif in_env and not (profile_first and in_profile):
            assert spec.env is not None
            where = f"${spec.env}"
            values[spec.key] = _convert(spec, environ[spec.env], where, Path.cwd(), from_text=True)
            sources[spec.key] = f"env:{spec.env}"
        elif in_profile:
            assert prof is not None
            values[spec.key] = prof.values[spec.key]
            sources[spec.key] = f"config:{prof.path}[{prof.name}]"
        else:
            values[spec.key] = spec.default
            sources[spec.key] = "default"

    if values["url"] is None:
        err = missing_setting("url", name)
        if config is not None and config.profiles and prof is not None and prof.name not in config.profiles:
            names = ", ".join(config.names)
            err.hint = f"choose a profile with --profile NAME ({config.path} has: {names}), or {err.hint}"
        raise err
    url = values["url"]
    if urlsplit(url).scheme == "http" and not values["allow_http"]:
        raise http_refused(url)
    if values["insecure"] and values["ca_bundle"] is not None:
        log.warning("--insecure turns verification off; the CA bundle %s is not used", values["ca_bundle"])
    if values["ca_bundle"] is not None and not Path(values["ca_bundle"]).exists():
        raise ConfigError(f"the CA bundle {values['ca_bundle']} (from {sources['ca_bundle']}) does not exist",
                          hint="give the PEM file of the CA that signed the TMS certificate")
    if values["page_profile"] is not None and not Path(values["page_profile"]).is_file():
        state = "is a directory, expected a TOML file" if Path(values["page_profile"]).is_dir() else "does not exist"
        raise ConfigError(f"the page profile {values['page_profile']} (from {sources['page_profile']}) {state}",
                          hint="write one with `tmsclient discover --out FILE`")
    if values["page_url"] is not None:
        values["page_url"] = _page_url(url, values["page_url"], sources["page_url"])
    for key in required:
        if values[key] is None:
            raise missing_setting(key, name)

    auth = values["auth"]
    uses_password = auth != "negotiate"
    if values["username"] is None and uses_password and need_password:
        values["username"] = _prompt_username(ctx, name, url, line_prompter)
        sources["username"] = "prompt"

    password = None
    if need_password and uses_password:
        pw_spec = SecretSpec(TMS_PASSWORD.what, TMS_PASSWORD.flag, TMS_PASSWORD.default_env,
                             f"TMS password for {values['username']} at {urlsplit(url).hostname}")
        try:
            password = _resolve_secret(ctx, pw_spec, args, prof, "password", required=True,
                                       profile_first=profile_first)
        except PasswordError as err:
            if err.message.startswith("no "):
                raise PasswordError(
                    f"no TMS password given for {values['username']}",
                    hint="set $TMSCLIENT_TMS_PASSWORD, --tms-password-env VAR, --tms-password-file FILE, "
                         "--tms-password-stdin, or `password` (by reference) in the config profile; "
                         "never on the command line",
                ) from err
            raise
        sources["password"] = password.source if password else "none"
    pfx_password = None
    if need_pfx_password:
        pfx_password = _resolve_secret(ctx, PFX_PASSWORD, args, prof, "pfx_password", required=True,
                                       profile_first=profile_first)
        sources["pfx_password"] = pfx_password.source if pfx_password else "none"

    settings = TargetSettings(
        name=name,
        password=password,
        pfx_password=pfx_password,
        config_path=config.path if config else None,
        sources=sources,
        **values,
    )
    for line in settings.describe():
        log.info("target %s: %s", name, line)
    return settings


def http_refused(url: str) -> TLSError:
    return TLSError(
        f"plain http refused for {url}: the password and the .pfx would cross the network unencrypted",
        hint="use an https:// URL, or pass --allow-http (or allow_http = true in the profile) if you mean it",
    )


def _page_url(base: str, page: str, source: str) -> str:
    absolute = urljoin(base, page.strip())
    b, a = urlsplit(base), urlsplit(absolute)
    if a.scheme not in ("http", "https") or (a.hostname or "") != (b.hostname or "") or a.port != b.port:
        raise ConfigError(f"{source}: got {page!r}, expected a page on the TMS at {base}",
                          hint="give a path relative to --url, e.g. default.aspx?pageId=83")
    return absolute


def _prompt_username(ctx: _Ctx, profile: str, url: str, line_prompter: Callable[[str], str] | None) -> str:
    text = f"TMS user for {urlsplit(url).hostname} (DOMAIN\\user, user@domain or user)"
    answer: str | None = None
    if line_prompter is not None and ctx.interactive:
        answer = line_prompter(text)
    elif ctx.interactive and _isatty(ctx.stdin):
        sys.stderr.write(f"{text}: ")
        sys.stderr.flush()
        answer = ctx.stdin.readline().rstrip("\r\n")
    if not answer:
        raise missing_setting("username", profile)
    return check_username(answer, "the user name typed at the prompt")


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
