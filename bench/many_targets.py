"""Benchmark: `upload --all-profiles` to 20 emulated TMS targets (100 ms latency each) against one target.

Target (issue 7): the 20 finish in at most twice the time of one. Each target is its own emulator process
(HTTPS, real NTLM, every answer held back --latency-ms), each with its own administrator password, reached
through its own config profile; the client runs in this process through ``tmsclient.cli.main``, exactly as
the command line would, with ``--reupload`` so that every run really Saves. Prints one row per scenario (the
median of --repeat runs) and the verdict; exits 1 when the target is missed or a run fails.

    .venv/bin/python bench/many_targets.py                    # 20 targets, 100 ms, 3 runs each
    .venv/bin/python bench/many_targets.py --targets 50 --repeat 5 --in-process
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tmsclient.certs.pfxwrite import serialize_pfx
from tmsclient.cli import main as tmsclient_main
from tmsclient.credentials import Secret
from tmsemulator import start
from tmsemulator.certmaker import make_chain

READY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Emulated:
    name: str
    url: str
    ca_file: str
    password: str


@contextlib.contextmanager
def subprocess_emulators(count: int, latency_ms: int, workdir: Path) -> Iterator[list[Emulated]]:
    """``count`` emulator processes on free ports, started together, stopped (SIGTERM) at the end."""
    procs: list[tuple[subprocess.Popen[bytes], Path, str, str]] = []
    try:
        for i in range(count):
            name = f"t{i + 1:02d}"
            password = secrets.token_urlsafe(18)
            users = workdir / f"{name}.users"
            users.write_text(f"TMSLAB:admin:{password}\n", encoding="utf-8")
            users.chmod(0o600)
            ready = workdir / f"{name}.ready.json"
            cmd = [
                sys.executable,
                "-m",
                "tmsemulator",
                "--port",
                "0",
                "--users",
                str(users),
                "--ready-file",
                str(ready),
                "--fault-delay-ms",
                str(latency_ms),
            ]
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append((proc, ready, name, password))
        found = []
        deadline = time.monotonic() + READY_TIMEOUT_S
        for proc, ready, name, password in procs:
            while not ready.exists():
                if proc.poll() is not None:
                    raise SystemExit(f"emulator {name} exited with {proc.returncode} before it was ready")
                if time.monotonic() > deadline:
                    raise SystemExit(f"emulator {name} was not ready after {READY_TIMEOUT_S:.0f} s")
                time.sleep(0.05)  # a benchmark's wait for a process, not a test's synchronisation
            info = json.loads(ready.read_text(encoding="utf-8"))
            found.append(Emulated(name, info["url"], info["ca_file"], password))
        yield found
    finally:
        for proc, *_ in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc, *_ in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def inprocess_emulators(count: int, latency_ms: int) -> Iterator[list[Emulated]]:
    """The same, as emulator threads inside this process (they then share its CPU with the client)."""
    started: list[Any] = []
    found: list[Emulated] = []
    try:
        for i in range(count):
            password = secrets.token_urlsafe(18)
            em = start(users=[("TMSLAB", "admin", password)], faults={"delay_ms": latency_ms})
            started.append(em)
            assert em.ca_file is not None  # HTTPS is the default
            found.append(Emulated(f"t{i + 1:02d}", em.url, em.ca_file, password))
        yield found
    finally:
        for em in started:
            em.stop()


def write_config(path: Path, targets: list[Emulated]) -> dict[str, str]:
    """One profile per target, each password by env: reference; returns the environment holding them."""
    lines = ["[defaults]", "username = 'TMSLAB\\admin'", 'site = "acme"', ""]
    env = {}
    for t in targets:
        var = f"BENCH_TMS_PW_{t.name.upper()}"
        lines += [
            f"[profiles.{t.name}]",
            f'url = "{t.url}"',
            f'ca_bundle = "{t.ca_file}"',
            f'password = "env:{var}"',
            "",
        ]
        env[var] = t.password
    path.write_text("\n".join(lines), encoding="utf-8")
    path.chmod(0o600)
    return env


def make_pfx(path: Path) -> str:
    chain = make_chain("tms.acme.example", days=90)
    password = secrets.token_urlsafe(18)
    path.write_bytes(
        serialize_pfx(
            key=chain.leaf.key, cert=chain.leaf.cert, cas=[chain.intermediate.cert], password=Secret(password, "bench")
        )
    )
    path.chmod(0o600)
    return password


def run_cli(argv: list[str], env: dict[str, str]) -> tuple[float, int, Any]:
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    code = tmsclient_main(argv, stdout=out, stderr=err, stdin=io.StringIO(""), environ=env, interactive=False)
    elapsed = time.perf_counter() - started
    try:
        report = json.loads(out.getvalue())
    except json.JSONDecodeError:
        report = {"stdout": out.getvalue(), "stderr": err.getvalue()}
    return elapsed, code, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=20)
    parser.add_argument("--latency-ms", type=int, default=100, help="held back before every answer")
    parser.add_argument("--repeat", type=int, default=3, help="runs per scenario (the median is shown)")
    parser.add_argument("--in-process", action="store_true", help="emulators as threads in this process")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tmsclient-bench-") as tmp:
        work = Path(tmp)
        pfx = work / "tms.pfx"
        pfx_password = make_pfx(pfx)
        started = time.perf_counter()
        emulators = (
            inprocess_emulators(args.targets, args.latency_ms)
            if args.in_process
            else subprocess_emulators(args.targets, args.latency_ms, work)
        )
        with emulators as targets:
            boot = time.perf_counter() - started
            config = work / "config.toml"
            env = {
                **{k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ},
                **write_config(config, targets),
                "TMSCLIENT_PFX_PASSWORD": pfx_password,
            }
            base = ["upload", "--config", str(config), "--pfx", str(pfx), "--reupload", "--json", "--non-interactive"]
            scenarios = [
                ("one target", 1, "-", [*base, "--profile", targets[0].name]),
                (
                    f"{len(targets)} targets",
                    len(targets),
                    str(len(targets)),
                    [*base, "--all-profiles", "--max-parallel", str(len(targets))],
                ),
                (f"{len(targets)} targets, default pool", len(targets), "4 (default)", [*base, "--all-profiles"]),
            ]
            run_cli(scenarios[0][3], env)  # warm-up: imports, first TLS handshake
            results = []
            failed = False
            for label, count, pool, argv in scenarios:
                times = []
                for _ in range(args.repeat):
                    elapsed, code, report = run_cli(argv, env)
                    if code != 0:
                        failed = True
                        print(f"{label}: exit {code}: {json.dumps(report)[:2000]}", file=sys.stderr)
                    times.append(elapsed)
                results.append((label, count, pool, statistics.median(times), min(times), max(times)))

    one = results[0][3]
    where = "in-process threads" if args.in_process else "one process each"
    print(
        f"many targets, `tmsclient upload` against emulated TMS servers: {args.latency_ms} ms latency per answer, "
        "emulators "
        f"{where} (started in {boot:.1f} s), {args.repeat} runs per scenario, {os.cpu_count()} CPUs"
    )
    print(f"{'scenario':<30} {'targets':>7} {'pool':>12} {'median s':>9} {'min s':>7} {'max s':>7} {'x one':>6}")
    for label, count, pool, median, low, high in results:
        print(f"{label:<30} {count:>7} {pool:>12} {median:>9.2f} {low:>7.2f} {high:>7.2f} {median / one:>6.2f}")
    ratio = results[1][3] / one
    verdict = "PASS" if ratio <= 2.0 and not failed else "FAIL"
    print(
        f"{verdict}: {results[1][1]} targets took {ratio:.2f}x the time of one (target: at most 2x)"
        + ("; some runs failed (see stderr)" if failed else "")
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
