"""Broken answers a TLS front of the emulator can give in place of TMS's: a dropped connection, a stall, bytes
outside TLS, a body that does not decode, a redirect loop; and a front that gives them after the Save."""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path
from typing import Any

from tests.helpers.tls_front import TlsFront, reply

#: A redirect target on the TMS's own origin, answered by the front itself.
AFTER_SAVE = "/tms/after-save.aspx"

#: What each broken answer is, for test ids and messages.
BROKEN = ("drop", "stall", "tls-garbage", "bad-gzip", "bad-chunked", "redirect-loop")


def answer_broken(h: Any, how: str, release: threading.Event) -> None:
    """Answer the request on handler ``h`` in the broken way ``how`` (one of BROKEN)."""
    h.close_connection = True
    if how == "drop":  # the connection closes with no answer at all
        _shut(h)
    elif how == "stall":  # the status line never comes (until the front closes)
        release.wait(30)
        _shut(h)
    elif how == "tls-garbage":  # bytes outside the TLS records: the client's TLS layer fails
        with contextlib.suppress(OSError):
            socket.socket.sendall(h.connection, b"HTTP/1.1 200 OK\r\n\r\nnot a TLS record")
        _shut(h)
    elif how == "bad-gzip":
        reply(h, 200, b"\x1f\x8b\x08\x00 this is not deflate data", [("Content-Encoding", "gzip")])
    elif how == "bad-chunked":
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.wfile.write(b"zz\r\nnot a chunk size\r\n")
        _shut(h)
    elif how == "redirect-loop":
        reply(h, 302, b"", [("Location", h.path)])
    else:
        raise AssertionError(how)


def _shut(h: Any) -> None:
    with contextlib.suppress(OSError):
        socket.socket.shutdown(h.connection, socket.SHUT_RDWR)


class SaveBreakingTms(TlsFront):
    """The emulator behind a front that forwards the Save (so TMS applies it, unless ``apply`` is false) and
    then either answers it broken (``save_answer``) or redirects it to AFTER_SAVE on the same origin, which
    it answers broken (``after_save``). ``log`` is every request seen: (method, path, whether it is the Save).
    """

    def __init__(
        self,
        upstream: str,
        upstream_ca: str,
        cert: tuple[Path, Path],
        *,
        save_answer: str | None = None,
        after_save: str | None = None,
        apply: bool = True,
    ) -> None:
        self.save_answer, self.after_save, self.apply = save_answer, after_save, apply
        self.log: list[tuple[str, str, bool]] = []
        self.release = threading.Event()
        super().__init__(upstream, upstream_ca, cert)

    def close(self) -> None:
        self.release.set()
        super().close()

    def exchange(self, h: Any, body: bytes) -> None:
        is_save = h.command == "POST" and b"saveButton" in body
        self.log.append((h.command, h.path, is_save))
        if h.path == AFTER_SAVE and self.after_save is not None:
            return answer_broken(h, self.after_save, self.release)
        if is_save and (self.save_answer or self.after_save):
            if self.apply:
                self.forward(h, body)
            if self.save_answer is not None:
                return answer_broken(h, self.save_answer, self.release)
            return reply(h, 302, b"", [("Location", AFTER_SAVE)])
        status, headers, data = self.forward(h, body)
        reply(h, status, data, headers)

    @property
    def saves_sent(self) -> int:
        return sum(1 for _m, _p, is_save in self.log if is_save)
