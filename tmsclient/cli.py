"""The command line: ``main(argv) -> int``, one subcommand module each, and the one place errors become exits."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import IO, Any, NoReturn

from tmsclient import __version__
from tmsclient.commands import (
    bundle,
    check,
    convert,
    cutover,
    discover,
    export_cer,
    inspect,
    prepare,
    renew,
    rollback,
    show,
    status,
    upload,
    verify,
)
from tmsclient.commands.context import Context
from tmsclient.credentials import StdinGate
from tmsclient.errors import TmsClientError, UsageError
from tmsclient.exitcodes import DESCRIPTIONS, ExitCode
from tmsclient.output import Output, configure_logging, restore_logging
from tmsclient.settings import SecretResolver

log = logging.getLogger("tmsclient")

#: The subcommand modules, in help order. Each defines NAME, HELP, configure(parser) and run(args, ctx) -> int.
#: Building the parser imports them all, so their top-level imports stay light and whatever needs cryptography,
#: requests or bs4 is imported inside run(): the one place a module imports late
#: (tests/unit/test_import_rules.py holds it), which keeps ``tmsclient --help`` fast.
COMMANDS: tuple[ModuleType, ...] = (
    inspect,
    check,
    bundle,
    convert,
    export_cer,
    upload,
    show,
    verify,
    discover,
    renew,
    prepare,
    cutover,
    rollback,
    status,
)
#: Their module names under tmsclient.commands.
COMMAND_MODULES: tuple[str, ...] = tuple(m.__name__.rpartition(".")[2] for m in COMMANDS)


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of exiting, so usage errors go through the one funnel."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, hint=f"see `{self.prog} --help`")


def _exit_code_epilog() -> str:
    rows = "\n".join(f"  {int(code):>3}  {text}" for code, text in DESCRIPTIONS.items())
    return f"exit codes:\n{rows}"


def _load_commands() -> list[ModuleType]:
    return list(COMMANDS)


#: The global flags, accepted before the command and after it: (flags, dest, argparse keywords).
_GLOBAL_FLAGS: tuple[tuple[tuple[str, ...], str, dict[str, Any]], ...] = (
    (
        ("-v", "--verbose"),
        "verbose",
        {"action": "count", "help": "log to stderr: -v for steps, -vv for debug (secrets are never logged)"},
    ),
    (("--json",), "json", {"action": "store_true", "help": "print the report as JSON on stdout"}),
    (
        ("--non-interactive",),
        "non_interactive",
        {"action": "store_true", "help": "never prompt; a missing secret or setting is an error"},
    ),
)


def _add_global_flags(parser: argparse.ArgumentParser, *, after_command: bool) -> None:
    # A subparser writes every default it has over the values parsed before the command, so the copies after
    # the command have their own dests and no defaults: GlobalOptions.of adds both positions up.
    for flags, dest, kwargs in _GLOBAL_FLAGS:
        if after_command:
            parser.add_argument(*flags, dest=f"{dest}_after_command", default=argparse.SUPPRESS, **kwargs)
        else:
            parser.add_argument(*flags, dest=dest, default=0 if dest == "verbose" else False, **kwargs)


@dataclass(frozen=True)
class GlobalOptions:
    """-v, --json and --non-interactive of a run, wherever they stood on the command line."""

    verbose: int
    json: bool
    non_interactive: bool

    @classmethod
    def of(cls, args: argparse.Namespace) -> GlobalOptions:
        def after(dest: str, default: Any) -> Any:
            return getattr(args, f"{dest}_after_command", default)

        return cls(
            verbose=args.verbose + after("verbose", 0),
            json=args.json or after("json", False),
            non_interactive=args.non_interactive or after("non_interactive", False),
        )


def build_parser() -> argparse.ArgumentParser:
    """The command line with a subparser for each command (``--help`` lists them)."""
    parser = _Parser(
        prog="tmsclient",
        description="Renew the WebEx SSO certificate on Cisco TMS 15.x: inspect, check, bundle, upload, verify.",
        epilog=_exit_code_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_global_flags(parser, after_command=False)
    parser.add_argument("--version", action="version", version=f"tmsclient {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in _load_commands():
        cmd = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _add_global_flags(cmd, after_command=True)
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
    # --json is read from the raw argv too, so a command line that does not parse still answers in JSON.
    out = Output(stdout, stderr, json_mode="--json" in args_list)
    installed: list[tuple[logging.Logger, logging.Handler, int]] = []
    try:
        try:
            # argparse prints --help and --version itself: point it at this run's streams.
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                args = build_parser().parse_args(args_list)
        except SystemExit as exc:
            return int(exc.code or 0)
        options = GlobalOptions.of(args)
        out.json = options.json
        installed = configure_logging(stderr, options.verbose)
        if args.command is None:
            raise UsageError("no command given", hint="see `tmsclient --help`")
        if interactive is None:
            interactive = _isatty(stdin) and not options.non_interactive
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
    except SystemExit:
        raise  # a deliberate exit (sys.exit in a hook, say) keeps its own code
    except BaseException as exc:  # the funnel's last resort: a bug, reported without a traceback by default
        # BaseException, not Exception: pyo3's PanicException (a panic in cryptography's Rust code) derives
        # from it directly.
        log.debug("internal error", exc_info=True)
        out.error(
            TmsClientError(
                f"internal error: {type(exc).__name__}",
                hint="rerun with -vv for details and report it as a bug",
            )
        )
        return int(ExitCode.INTERNAL)
    finally:
        restore_logging(installed)


def _usage_exit_code(args_list: Sequence[str], err: UsageError) -> int:
    """A command may answer usage errors with its own code: `status` is a monitoring plugin, where 2 would
    read as CRITICAL, so it declares USAGE_EXIT_CODE = 3 (UNKNOWN)."""
    command = next((a for a in args_list if not a.startswith("-")), None)
    module = {m.NAME: m for m in _load_commands()}.get(command or "")
    return int(getattr(module, "USAGE_EXIT_CODE", err.exit_code))


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def console_main() -> None:
    """The ``tmsclient`` command."""
    sys.exit(main())
