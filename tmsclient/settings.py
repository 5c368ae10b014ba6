"""Where a TMS target's settings and secrets come from: one resolver, one order, stated here.

One target: the command-line flag, then the environment variable, then the config profile; then a prompt on a
terminal (the user name and the secrets), else the default. Several targets in one run (``--profile A --profile
B``, ``--all-profiles``): the flag, then each target's own profile, then the environment (one value shared by all
targets), then the prompt or the default. A secret in a profile is a reference (``env:NAME``, ``file:PATH``,
``keyring:SERVICE/USER``) or an inline value; it is read only when it is the source chosen. The config file is
``--config``, else ``$TMSCLIENT_CONFIG``, else the default path if that file exists; the profile of one target is
``--profile``, else ``$TMSCLIENT_PROFILE``, else the file's ``default_profile``, else a profile named ``default``,
else ``[defaults]`` alone (which every profile also inherits).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import stat
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar
from urllib.parse import urljoin, urlsplit

from tmsclient.certs.compat import DEFAULT_TARGET_OS
from tmsclient.config import (
    AUTH_CHOICES,
    DEFAULT_PROFILE_NAME,
    DEFAULT_TIMEOUT,
    DEFAULT_UPLOAD_TIMEOUT,
    SETTINGS,
    SETTINGS_BY_KEY,
    Config,
    ProfileConfig,
    SettingSpec,
    check_username,
    convert_value,
    default_config_path,
    load_config,
    refuse_user_info,
    shown_url,
)
from tmsclient.credentials import (
    PFX_PASSWORD,
    TMS_PASSWORD,
    Secret,
    SecretRef,
    SecretSpec,
    StdinGate,
    add_secret_arguments,
    checked_secret,
    secret_from_flags,
)
from tmsclient.errors import ConfigError, PasswordError, TLSError, UsageError
from tmsclient.tms.origin import same_origin

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Largest CA bundle accepted; system bundles of every public CA are a few hundred KB.
MAX_CA_BUNDLE_BYTES = 16 * 1024 * 1024

#: Settings whose flag the command itself defines (add_target_arguments leaves them out).
COMMAND_OWNED_FLAGS: frozenset[str] = frozenset({"target_os", "pfx"})


# --------------------------------------------------------------------------------------------- the order

FLAG, ENVIRONMENT, PROFILE = "flag", "environment", "profile"
#: One target: what the command line says, then the environment, then the config profile.
ONE_TARGET_ORDER: tuple[str, ...] = (FLAG, ENVIRONMENT, PROFILE)
#: Several targets in one run: the environment is one for all of them, so each profile's own value beats it.
SEVERAL_TARGETS_ORDER: tuple[str, ...] = (FLAG, PROFILE, ENVIRONMENT)


def source_order(*, several_targets: bool) -> tuple[str, ...]:
    """The sources a setting or secret is taken from, first to last (a prompt or the default comes after)."""
    return SEVERAL_TARGETS_ORDER if several_targets else ONE_TARGET_ORDER


def first_given(order: Sequence[str], sources: Mapping[str, Callable[[], T | None]]) -> tuple[str, T] | None:
    """The first source in ``order`` that gives a value, with the value; a source is asked only when reached, so
    a later one (a config reference to a missing variable, say) cannot fail a run an earlier one satisfies."""
    for name in order:
        value = sources[name]()
        if value is not None:
            return name, value
    return None


class _Ctx(Protocol):
    """What resolve_target needs from tmsclient.commands.context.Context."""

    secrets: SecretResolver
    environ: Mapping[str, str]
    interactive: bool
    stdin: IO[str]


@dataclass
class SecretResolver:
    """Takes each secret in the order above, then a prompt on a terminal.

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
        profile_value: SecretRef | None = None,
        several_targets: bool = False,
        required: bool = True,
        allow_empty: bool = False,
    ) -> Secret | None:
        """``spec``'s secret: its flags, its environment variable and ``profile_value`` (the config profile's, read
        only if taken), in :func:`source_order`; then a prompt. None only when not ``required``."""
        got = first_given(
            source_order(several_targets=several_targets),
            {
                FLAG: lambda: secret_from_flags(spec, args, self.environ, self.stdin),
                ENVIRONMENT: lambda: self._from_environment(spec),
                PROFILE: lambda: profile_value.resolve(self.environ, spec.what) if profile_value is not None else None,
            },
        )
        secret = got[1] if got is not None else None
        if secret is None and self.interactive and self._can_prompt():
            secret = checked_secret(self._prompt(spec.prompt), "prompt", spec.what)
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

    def when_needed(self, spec: SecretSpec, args: argparse.Namespace | None, missing: str) -> Callable[[], Secret]:
        """``spec``'s secret, asked for only when called (a key turns out to be encrypted); ``missing`` is the
        message when none is given."""

        def secret() -> Secret:
            try:
                got = self.resolve(spec, args)
            except PasswordError as err:
                raise PasswordError(missing, hint=err.hint) from err
            assert got is not None  # required=True never returns None
            return got

        return secret

    def new_password(self, spec: SecretSpec, args: argparse.Namespace | None) -> Secret:
        """The password for a new .pfx; a typed one is asked twice. Never empty (Windows needs an exact match)."""
        secret = self.resolve(spec, args)
        assert secret is not None  # required=True never returns None
        if secret.source == "prompt":
            again = self.resolve(
                SecretSpec(f"{spec.what} (again)", f"{spec.flag}-again", None, f"{spec.prompt} (again)"), None
            )
            if again != secret:
                raise PasswordError("the two passwords typed do not match", hint="run the command again")
        return secret

    def _from_environment(self, spec: SecretSpec) -> Secret | None:
        if spec.default_env and spec.default_env in self.environ:
            return checked_secret(self.environ[spec.default_env], f"env:{spec.default_env}", spec.what)
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
        for key in (
            "url",
            "username",
            "password",
            "auth",
            "ca_bundle",
            "insecure",
            "allow_http",
            "timeout",
            "upload_timeout",
            "site",
            "page_profile",
            "page_url",
            "target_os",
            "pfx",
            "pfx_password",
        ):
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
    order = "flag, then environment, then config profile, then prompt"
    if many:
        order += "; several targets: flag, then profile, then environment"
    group = parser.add_argument_group(f"TMS target ({order})")
    for spec in SETTINGS:
        if spec.key in COMMAND_OWNED_FLAGS or spec.flag is None:
            continue
        env = f" [${spec.env}]" if spec.env else ""
        if spec.kind == "bool":
            group.add_argument(spec.flag, dest=spec.dest, action="store_true", default=None, help=f"{spec.help}{env}")
        elif spec.kind == "seconds":
            group.add_argument(
                spec.flag,
                dest=spec.dest,
                type=_positive_seconds,
                metavar="SECONDS",
                help=f"{spec.help} (default {spec.default:g}){env}",
            )
        elif spec.kind == "auth":
            group.add_argument(spec.flag, dest=spec.dest, choices=AUTH_CHOICES, help=f"{spec.help} (default auto){env}")
        else:
            metavar = _METAVARS.get(spec.kind, "VALUE")
            group.add_argument(spec.flag, dest=spec.dest, metavar=metavar, help=f"{spec.help}{env}")
    group.add_argument(
        "--config", metavar="FILE", help="TOML config file [$TMSCLIENT_CONFIG, else ~/.config/tmsclient/config.toml]"
    )
    if many:
        group.add_argument(
            "--profile",
            metavar="NAME",
            action="append",
            help="named target in the config file [$TMSCLIENT_PROFILE, else default_profile]; "
            "repeat it to run several targets",
        )
        group.add_argument(
            "--all-profiles", action="store_true", help="run every profile of the config file, in file order"
        )
    else:
        group.add_argument(
            "--profile",
            metavar="NAME",
            help="named target in the config file [$TMSCLIENT_PROFILE, else default_profile]",
        )
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


