"""A TLS front of the emulator for tests that play a hostile or broken TMS: its own certificates, and a proxy."""

from __future__ import annotations

import http.client
import ssl
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization

from tmsemulator.certmaker import Issued, issue


@dataclass(frozen=True)
class Pki:
    """One CA the client trusts, and two leaves it issued for 127.0.0.1 and localhost: the TMS's and the
    sink's, so a leaking client would find the sink's TLS valid and go all the way."""

    ca_file: Path
    tms: tuple[Path, Path]
    sink: tuple[Path, Path]
    tms_der: bytes
    sink_der: bytes


def _write_leaf(d: Path, name: str, leaf: Issued) -> tuple[Path, Path]:
    cert, key = d / f"{name}.pem", d / f"{name}.key"
    cert.write_bytes(leaf.cert_pem())
    key.write_bytes(leaf.key_pem())
    return cert, key


def make_pki(d: Path) -> Pki:
    """A CA and the two leaves, written to ``d``."""
    ca = issue("Origin Test CA", ca=True)
    names = ["127.0.0.1", "localhost"]
    tms, sink = issue("tms", issuer=ca, sans=names), issue("sink", issuer=ca, sans=names)
    (d / "ca.pem").write_bytes(ca.cert_pem())
    der = serialization.Encoding.DER
    return Pki(
        d / "ca.pem",
        _write_leaf(d, "tms", tms),
        _write_leaf(d, "sink", sink),
        tms.cert.public_bytes(der),
        sink.cert.public_bytes(der),
    )


def server_context(cert: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*cert)
    return ctx


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that give up mid-handshake are what these tests provoke


def serve(httpd: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    return thread


def reply(h: BaseHTTPRequestHandler, code: int, data: bytes, headers: Sequence[tuple[str, str]] = ()) -> None:
    h.send_response(code)
    for name, value in headers:
        h.send_header(name, value)
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


class TlsFront:
    """A TLS proxy in front of the emulator, one upstream connection per client connection (so NTLM passes).

    Subclasses override :meth:`exchange` (called with the handler and the request body) to answer or rewrite;
    :meth:`forward` passes a request upstream and returns (status, headers, body) with the emulator's own
    origin in headers rewritten to the front's.
    """

    def __init__(self, upstream: str, upstream_ca: str, cert: tuple[Path, Path]) -> None:
        self.upstream = urlsplit(upstream)
        self.upstream_ctx = ssl.create_default_context(cafile=upstream_ca)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in separate writes
            up: http.client.HTTPSConnection | None = None

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                owner.exchange(self, self.rfile.read(length) if length else b"")

            do_POST = do_GET

            def finish(self) -> None:
                if self.up is not None:
                    self.up.close()
                super().finish()

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.socket = server_context(cert).wrap_socket(
            self.httpd.socket, server_side=True, do_handshake_on_connect=False
        )
        self.port = self.httpd.server_address[1]
        self.thread = serve(self.httpd)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/tms/"

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def exchange(self, h: Any, body: bytes) -> None:
        status, headers, data = self.forward(h, body)
        reply(h, status, data, headers)

    def forward(self, h: Any, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        if h.up is None:
            assert self.upstream.hostname is not None
            h.up = http.client.HTTPSConnection(
                self.upstream.hostname, self.upstream.port, context=self.upstream_ctx, timeout=20
            )
        skip = {"host", "connection", "content-length", "keep-alive"}
        headers = {k: v for k, v in h.headers.items() if k.lower() not in skip}
        h.up.request(h.command, h.path, body=body, headers=headers)
        answer = h.up.getresponse()
        data = answer.read()
        if answer.will_close:
            h.up.close()
            h.up = None
        theirs = f"{self.upstream.scheme}://{self.upstream.netloc}"
        out = [
            (k, v.replace(theirs, self.origin))
            for k, v in answer.getheaders()
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "keep-alive")
        ]
        return answer.status, out, data
