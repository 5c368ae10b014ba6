"""Never claim what did not happen: a Save that cannot carry the file is never sent, and an answer after which
TMS may have applied the Save says so (exit 22, how to check) unless the re-read proves the outcome."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.helpers.tls_front import Pki, TlsFront, make_pki, reply
from tmsclient.exitcodes import ExitCode

ADMIN = "TMSLAB\\admin"
SAVE = b'name="ctl00$uxContent$ctl01$saveButton"'
MULTIPART_FORM = b'id="aspnetForm" enctype="multipart/form-data"'
YELLOW = (
    b"<html><head><title>Object reference not set to an instance of an object.</title></head><body>"
    b"<h1>Server Error in '/tms' Application.</h1><h2><i>Object reference not set to an instance of an object."
    b"</i></h2></body></html>"
)
NOT_FOUND = b"<html><head><title>404 - File or directory not found.</title></head><body>Not found</body></html>"
GENERIC_ERROR = b"<html><head><title>Error</title></head><body><h1>An error occurred.</h1></body></html>"
#: A foreign origin nothing listens on: tmsclient must not even try it.
FOREIGN = "https://127.0.0.1:9"


class BrokenTms(TlsFront):
    """The emulator behind a front that rewrites the site's form (``rewrite``: old, new) or replaces TMS's
    answer to the Save with ``answer`` (status, headers, body), after forwarding the Save to the emulator
    (``apply``) or not. ``pages`` are extra paths the front serves itself. ``log`` is every request seen:
    (method, path, whether it is the Save)."""

    def __init__(
        self,
        t: Any,
        pki: Pki,
        *,
        rewrite: tuple[bytes, bytes] | None = None,
        answer: tuple[int, list[tuple[str, str]], bytes] | None = None,
        apply: bool = True,
        pages: dict[str, tuple[int, list[tuple[str, str]], bytes]] | None = None,
    ) -> None:
        self.rewrite, self.answer, self.apply, self.pages = rewrite, answer, apply, pages or {}
        self.log: list[tuple[str, str, bool]] = []
        self.rewrote = 0
        super().__init__(t.url, t.em.ca_file, pki.tms)

    def exchange(self, h: Any, body: bytes) -> None:
        is_save = h.command == "POST" and b"saveButton" in body
        self.log.append((h.command, h.path, is_save))
        if h.path in self.pages:
            status, headers, data = self.pages[h.path]
            return reply(h, status, data, headers)
        if is_save and self.answer is not None:
            if self.apply:
                self.forward(h, body)  # TMS runs the Save; only its answer is replaced
            status, headers, data = self.answer
            self.answer = None
            return reply(h, status, data, headers)
        status, headers, data = self.forward(h, body)
        if self.rewrite is not None and status == 200 and SAVE in data:
            new = data.replace(*self.rewrite)
            assert new != data, "the rewrite must change the site's form"
            self.rewrote += 1
            data = new
        reply(h, status, data, headers)

    @property
    def saves_sent(self) -> list[tuple[str, str, bool]]:
        return [r for r in self.log if r[2]]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("outcome-pki"))


@pytest.fixture
def broken(tms: Callable[..., Any], pki: Pki) -> Iterator[Callable[..., tuple[Any, BrokenTms]]]:
    """``broken(cert_details="none", **front)`` -> (the emulator's Tms, the front that breaks it)."""
    fronts: list[BrokenTms] = []

    def make(cert_details: str = "none", **front: Any) -> tuple[Any, BrokenTms]:
        t = tms(cert_details=cert_details)
        made = BrokenTms(t, pki, **front)
        fronts.append(made)
        return t, made

    yield make
    for f in fronts:
        f.close()


def upload(cli: Any, t: Any, front: BrokenTms, pki: Pki, pfx: Callable[..., Any], *extra: str) -> Any:
    f = pfx()
    argv = ["--url", front.url, "--username", ADMIN, "--non-interactive", "--ca-bundle", str(pki.ca_file)]
    return cli("upload", *argv, "--json", "--site", "acme", "--pfx", str(f.path), *extra, env={**t.env, **f.env})


# ------------------------------------------------------------------------------- a Save that cannot carry the file


def _button(attrs: bytes) -> tuple[bytes, bytes]:
    return SAVE, SAVE + b" " + attrs


ATTRIBUTE_CASES = [
    pytest.param(
        _button(b'formenctype="application/x-www-form-urlencoded"'),
        "formenctype='application/x-www-form-urlencoded'",
        id="formenctype-urlencoded",
    ),
    pytest.param(_button(b'formenctype="text/plain"'), "formenctype='text/plain'", id="formenctype-text-plain"),
    pytest.param(_button(b'formmethod="get"'), "formmethod='get'", id="formmethod-get"),
    pytest.param(_button(b'formmethod=""'), "formmethod=''", id="formmethod-empty"),
    pytest.param(
        (MULTIPART_FORM, b'id="aspnetForm"'), "the form's enctype is application/x-www-form", id="form-enctype"
    ),
    pytest.param(
        (b'<form method="post"', b'<form method="get"'),
        "the form's method is GET",
        id="form-method-get",
    ),
]


@pytest.mark.parametrize("dry_run", [False, True], ids=["upload", "dry-run"])
@pytest.mark.parametrize(("rewrite", "named"), ATTRIBUTE_CASES)
def test_a_save_that_would_send_only_the_file_name_is_never_sent(cli, broken, pki, pfx, rewrite, named, dry_run):
    t, front = broken(rewrite=rewrite)
    result = upload(cli, t, front, pki, pfx, *(["--dry-run"] if dry_run else []))
    assert front.rewrote >= 1, result  # the rewritten form was served
    assert front.saves_sent == [], front.log
    assert t.counters()["saves_applied"] == 0 and t.counters()["saves_refused"] == 0
    assert result.code == ExitCode.PAGE_NOT_UNDERSTOOD, result
    error = result.json["error"]
    assert error["type"] == "SubmissionKindError"
    assert named in error["message"] and "not multipart/form-data" in error["message"]
    assert "only the file's name" in error["message"] and "nothing was sent" in error["message"]


# ------------------------------------------------------------------------------- an answer after the Save


AFTER_SAVE = {
    "redirect-to-error-page": (
        (302, [("Location", "/tms/Error.aspx?aspxerrorpath=/tms/default.aspx")], b""),
        {"/tms/Error.aspx?aspxerrorpath=/tms/default.aspx": (200, [("Content-Type", "text/html")], GENERIC_ERROR)},
        "a redirect to an error page (https://127.0.0.1:",
    ),
    "redirect-to-a-500": (
        (302, [("Location", "/tms/oops.aspx")], b""),
        {"/tms/oops.aspx": (500, [("Content-Type", "text/html")], YELLOW)},
        "/tms/oops.aspx, HTTP 500: Object reference not set",
    ),
    "404-page": ((404, [("Content-Type", "text/html")], NOT_FOUND), {}, "a page with HTTP 404"),
    "error-page-400": ((400, [("Content-Type", "text/html")], YELLOW), {}, "a page with HTTP 400: Object reference"),
    "error-page-200": ((200, [("Content-Type", "text/html")], YELLOW), {}, "a page with an ASP.NET error page"),
    "302-to-another-origin": (
        (302, [("Location", FOREIGN + "/tms/")], b""),
        {},
        f"a redirect to {FOREIGN}, another origin",
    ),
    "302-then-another-origin": (
        (302, [("Location", "/tms/hop.aspx")], b""),
        {"/tms/hop.aspx": (302, [("Location", FOREIGN + "/tms/")], b"")},
        f"a redirect to {FOREIGN}, another origin",
    ),
    "307": (
        (307, [("Location", "/tms/default.aspx?pageId=83")], b""),
        {},
        "307 to /tms/default.aspx?pageId=83, which asks to send the form again",
    ),
}


@pytest.mark.parametrize("case", list(AFTER_SAVE))
def test_an_answer_after_which_tms_may_have_applied_the_save_says_so_and_how_to_check(cli, broken, pki, pfx, case):
    answer, pages, said = AFTER_SAVE[case]
    t, front = broken(answer=answer, pages=pages)
    result = upload(cli, t, front, pki, pfx)
    assert len(front.saves_sent) == 1 and t.counters()["saves_applied"] == 1, front.log  # TMS did apply it
    assert result.code == ExitCode.OUTCOME_UNKNOWN, result
    error = result.json["error"]
    assert error["code"] == "OUTCOME_UNKNOWN"
    assert said in error["message"], error
    assert "the change may have been applied" in error["message"]
    text = error["message"] + (error["hint"] or "")
    assert not any(c in text for c in ("nothing was changed", "nothing was applied", "not applied"))
    assert "`tmsclient verify --site acme.webex.com/acme --pfx FILE`" in (error["hint"] or "")
    # The re-read that could not tell went to TMS, never anywhere else, and no Save was sent twice.
    assert not any("9/" in path for _m, path, _s in front.log)


@pytest.mark.parametrize("case", ["redirect-to-error-page", "404-page", "307"])
def test_a_reread_that_shows_the_certificate_stored_proves_the_save(cli, broken, pki, pfx, case):
    answer, pages, said = AFTER_SAVE[case]
    t, front = broken(cert_details="summary", answer=answer, pages=pages)
    result = upload(cli, t, front, pki, pfx)
    assert result.code == ExitCode.OK, result
    assert result.json["verification"] == "certificate" and t.counters()["saves_applied"] == 1
    warnings = " ".join(result.json["warnings"])
    assert said in warnings and "the re-read shows it stored it" in warnings


@pytest.mark.parametrize("case", ["redirect-to-error-page", "404-page", "error-page-200"])
def test_a_reread_that_shows_the_old_certificate_proves_it_was_not_stored(cli, broken, pki, pfx, case):
    answer, pages, said = AFTER_SAVE[case]
    t, front = broken(cert_details="summary", answer=answer, pages=pages, apply=False)
    before = t.site("acme")["certificate"]
    result = upload(cli, t, front, pki, pfx)
    assert t.counters()["saves_applied"] == 0 and t.site("acme")["certificate"] == before
    assert result.code == ExitCode.VERIFY_FAILED, result
    error = result.json["error"]
    assert said in error["message"] and "a re-read shows it did not store the certificate" in error["message"]
    assert any(d.startswith("certificate thumbprint") for d in error["details"]), error


def test_without_a_broken_answer_the_front_passes_an_upload_through(cli, broken, pki, pfx):
    t, front = broken()
    result = upload(cli, t, front, pki, pfx)
    assert result.code == ExitCode.OK, result
    assert len(front.saves_sent) == 1 and t.counters()["saves_applied"] == 1