def _select_profile(
    args: argparse.Namespace | None, environ: Mapping[str, str], config: Config | None, explicit: str | None
) -> tuple[ProfileConfig | None, str]:
    flagged = requested_profiles(args)
    if explicit is None and len(flagged) > 1:
        raise UsageError(
            f"--profile was given {len(flagged)} times ({', '.join(flagged)}), but this runs one target",
            hint="give --profile once",
        )
    requested = explicit or (flagged[0] if flagged else None) or environ.get("TMSCLIENT_PROFILE") or None
    if requested:
        if config is None:
            raise ConfigError(
                f"profile {requested!r} requested but there is no config file at {default_config_path(environ)}",
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


def resolve_target(
    args: argparse.Namespace | None,
    ctx: _Ctx,
    *,
    profile: str | None = None,
    need_password: bool = True,
    need_pfx_password: bool = False,
    line_prompter: Callable[[str], str] | None = None,
    several_targets: bool = False,
    config: Config | None = None,
    required: Sequence[str] = (),
) -> TargetSettings:
    """Resolve one target in :func:`source_order`, then a prompt on a terminal for a missing user name or secret.

    ``profile`` overrides ``--profile`` (for running many targets). The TMS password is resolved when
    ``need_password`` and the login scheme uses one; the .pfx password (``--pfx-password-*``,
    ``$TMSCLIENT_PFX_PASSWORD``, ``pfx_password``) only when ``need_pfx_password``. ``line_prompter`` reads
    a non-secret answer (the user name) in tests; by default a terminal is asked when ``ctx.interactive``.
    ``several_targets``: one of several targets in one run, so each profile's values beat the environment.
    ``config``: the config file already read (several targets share one read), else it is found and read here.
    ``required``: settings that must be given (e.g. ``("site", "pfx")``), checked before any secret is resolved
    or prompted for, so a missing --pfx is reported as that, not as a missing .pfx password.
    """
    environ = ctx.environ
    if config is None:
        config = find_config(args, environ)
    prof, name = _select_profile(args, environ, config, profile)
    order = source_order(several_targets=several_targets)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for spec in SETTINGS:
        values[spec.key], sources[spec.key] = _setting(spec, args, environ, prof, order)

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
    if values["ca_bundle"] is not None:
        _check_ca_bundle(Path(values["ca_bundle"]), sources["ca_bundle"])
    if values["page_profile"] is not None and not Path(values["page_profile"]).is_file():
        given = Path(values["page_profile"])
        state = (
            "is a directory, expected a TOML file"
            if given.is_dir()
            else "is not a regular file (a FIFO, socket or device)"
            if given.exists()
            else "does not exist"
        )
        raise ConfigError(
            f"the page profile {values['page_profile']} (from {sources['page_profile']}) {state}",
            hint="write one with `tmsclient discover --out FILE`",
        )
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
    pw_spec = SecretSpec(
        TMS_PASSWORD.what,
        TMS_PASSWORD.flag,
        TMS_PASSWORD.default_env,
        f"TMS password for {values['username']} at {urlsplit(url).hostname}",
    )
    if need_password and not uses_password and values["username"]:
        # Kerberos: a password given (flag, environment, profile) lets tmsclient get the ticket itself; none is
        # prompted for, and without one the ticket cache's ticket is used
        password = replace(ctx.secrets, interactive=False).resolve(
            pw_spec, args, profile_value=_secret_ref(prof, "password"), several_targets=several_targets, required=False
        )
        sources["password"] = password.source if password else "none"
    if need_password and uses_password:
        try:
            password = ctx.secrets.resolve(
                pw_spec, args, profile_value=_secret_ref(prof, "password"), several_targets=several_targets
            )
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
        pfx_password = ctx.secrets.resolve(
            PFX_PASSWORD, args, profile_value=_secret_ref(prof, "pfx_password"), several_targets=several_targets
        )
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


def _setting(
    spec: SettingSpec,
    args: argparse.Namespace | None,
    environ: Mapping[str, str],
    prof: ProfileConfig | None,
    order: Sequence[str],
) -> tuple[Any, str]:
    """One setting's value and where it came from (``--url``, ``env:TMSCLIENT_URL``, ``config:...``, ``default``)."""
    flag_value = getattr(args, spec.dest, None) if args is not None else None
    env_value = environ.get(spec.env, "") if spec.env else ""
    got = first_given(
        order,
        {
            FLAG: lambda: flag_value,
            ENVIRONMENT: lambda: env_value if env_value.strip() else None,  # an empty variable is unset
            PROFILE: lambda: prof.values.get(spec.key) if prof is not None else None,
        },
    )
    if got is None:
        return spec.default, "default"
    source, value = got
    if source == FLAG:
        where = spec.flag or spec.key
        return convert_value(spec, value, where, Path.cwd(), from_text=True), where
    if source == ENVIRONMENT:
        return convert_value(spec, value, f"${spec.env}", Path.cwd(), from_text=True), f"env:{spec.env}"
    assert prof is not None
    return value, f"config:{prof.path}[{prof.name}]"  # checked when the file was read


def _secret_ref(prof: ProfileConfig | None, key: str) -> SecretRef | None:
    ref = prof.values.get(key) if prof is not None else None
    return ref if isinstance(ref, SecretRef) else None


def http_refused(url: str) -> TLSError:
    return TLSError(
        f"plain http refused for {url}: the password and the .pfx would cross the network unencrypted",
        hint="use an https:// URL, or pass --allow-http (or allow_http = true in the profile) if you mean it",
    )


def _check_ca_bundle(path: Path, source: str) -> None:
    """TLS reads the CA bundle, not tmsclient: it gets the checks of the one reader (a regular file of bounded
    size; a FIFO or /dev/zero would hang or fill memory) here, or is a c_rehash directory."""
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise ConfigError(
            f"the CA bundle {path} (from {source}) does not exist",
            hint="give the PEM file of the CA that signed the TMS certificate",
        ) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read the CA bundle {path} (from {source}): {exc.strerror or exc}") from exc
    if stat.S_ISDIR(st.st_mode):
        return
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(
            f"the CA bundle {path} (from {source}) is not a regular file (a FIFO, socket or device)",
            hint="give the PEM file of the CA that signed the TMS certificate",
        )
    if st.st_size > MAX_CA_BUNDLE_BYTES:
        raise ConfigError(
            f"the CA bundle {path} (from {source}) is {st.st_size:,} bytes; expected at most {MAX_CA_BUNDLE_BYTES:,}",
            hint="is this the right file? a CA bundle is PEM text",
        )


def _page_url(base: str, page: str, source: str) -> str:
    """``page`` made absolute against ``base``; it must be on the TMS's own origin and carry no login."""
    try:
        absolute = urljoin(base, page.strip())
        refuse_user_info(
            urlsplit(absolute), source, hint="give the page's path relative to --url, e.g. default.aspx?pageId=83"
        )
        on_tms = same_origin(absolute, base)
    except ValueError as exc:  # a broken [IPv6] part or port; its text may name the value
        raise ConfigError(
            f"{source}: got a value that is not a URL",
            hint="give a path relative to --url, e.g. default.aspx?pageId=83",
        ) from exc
    if not on_tms:
        raise ConfigError(
            f"{source}: got a page at {shown_url(absolute)}, expected a page on the TMS at {base}",
            hint="give a path relative to --url, e.g. default.aspx?pageId=83",
        )
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
