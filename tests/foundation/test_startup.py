"""The command's process imports bs4 without soupsieve and collects less often; a library import changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PAGES = REPO / "fixtures" / "pages"


def _python(code: str, *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False, env={**os.environ, **(env or {})}, cwd=REPO)


_REPORT = textwrap.dedent("""
    import gc, json, sys
    report = {
        "soupsieve": "soupsieve" in sys.modules,
        "hidden_left": "soupsieve" in sys.modules and sys.modules["soupsieve"] is None,
        "bs4": "bs4" in sys.modules,
        "gen0": gc.get_threshold()[0],
    }
    import soupsieve  # still importable afterwards, and the real package
    report["soupsieve_select"] = callable(getattr(soupsieve, "select", None))
    print(json.dumps(report))
""")


def test_the_command_process_imports_bs4_without_soupsieve_and_leaves_soupsieve_importable():
    result = _python(textwrap.dedent("""
        from tmsclient import startup
        startup.prepare_command_process()
        from tmsclient.webforms import parse_page
        page = parse_page("<form method=post><input name=a value=1></form>", "https://tms/tms/")
        assert page.forms[0].controls[0].name == "a"
    """) + _REPORT)
    assert result.returncode == 0, result.stderr
    assert "soupsieve" not in result.stderr  # bs4's "not installed" warning is not shown
    report = json.loads(result.stdout)
    assert report == {"soupsieve": False, "hidden_left": False, "bs4": True,
                      "gen0": 200_000, "soupsieve_select": True}


def test_a_library_import_of_tmsclient_imports_bs4_whole_and_keeps_the_collector_as_it_was():
    result = _python(textwrap.dedent("""
        import gc
        before = gc.get_threshold()
        from tmsclient.webforms import parse_page
        parse_page("<form method=post><input name=a value=1></form>", "https://tms/tms/")
        assert gc.get_threshold() == before, gc.get_threshold()
    """) + _REPORT)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["soupsieve"] is True and report["bs4"] is True and report["gen0"] == 700


def test_a_bs4_that_needs_soupsieve_is_imported_whole(tmp_path):
    fake = tmp_path / "bs4"
    fake.mkdir()
    (fake / "__init__.py").write_text("import soupsieve\nNEEDS = soupsieve.select\n", encoding="utf-8")
    result = _python(textwrap.dedent("""
        from tmsclient import startup
        startup.prepare_command_process()
        startup.import_bs4()
        import bs4
        assert callable(bs4.NEEDS)
        print(bs4.__file__)
    """) + _REPORT, env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    first, report_line = result.stdout.splitlines()
    assert first == str(fake / "__init__.py")
    report = json.loads(report_line)
    assert report["soupsieve"] is True and report["hidden_left"] is False and report["soupsieve_select"] is True


def test_pages_parse_to_the_same_model_with_and_without_soupsieve():
    code = """
        import sys
        from pathlib import Path
        from tmsclient import startup
        if sys.argv[1:] == ["command"]:
            startup.prepare_command_process()
        from tmsclient.webforms import parse_page
        for path in sorted(Path("fixtures/pages").glob("*.html")):
            print(path.name, repr(parse_page(path.read_text(encoding="utf-8"), "https://tms.example.com/tms/")))
        assert ("soupsieve" in sys.modules) is (sys.argv[1:] != ["command"])
    """
    run = [sys.executable, "-c", textwrap.dedent(code)]
    whole = subprocess.run(run, capture_output=True, text=True, timeout=120, check=False, cwd=REPO)
    command = subprocess.run([*run, "command"], capture_output=True, text=True, timeout=120, check=False, cwd=REPO)
    assert whole.returncode == 0 and command.returncode == 0, whole.stderr + command.stderr
    assert len(whole.stdout.splitlines()) == len(list(PAGES.glob("*.html"))) >= 5
    assert command.stdout == whole.stdout


def test_tmsclient_show_runs_without_soupsieve_end_to_end(tms_emulator):
    domain, user, password = tms_emulator.admin
    wrapper = """
        import atexit, sys
        atexit.register(lambda: print("MODULES", "soupsieve" in sys.modules, "bs4" in sys.modules, file=sys.stderr))
        sys.argv = ["tmsclient", *sys.argv[1:]]
        from tmsclient.cli import console_main
        console_main()
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(wrapper), "show", "--url", tms_emulator.url, "--username",
         f"{domain}\\{user}", "--ca-bundle", tms_emulator.ca_file, "--site", "acme.webex.com", "--json",
         "--non-interactive"],
        capture_output=True, text=True, timeout=120, check=False, cwd=REPO,
        env={**os.environ, "TMSCLIENT_PASSWORD": password},
    )
    assert result.returncode == 0, result.stderr
    assert [s["host_name"] for s in json.loads(result.stdout)["sites"]] == ["acme.webex.com"]
    assert "MODULES False True" in result.stderr
    assert password not in result.stdout + result.stderr


_EXIT_PROBE = textwrap.dedent("""
    import atexit, sys, threading
    atexit.register(lambda: sys.stderr.write("ATEXIT\\n"))
    mode = sys.argv.pop(1)
    if mode == "profiled":
        sys.setprofile(lambda *a: None)
    if mode == "thread":
        done = threading.Event()
        threading.Thread(target=lambda: (done.wait(0.3), sys.stderr.write("THREAD DONE\\n"))).start()
    from tmsclient import cli
    cli.main = lambda: int(sys.argv[1])  # the command's result, without running one
    sys.stdout.write("OUT")  # unflushed until the exit flushes it
    try:
        cli.console_main()
    except SystemExit:  # Python's own exit; the fast one raises nothing
        sys.stderr.write("SYSTEMEXIT\\n")
        raise
""")


def _exit_probe(mode: str, code: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _EXIT_PROBE, mode, str(code)], capture_output=True, text=True,
                          timeout=60, check=False, cwd=REPO)


def test_the_command_leaves_without_teardown_but_with_its_output_exit_handlers_and_code():
    result = _exit_probe("plain", 7)
    assert result.returncode == 7
    assert result.stdout == "OUT"
    assert result.stderr == "ATEXIT\n"  # no SYSTEMEXIT: os._exit after the exit handlers


def test_under_a_profiler_or_with_a_thread_running_the_command_exits_as_python_does():
    profiled = _exit_probe("profiled", 3)
    assert profiled.returncode == 3 and profiled.stdout == "OUT"
    assert profiled.stderr.splitlines() == ["SYSTEMEXIT", "ATEXIT"]
    threaded = _exit_probe("thread", 0)
    assert threaded.returncode == 0 and threaded.stdout == "OUT"
    assert threaded.stderr.splitlines() == ["SYSTEMEXIT", "THREAD DONE", "ATEXIT"]
