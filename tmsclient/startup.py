"""How the ``tmsclient`` command sets up its own process; a library import of tmsclient applies none of it."""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading
import warnings
from typing import NoReturn

#: The collector's first threshold in the command's process. An upload allocates ~55,000 tracked objects after
#: startup (imports, page trees) and then exits: at Python's default of 700 that is ~90 collections, ~12 ms of a
#: ~0.3 s upload, and at 50,000 still one 10 ms pass over them, all for garbage that exit frees anyway. At this
#: threshold a usual run is never collected, and a long one (many targets, large pages) still is, every 200,000
#: objects: memory stays bounded (docs/benchmarks.md).
GEN0_THRESHOLD = 200_000

_command_process = False


def prepare_command_process() -> None:
    """Called once by ``tmsclient.cli.console_main``, the command's entry point, before the command runs."""
    global _command_process
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], GEN0_THRESHOLD), *threshold[1:])
    _command_process = True


def import_bs4() -> None:
    """Import bs4; in the command's process, without soupsieve. Called by webforms._import_bs4, under its lock.

    bs4 imports soupsieve as it loads, for CSS selectors, and soupsieve compiles its patterns then: ~30 ms of
    a ~0.3 s `tmsclient upload` (docs/benchmarks.md). tmsclient selects nothing by CSS: webforms walks the tree
    itself. bs4 is written to run without soupsieve (its ``bs4.css`` catches the ImportError, as when soupsieve is
    not installed), and a ``None`` in ``sys.modules`` is Python's documented way to make an import raise
    ImportError. So the command's process imports bs4 with soupsieve hidden for that one import, and unhides it
    at once: anything imported later can still import soupsieve itself. A library import of tmsclient (another
    program's process, the test suite) imports bs4 as it is, whole: a library must not change what its host's
    packages can do. A bs4 that cannot do without soupsieve is imported whole."""
    if "bs4" in sys.modules:
        return
    if _command_process and "soupsieve" not in sys.modules:
        sys.modules["soupsieve"] = None  # type: ignore[assignment]
        try:
            with warnings.catch_warnings():
                # bs4's "The soupsieve package is not installed": true of this process, and not news to its user.
                warnings.simplefilter("ignore")
                import bs4
            return
        except ImportError:  # drop what the failed import left, and import bs4 whole below
            for name in [n for n in sys.modules if n == "bs4" or n.startswith("bs4.")]:
                del sys.modules[name]
        finally:
            if "soupsieve" in sys.modules and sys.modules["soupsieve"] is None:
                del sys.modules["soupsieve"]
    import bs4  # noqa: F401


def _flushed() -> bool:
    """Flush stdout and stderr; False when one of them is closed or broken."""
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return False
    return True


def finish_command_process(code: int) -> NoReturn:
    """Leave the command's process with ``code`` once the command is done.

    The interpreter's own teardown (finalizing every module and object, ~6 ms of an upload) does nothing for a
    finished command: its sessions and files were closed in ``with`` blocks, its output is flushed here, and the
    exit handlers (logging's, and any a tool around it registered) run here as they would. It is skipped only
    when nothing else could need it: not under a tracer or profiler, which write their results after the
    program, not while another thread still runs, which Python would wait for, and not when a stream is
    closed or broken, which Python's own exit reports as it always does."""
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if (run_exit_handlers is None or sys.gettrace() is not None or sys.getprofile() is not None
            or threading.active_count() > 1 or not _flushed()):
        gc.freeze()  # spare the teardown's collections a visit to every object
        sys.exit(code)
    run_exit_handlers()
    _flushed()  # a stream the handlers wrote to may be gone; there is nobody left to tell
    os._exit(code)
