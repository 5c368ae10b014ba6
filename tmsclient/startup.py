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

_lock = threading.Lock()
_state = {"command_process": False}


def prepare_command_process() -> None:
    """Called once by ``tmsclient.cli.console_main``, the command's entry point, before the command runs."""
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], GEN0_THRESHOLD), *threshold[1:])
    _state["command_process"] = True


def import_bs4() -> None:
    """Import bs4; in the command's process, without soupsieve.

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
    with _lock:
        if "bs4" in sys.modules:
            return
        if not _state["command_process"] or "soupsieve" in sys.modules:
            import bs4
            return
        sys.modules["soupsieve"] = None  # type: ignore[assignment]
        try:
            with warnings.catch_warnings():
                # bs4's "The soupsieve package is not installed": true of this process, and not news to its user.
                warnings.simplefilter("ignore")
                import bs4
        except ImportError:
            for name in [n for n in sys.modules if n == "bs4" or n.startswith("bs4.")]:
                del sys.modules[name]
        finally:
            if "soupsieve" in sys.modules and sys.modules["soupsieve"] is None:
                del sys.modules["soupsieve"]
        if "bs4" not in sys.modules:
            import bs4  # noqa: F401


def finish_command_process(code: int) -> NoReturn:
    """Leave the command's process with ``code`` once the command is done.

    The interpreter's own teardown (finalizing every module and object, ~6 ms of an upload) does nothing for a
    finished command: its sessions and files were closed in ``with`` blocks, its output is flushed here, and the
    exit handlers (logging's, and any a tool around it registered) run here as they would. It is skipped only
    when nothing else could need it: not under a tracer or profiler, which write their results after the
    program, and not while another thread still runs, which Python would wait for."""
    gc.freeze()  # in any case: the teardown's collections would otherwise visit every object once more
    if sys.gettrace() is not None or sys.getprofile() is not None or threading.active_count() > 1:
        sys.exit(code)
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        sys.exit(code)  # a closed or broken stream: Python's own exit reports it as it always does
    if run_exit_handlers is None:
        sys.exit(code)
    run_exit_handlers()
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        pass  # the handlers wrote to a stream that is gone; there is nobody left to tell
    os._exit(code)
