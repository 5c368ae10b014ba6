"""tmsclient's benchmarks: one run, one table, PASS/FAIL per target, exit 1 if a target fails.

    python bench/run.py                  # the emulator (in this process), plus the staging stand-in if one is up
    python bench/run.py --quick          # fewer repetitions (about 15 s)
    python bench/run.py --json           # the measurements as JSON
    python bench/run.py --with-staging   # start the Apache/Mono stand-in (staging/up) for the run, stop it after
    python bench/run.py --staging-ready FILE   # use a running stand-in ($TMS_STAGING_READY_FILE works too)

What it measures (docs/benchmarks.md explains each target and the protocol minimum):

1. requests and request-body bytes of one `tmsclient upload` against the protocol minimum: the NTLM login
   (3 requests, once per connection) plus one request per page a browser must load or post (the WebEx
   Settings page, the site's Edit postback, the Save, and the re-read: the page and the Edit postback
   again; the start page too when the menu is walked); every body once, the .pfx once;
2. wall time of `tmsclient upload --page-url ...` (a subprocess, median of N) against bench/reference_upload.py,
   a minimal hand-written requests-ntlm script doing the same GET, POSTs and re-read; the ratio is the tool's
   overhead (target <= 1.3);
3. cold start of `tmsclient --help` and `tmsclient upload --help` against a bare `python -c pass`
   (target: at most 150 ms more);
4. parse-and-build time for a WebEx site form with a 2 MB view state: parse the page, find the site's fields,
   build the Save and encode its body (target < 100 ms).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "bench" / "reference_upload.py"
FIXTURE = REPO / "fixtures" / "pages" / "tms15_site_form.html"

OVERHEAD_TARGET = 1.3
HELP_TARGET_MS = 150.0
PARSE_TARGET_MS = 100.0
VIEWSTATE_BYTES = 2 * 1024 * 1024


@dataclass
class Row:
    group: str
    what: str
    measured: str
    baseline: str
    target: str
    verdict: str  # PASS, FAIL or info
    numbers: dict[str, Any] = field(default_factory=dict)


@dataclass
class Target:
    """One stand-in to upload to."""

    name: str
    base_url: str
    page_url: str
    ca_file: str
    user: str
    password: str
    site_host: str
    counters: Callable[[], dict[str, Any]] | None = None  # the emulator's counters; None for staging


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
    return time.perf_counter() - started, proc


def tool_cmd() -> list[str]:
    """The installed console script next to this interpreter, as a user runs it; else ``python -m``."""
    script = Path(sys.executable).with_name("tmsclient")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tmsclient"]


def clean_env(**extra: str) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "SYSTEMROOT")
    return {**{k: os.environ[k] for k in keep if k in os.environ}, **extra}


# ------------------------------------------------------------------------------------------- the .pfx


def make_pfx(directory: Path) -> tuple[Path, str, str]:
    """A fit .pfx (3DES, SHA-1 MAC), its password and thumbprint."""
    from cryptography.hazmat.primitives import hashes

    from tmsclient.certs.pfxwrite import serialize_pfx
    from tmsclient.credentials import Secret
    from tmsemulator.certmaker import issue

    # No "&#" or "<" + letter: ASP.NET request validation would refuse the Save (a known tmsclient issue).
    password = f"Bench pfx {secrets.token_hex(6)} & %"
    cert = issue("tms.bench.example", days=365)
    path = directory / "tms-cert.pfx"
    path.write_bytes(serialize_pfx(key=cert.key, cert=cert.cert, password=Secret(password, "bench")))
    return path, password, cert.cert.fingerprint(hashes.SHA1()).hex().upper()


# ------------------------------------------------------------------------------------------- uploads


def upload_rows(t: Target, pfx: Path, pfx_password: str, thumbprint: str, runs: int) -> list[Row]:
    env = clean_env(TMSCLIENT_TMS_PASSWORD=t.password, TMSCLIENT_PFX_PASSWORD=pfx_password)
    base = [*tool_cmd(), "upload", "--url", t.base_url, "--username", t.user, "--ca-bundle", t.ca_file,
            "--site", t.site_host, "--pfx", str(pfx), "--json", "--non-interactive", "--reupload"]
    page_rel = t.page_url[len(t.base_url):] if t.page_url.startswith(t.base_url) else t.page_url
    ref = [sys.executable, str(REFERENCE), "--page", t.page_url, "--user", t.user, "--ca", t.ca_file,
           "--site-host", t.site_host, "--pfx", str(pfx), "--thumbprint", thumbprint]
    ref_env = clean_env(TMS_PASSWORD=t.password, PFX_PASSWORD=pfx_password)

    def tool(*extra: str) -> tuple[float, dict[str, Any], dict[str, Any] | None]:
        before = t.counters() if t.counters else None
        seconds, proc = timed([*base, *extra], env)
        if proc.returncode != 0:
            raise SystemExit(f"tmsclient upload failed against {t.name} (exit {proc.returncode}):\n{proc.stderr}")
        report = json.loads(proc.stdout)
        server = None
        if t.counters and before is not None:
            after = t.counters()
            bodies = after["post_bodies"][len(before["post_bodies"]):]
            server = {"requests": after["requests"] - before["requests"],
                      "unauthorized": after["unauthorized"] - before["unauthorized"],
                      "bodies": len(bodies), "body_bytes": sum(b["bytes"] for b in bodies),
                      "pfx_copies": sum(1 for b in bodies for f in b["files"] if f["bytes"] > 0)}
        return seconds, report, server

    def reference() -> tuple[float, dict[str, Any]]:
        seconds, proc = timed(ref, ref_env)
        if proc.returncode != 0:
            raise SystemExit(f"the reference script failed against {t.name}:\n{proc.stdout}{proc.stderr}")
        return seconds, json.loads(proc.stdout)

    # Warm both (page compilation on the stand-in, the OS file cache), then interleave the timed runs.
    _, walked, walked_server = tool()
    reference()
    tool_times, ref_times = [], []
    direct: dict[str, Any] = {}
    direct_server: dict[str, Any] | None = None
    ref_report: dict[str, Any] = {}
    for _ in range(runs):
        seconds, direct, direct_server = tool("--page-url", page_rel)
        tool_times.append(seconds)
        seconds, ref_report = reference()
        ref_times.append(seconds)
    assert direct["action"] == "uploaded" and direct["thumbprint_sha1"] == thumbprint
    assert ref_report["ok"]

    g = f"upload ({t.name})"
    rows = []
    minimum_walk, minimum_direct = 3 + 5, 3 + 4
    rows.append(Row(g, "requests, menu walk", str(walked["requests"]), f"minimum {minimum_walk}",
                    f"= {minimum_walk}", "PASS" if walked["requests"] == minimum_walk else "FAIL",
                    {"tool": walked["requests"], "minimum": minimum_walk, "server": walked_server}))
    rows.append(Row(g, "requests, --page-url", str(direct["requests"]),
                    f"minimum {minimum_direct}; script {ref_report['requests']}", f"= {minimum_direct}",
                    "PASS" if direct["requests"] == minimum_direct else "FAIL",
                    {"tool": direct["requests"], "minimum": minimum_direct, "reference": ref_report["requests"],
                     "server": direct_server}))
    if direct_server is not None:
        rows.append(Row(g, ".pfx copies on the wire", str(direct_server["pfx_copies"]), "minimum 1", "= 1",
                        "PASS" if direct_server["pfx_copies"] == 1 else "FAIL", {"server": direct_server}))
    ratio_bytes = direct["bytes_sent"] / max(1, ref_report["bytes_sent"])
    rows.append(Row(g, "request body bytes", f"{direct['bytes_sent']:,}",
                    f"script {ref_report['bytes_sent']:,} (each body once)", "<= 1.05 x script",
                    "PASS" if ratio_bytes <= 1.05 else "FAIL",
                    {"tool": direct["bytes_sent"], "reference": ref_report["bytes_sent"], "ratio": ratio_bytes}))
    tool_ms, ref_ms = median_ms(tool_times), median_ms(ref_times)
    ratio = tool_ms / ref_ms
    rows.append(Row(g, f"wall time, median of {runs}", f"{tool_ms:.0f} ms", f"script {ref_ms:.0f} ms",
                    f"ratio <= {OVERHEAD_TARGET}", f"{'PASS' if ratio <= OVERHEAD_TARGET else 'FAIL'} ({ratio:.2f})",
                    {"tool_ms": tool_ms, "reference_ms": ref_ms, "ratio": ratio, "tool_samples_s": tool_times,
                     "reference_samples_s": ref_times, "tool_inside_s": direct.get("elapsed_s"),
                     "reference_inside_s": ref_report.get("elapsed_s")}))
    return rows


# ------------------------------------------------------------------------------------------- cold start


def cold_start_rows(runs: int) -> list[Row]:
    env = clean_env()
    commands = {"python -c pass": [sys.executable, "-c", "pass"],
                "tmsclient --help": [*tool_cmd(), "--help"],
                "tmsclient upload --help": [*tool_cmd(), "upload", "--help"]}
    samples: dict[str, list[float]] = {k: [] for k in commands}
    for cmd in commands.values():  # warm the file cache
        subprocess.run(cmd, env=env, capture_output=True, check=False)
    for _ in range(runs):
        for name, cmd in commands.items():
            seconds, proc = timed(cmd, env)
            if proc.returncode != 0:
                raise SystemExit(f"{name} failed: {proc.stderr}")
            samples[name].append(seconds)
    bare = median_ms(samples["python -c pass"])
    rows = []
    for name in ("tmsclient --help", "tmsclient upload --help"):
        ms = median_ms(samples[name])
        extra = ms - bare
        rows.append(Row("cold start", f"{name}, median of {runs}", f"{ms:.0f} ms", f"python -c pass {bare:.0f} ms",
                        f"<= +{HELP_TARGET_MS:.0f} ms", f"{'PASS' if extra <= HELP_TARGET_MS else 'FAIL'} "
                        f"(+{extra:.0f} ms)", {"ms": ms, "bare_ms": bare, "extra_ms": extra, "samples_s": samples[name],
                                               "bare_samples_s": samples["python -c pass"]}))
    return rows


# ------------------------------------------------------------------------------------------- parse and build


def big_site_form() -> str:
    page = FIXTURE.read_text(encoding="utf-8")
    marker = 'id="__VIEWSTATE" value="'
    start = page.index(marker) + len(marker)
    end = page.index('"', start)
    rng = secrets.token_bytes(VIEWSTATE_BYTES * 3 // 4)
    import base64

    return page[:start] + base64.b64encode(rng).decode()[:VIEWSTATE_BYTES] + page[end:]


def parse_and_build(html: str, pfx: bytes, password: Any) -> int:
    """What upload does with a site form page: parse, locate the fields, plan the Save, encode its body."""
    from tmsclient.tms.driver import SiteRow, UploadIntent, build_plan, read_site_form
    from tmsclient.tms.pageprofile import DEFAULT_PROFILE
    from tmsclient.tms.session import encode_form
    from tmsclient.tms.webforms import FileField, parse_page

    page = parse_page(html, "https://tms.example.com/tms/default.aspx?pageId=83", status=200)
    row = SiteRow("acme.webex.com", "acme", None, None, None, None)
    view = read_site_form(page, row, DEFAULT_PROFILE)
    plan = build_plan(view, UploadIntent("tms-cert.pfx", pfx, password, enable_sso=True))
    fields = [(e.name, (e.value.filename, e.value.content, e.value.content_type) if isinstance(e.value, FileField)
               else e.value) for e in plan.submission.entries()]
    body, _ = encode_form(fields, multipart=True)
    return len(body)


def parse_rows(runs: int, pfx: Path, pfx_password: str) -> list[Row]:
    from tmsclient.credentials import Secret

    html = big_site_form()
    data, password = pfx.read_bytes(), Secret(pfx_password, "bench")
    size = parse_and_build(html, data, password)  # warm: imports, regex compilation
    assert size > VIEWSTATE_BYTES
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        parse_and_build(html, data, password)
        samples.append(time.perf_counter() - started)
    ms = median_ms(samples)
    return [Row("parse and build", f"site form with a 2 MB view state, median of {runs}", f"{ms:.1f} ms", "",
                f"< {PARSE_TARGET_MS:.0f} ms", "PASS" if ms < PARSE_TARGET_MS else "FAIL",
                {"ms": ms, "page_bytes": len(html), "body_bytes": size, "samples_s": samples})]


# ------------------------------------------------------------------------------------------- stand-ins


@contextmanager
def emulator_target(workdir: Path) -> Iterator[Target]:
    from tmsemulator import start

    password = f"Bench tms {secrets.token_hex(6)} &"
    em = start(users=[("TMSLAB", "admin", password)], admins=["admin"])
    try:
        assert em.ca_file is not None
        yield Target("emulator", em.url, f"{em.url}default.aspx?pageId=83", em.ca_file, "TMSLAB\\admin", password,
                     "acme.webex.com", counters=lambda: em.state()["counters"])
    finally:
        em.stop()


def _staging_from_ready(ready: dict[str, Any]) -> Target:
    from tmsemulator.config import User, parse_users_text

    users_file = Path(ready["users_file"])
    for user in parse_users_text(users_file.read_text(encoding="utf-8"), str(users_file)):
        admin = User(*user)
        if admin.name == "admin":
            return Target("staging", ready["url"], ready["webex_url"], ready["ca_file"], admin.login, admin.password,
                          "example.webex.com")
    raise SystemExit(f"{users_file} has no admin account")


@contextmanager
def staging_target(args: argparse.Namespace, workdir: Path) -> Iterator[Target | None]:
    ready_file = args.staging_ready or os.environ.get("TMS_STAGING_READY_FILE")
    if ready_file and Path(ready_file).exists():
        yield _staging_from_ready(json.loads(Path(ready_file).read_text(encoding="utf-8")))
        return
    if not args.with_staging:
        yield None
        return
    state = workdir / "staging"
    users = workdir / "users.txt"
    users.write_text(f"TMS:admin:Bench-{secrets.token_urlsafe(12)}\n", encoding="utf-8")
    users.chmod(0o600)
    ready = workdir / "staging-ready.json"
    up = subprocess.run([str(REPO / "staging" / "up"), "--port", "0", "--state-dir", str(state), "--users", str(users),
                         "--admins", "admin", "--ready-file", str(ready)], capture_output=True, text=True,
                        timeout=300, check=False)
    try:
        if up.returncode != 0:
            raise SystemExit(f"staging/up failed (exit {up.returncode}):\n{up.stderr[-3000:]}")
        yield _staging_from_ready(json.loads(ready.read_text(encoding="utf-8")))
    finally:
        subprocess.run([str(REPO / "staging" / "down"), "--state-dir", str(state)], capture_output=True,
                       timeout=120, check=False)


# ------------------------------------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    return {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu,
            "cores": os.cpu_count(), "memory": mem, "os": platform.platform(),
            "python": platform.python_version()}


def render(rows: list[Row], info: dict[str, Any]) -> str:
    head = ("group", "measure", "tmsclient", "baseline", "target", "result")
    body = [(r.group, r.what, r.measured, r.baseline, r.target, r.verdict) for r in rows]
    widths = [max(len(x[i]) for x in (head, *body)) for i in range(len(head))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |"
    sep = "| " + " | ".join("-" * w for w in widths) + " |"
    out = [f"machine: {info['cpu']}, {info['cores']} cores, {info['memory']}, {info['os']}, "
           f"Python {info['python']}; {info['date']}", "", line, sep]
    out += ["| " + " | ".join(c.ljust(w) for c, w in zip(x, widths, strict=True)) + " |" for x in body]
    failed = [r for r in rows if r.verdict.startswith("FAIL")]
    out += ["", f"{len(rows) - len(failed)} of {len(rows)} rows pass" + (
        "" if not failed else ": FAILED " + "; ".join(f"{r.group}: {r.what}" for r in failed))]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the measurements as JSON")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--with-staging", action="store_true", help="start the Apache/Mono stand-in for the run")
    ap.add_argument("--staging-ready", metavar="FILE", help="the ready file of a running stand-in")
    ap.add_argument("-n", "--runs", type=int, help="repetitions of each timed command")
    args = ap.parse_args(argv)
    upload_runs = args.runs or (3 if args.quick else 7)
    start_runs = args.runs or (5 if args.quick else 15)
    parse_runs = args.runs or (5 if args.quick else 15)

    info = machine()
    rows: list[Row] = []
    workdir = Path(tempfile.mkdtemp(prefix="tmsclient-bench-"))
    try:
        pfx, pfx_password, thumbprint = make_pfx(workdir)
        with emulator_target(workdir) as em:
            rows += upload_rows(em, pfx, pfx_password, thumbprint, upload_runs)
        with staging_target(args, workdir) as staging:
            if staging is not None:
                rows += upload_rows(staging, pfx, pfx_password, thumbprint, upload_runs)
            else:
                rows.append(Row("upload (staging)", "not measured", "-", "-", "-", "info",
                                {"why": "no stand-in up: pass --with-staging or --staging-ready FILE"}))
        rows += cold_start_rows(start_runs)
        rows += parse_rows(parse_runs, pfx, pfx_password)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    failed = any(r.verdict.startswith("FAIL") for r in rows)
    if args.json:
        print(json.dumps({"machine": info, "ok": not failed, "rows": [asdict(r) for r in rows]}, indent=2))
    else:
        print(render(rows, info))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
