"""Hostile answers against a raw HTTP server on 127.0.0.1: one deadline per request, bodies bounded as they arrive."""

from __future__ import annotations

import contextlib
import gzip
import io
import socket
import socketserver
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator

import pytest

from tmsclient.credentials import Secret
from tmsclient.errors import TmsClientError
from tmsclient.exitcodes import ExitCode
from tmsclient.settings import TargetSettings
from tmsclient.tms.session import MAX_BODY_BYTES, TmsSession

GENEROUS_S = 10.0
MAX_GROWTH = 200 * 1024 * 1024
#: No server loop runs longer than this, whatever the client does.
SERVER_LIMIT_S = 30.0

Behaviour = Callable[[socket.socket], None]


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.settimeout(SERVER_LIMIT_S)
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            piece = self.request.recv(4096)
            if not piece:
                return
            data += piece
        with contextlib.suppress(OSError):  # the client hung up, as it should
            self.server.behaviour(self.request)  # type: ignore[attr-defined]


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def serve() -> Iterator[Callable[[Behaviour], str]]:
    servers: list[_Server] = []

    def start(behaviour: Behaviour) -> str:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.behaviour = behaviour  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/tms/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _fetch(url: str, *, timeout: float = 2.0, auth: str = "basic") -> tuple[TmsClientError, float, int]:
    """GET the start page; the error, the seconds it took and the peak of traced memory growth."""
    target = TargetSettings(
        url=url, username="TMSLAB\\admin", password=Secret("pw", "test"), auth=auth, allow_http=True, timeout=timeout
    )
    tracemalloc.start()
    started = time.monotonic()
    try:
        with TmsSession(target, get_retries=0) as session, pytest.raises(TmsClientError) as caught:
            session.get("", what="the TMS start page")
        elapsed = time.monotonic() - started
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return caught.value, elapsed, peak


def _until(deadline_s: float) -> Iterator[int]:
    """Loop counter for a server, bounded in count and in time."""
    end = time.monotonic() + deadline_s
    for i in range(10_000_000):
        if time.monotonic() > end:
            return
        yield i


def drip_body(sock: socket.socket) -> None:
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
    for _ in _until(SERVER_LIMIT_S):
        sock.sendall(b"x")
        time.sleep(0.2)


def drip_headers(sock: socket.socket) -> None:
    sock.sendall(b"HTTP/1.1 200 OK\r\n")
    for _ in _until(SERVER_LIMIT_S):
        sock.sendall(b"X")
        time.sleep(0.2)


def slow_endless_chunks(sock: socket.socket) -> None:
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
    for _ in _until(SERVER_LIMIT_S):
        sock.sendall(b"400\r\n" + b"<p>" * 341 + b"p\r\n")
        time.sleep(0.05)


def fast_endless_chunks(sock: socket.socket) -> None:
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (65536, b"a" * 65536)
    for _ in _until(SERVER_LIMIT_S):
        sock.sendall(chunk)


def _gzip_zeros(size: int) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as gz:
        block = b"\0" * (1024 * 1024)
        for _ in range(size // len(block)):
            gz.write(block)
    return out.getvalue()


BOMB = _gzip_zeros(512 * 1024 * 1024)  # half a megabyte that inflates to 512 MiB


def gzip_bomb(sock: socket.socket) -> None:
    sock.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\n\r\n" % len(BOMB)
    )
    sock.sendall(BOMB)


def huge_401(sock: socket.socket) -> None:
    size = 500 * 1024 * 1024
    sock.sendall(
        b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="tms"\r\nContent-Type: text/html\r\n'
        b"Content-Length: %d\r\n\r\n" % size
    )
    block = b"z" * 65536
    for _ in zip(range(size // len(block)), _until(SERVER_LIMIT_S), strict=False):
        sock.sendall(block)


def huge_page(sock: socket.socket) -> None:
    size = 500 * 1024 * 1024
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % size)
    block = b"<p>" * 21845
    for _ in zip(range(size // len(block)), _until(SERVER_LIMIT_S), strict=False):
        sock.sendall(block)


@pytest.mark.parametrize("behaviour", [drip_body, drip_headers, slow_endless_chunks], ids=lambda b: b.__name__)
def test_a_slow_answer_ends_at_the_overall_timeout(serve, behaviour):
    err, elapsed, peak = _fetch(serve(behaviour), timeout=2.0)
    assert err.exit_code == ExitCode.TIMEOUT, err
    assert "within 2 s" in err.message
    assert elapsed < GENEROUS_S, f"--timeout 2 took {elapsed:.1f} s"
    assert peak < MAX_GROWTH, f"memory grew by {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize("behaviour", [fast_endless_chunks, gzip_bomb, huge_page], ids=lambda b: b.__name__)
def test_a_body_past_the_page_limit_is_refused_while_reading(serve, behaviour):
    err, elapsed, peak = _fetch(serve(behaviour), timeout=20.0)
    assert err.exit_code == ExitCode.PAGE_NOT_UNDERSTOOD, err
    assert f"{MAX_BODY_BYTES:,} bytes" in err.message
    assert peak < MAX_GROWTH, f"memory grew by {peak / 2**20:.0f} MiB"
    assert elapsed < GENEROUS_S * 2


def test_a_huge_401_body_is_not_read_to_its_end(serve):
    err, elapsed, peak = _fetch(serve(huge_401), timeout=20.0)
    assert err.exit_code == ExitCode.AUTH, err
    assert peak < 16 * 1024 * 1024, f"memory grew by {peak / 2**20:.0f} MiB"
    assert elapsed < GENEROUS_S
