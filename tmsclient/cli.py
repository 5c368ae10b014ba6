"""The command line: ``main(argv) -> int``, one subcommand module each, and the one place errors become exits."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import IO, NoReturn

from tmsclient import __version__
from tmsclient.credentials import SecretResolver, StdinGate
from tmsclient.errors import TmsClientError, UsageError
from tmsclient.exitcodes import DESCRIPTIONS, ExitCode
from tmsclient.output import Output, configure_logging, restore_logging

log = logging.getLogger("tmsclient")

#: Subcommand modules under tmsclient.commands, in help order. Each defines NAME, HELP, configure(parser)
#: and run(args, ctx) -> int, and keeps heavy imports (requests, cryptography, bs4) inside run() so that
#: ``tmsclient --help`` starts fast.
COMMAND_MODULES: tuple[str, ...] = ("inspect", "check", "bundle", "convert", "export_cer",
                                    "upload", "show", "verify", "discover", "renew", "status")


@dataclass
class Context:
    """What a command needs from its surroundings; tests build one around in-memory streams."""

    out: Output
    secrets: SecretResolver
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    interactive: bool = True
    stdin: IO[str] = field(default_factory=lambda: sys.stdin)


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of exiting, so usage errors go through the one funnel."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, hint=f"see `{self.prog} --help`")


def _exit_code_epilog() -> str:
    rows = "\n".join(f"  {int(code):>3}  {text}" for code, text in DESCRIPTIONS.items())
    return f"exit codes:\n{rows}"


#: Command NAME -> module under tmsclient.commands. A module's NAME is its name with "-" for "_" (a test holds every
#: module to it), so a run finds its one module without importing the other ten.
_MODULE_BY_NAME: dict[str, str] = {name.replace("_", "-"): name for name in COMMAND_MODULES}
#: Top-level options that may come before the command on the one-subparser path: they take no value, so the next
#: argument is still the command. Anything else there (-h, --version, "--", "-", an abbreviated or unknown option)
#: goes to the full parser, which is the reference for what argparse makes of it.
_LEADING_FLAGS = frozenset({"--verbose", "--json", "--non-interactive"})


def _load_commands() -> list[ModuleType]:
    return [importlib.import_module(f"tmsclient.commands.{name}") for name in COMMAND_MODULES]


def _command_modules(args_list: Sequence[str]) -> list[ModuleType] | None:
    """The one command module a run needs, when plain flags and then a known command name lead ``args_list``;
    None (build every subparser) for anything else: no command, --help, --version, a typo, "--"."""
    for arg in args_list:
        if arg in _LEADING_FLAGS or (len(arg) > 1 and arg == "-" + "v" * (len(arg) - 1)):  # -v, -vv, ...
            continue
        module_name = _MODULE_BY_NAME.get(arg)
        return None if module_name is None else [importlib.import_module(f"tmsclient.commands.{module_name}")]
    return None


def build_parser(modules: Sequence[ModuleType] | None = None) -> argparse.ArgumentParser:
    """The command line with a subparser for each of ``modules``; every command (``--help`` lists them) by default.
    Parsing argv that runs a command gives the same result, output and errors with only that command's module."""
    common = _Parser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=0,
                        help="log to stderr: -v for steps, -vv for debug (secrets are never logged)")
    common.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    common.add_argument("--non-interactive", action="store_true",
                        help="never prompt; a missing secret or setting is an error")

    parser = _Parser(
        prog="tmsclient",
        description="Renew the WebEx SSO certificate on Cisco TMS 15.x: inspect, check, bundle, upload, verify.",
        epilog=_exit_code_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"tmsclient {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in _load_commands() if modules is None else modules:
        cmd = sub.add_parser(
            module.NAME, help=module.HELP, description=getattr(module, "DESCRIPTION", module.HELP),
            parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.configure(cmd)
        cmd.set_defaults(_module=module)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    stdin: IO[str] | None = None,
    environ: Mapping[str, str] | None = None,
    interactive: bool | None = None,
) -> int:
    """Run one command; every outcome, including every error, becomes an exit code here."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    stdin = stdin or sys.stdin
    environ = os.environ if environ is None else environ
    args_list = list(sys.argv[1:] if argv is None else argv)
    out = Output(stdout, stderr, json_mode="--json" in args_list)
    installed: list[tuple[logging.Logger, logging.Handler, int]] = []
    try:
        try:
            # argparse prints --help and --version itself: point it at this run's streams.
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                args = build_parser(_command_modules(args_list)).parse_args(args_list)
        except SystemExit as exc:
            return int(exc.code or 0)
        out.json = bool(args.json)
        installed = configure_logging(stderr, args.verbose)
        if args.command is None:
            raise UsageError("no command given", hint="see `tmsclient --help`")
        if interactive is None:
            interactive = _isatty(stdin) and not args.non_interactive
        ctx = Context(
            out=out,
            secrets=SecretResolver(environ=environ, stdin=StdinGate(stdin), interactive=interactive),
            environ=environ,
            interactive=interactive,
            stdin=stdin,
        )
        return int(args._module.run(args, ctx))
    except TmsClientError as err:
        log.debug("%s: exit %d", type(err).__name__, err.exit_code)
        out.error(err)
        if isinstance(err, UsageError):
            return _usage_exit_code(args_list, err)
        return int(err.exit_code)
    except KeyboardInterrupt:
        stderr.write("tmsclient: interrupted\n")
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:  # the funnel's last resort: a bug, reported without a traceback by default
        log.debug("internal error", exc_info=True)
        out.error(TmsClientError(
            f"internal error: {type(exc).__name__}",
            hint="rerun with -vv for details and report it as a bug",
        ))
        return int(ExitCode.INTERNAL)
    finally:
        restore_logging(installed)


def _usage_exit_code(args_list: Sequence[str], err: UsageError) -> int:
    """A command may answer usage errors with its own code: `status` is a monitoring plugin, where 2 would
    read as CRITICAL, so it declares USAGE_EXIT_CODE = 3 (UNKNOWN)."""
    command = next((a for a in args_list if not a.startswith("-")), None)
    module_name = (command or "").replace("-", "_")
    if module_name in COMMAND_MODULES:
        module = importlib.import_module(f"tmsclient.commands.{module_name}")
        return int(getattr(module, "USAGE_EXIT_CODE", err.exit_code))
    return int(err.exit_code)


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def console_main() -> None:
    """The ``tmsclient`` command: its process is set up and left by tmsclient.startup (main() is not)."""
    from tmsclient.startup import finish_command_process, prepare_command_process

    prepare_command_process()
    finish_command_process(main())
