"""After the Save left, no transport failure is reported as if nothing happened: a break while following TMS's
redirect after the Save, or a broken answer to the Save itself, is an unknown outcome unless the re-read
proves it (TMS may have applied the Save)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.helpers.hostile_answers import AFTER_SAVE, BROKEN, SaveBreakingTms
from tests.helpers.tls_front import Pki, make_pki
from tmsclient.exitcodes import ExitCode

ADMIN = "TMSLAB\\admin"
CLAIMS = ("nothing was changed", "nothing was applied", "not applied", "nothing was sent")
#: The broken answers a client can meet after the Save's body went out, and what each is called.
AFTER_REDIRECT = {
    "drop": "the connection to 127.0.0.1",
    "stall": "did not answer within 0.5 s",
    "tls-garbage": "TLS with 127.0.0.1 failed",
    "bad-gzip": "ContentDecodingError",
    "bad-chunked": "127.0.0.1",
    "redirect-loop": "in a loop",
}
assert set(AFTER_REDIRECT) == set(BROKEN)
#: Broken answers to the Save itself (a stall there is the fault matrix's slow-Save rows; a loop cannot be:
#: a POST's redirect is followed once, with a GET).
SAVE_ANSWERS = ["drop", "tls-garbage", "bad-gzip", "bad-chunked"]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("save-break-pki"))


@pytest.fixture
def breaking(tms: Callable[..., Any], pki: Pki) -> Iterator[Callable[..., tuple[Any, SaveBreakingTms]]]:
    """``breaking(cert_details, **front)`` -> (the emulator's Tms, the front that breaks after the Save)."""
    fronts: list[SaveBreakingTms] = []

    def make(cert_details: str, **front: Any) -> tuple[Any, SaveBreakingTms]:
        t = tms(cert_details=cert_details)
        made = SaveBreakingTms(t.url, t.em.ca_file, pki.tms, **front)
        fronts.append(made)
        return t, made

    yield make
    for f in fronts:
        f.close()


def upload(cli: Any, t: Any, front: SaveBreakingTms, pki: Pki, pfx: Callable[..., Any]) -> Any:
    f = pfx()
    argv = ["--url", front.url, "--username", ADMIN, "--non-interactive", "--ca-bundle", str(pki.ca_file)]
    argv += ["--timeout", "0.5", "--json", "--site", "acme", "--pfx", str(f.path)]
    return cli("upload", *argv, env={**t.env, **f.env})


@pytest.mark.parametrize("how", BROKEN)
def test_a_break_while_following_the_saves_redirect_is_an_unknown_outcome(cli, breaking, pki, pfx, how):
    t, front = breaking("none", after_save=how)
    result = upload(cli, t, front, pki, pfx)
    assert front.saves_sent == 1 and t.counters()["saves_applied"] == 1, front.log  # TMS applied it
    assert ("GET", AFTER_SAVE, False) in front.log
    assert result.code == ExitCode.OUTCOME_UNKNOWN, result
    error = result.json["error"]
    assert error["type"] == "SaveOutcomeUnknownError", error
    message = error["message"]
    assert f"a redirect to {front.origin}{AFTER_SAVE}, and reading that page failed" in message, message
    assert AFTER_REDIRECT[how] in message, message
    assert "the change may have been applied" in message
    assert not any(c in message + (error["hint"] or "") for c in CLAIMS), error
    assert "`tmsclient verify --site acme.webex.com/acme --pfx FILE`" in (error["hint"] or "")


@pytest.mark.parametrize("how", ["drop", "stall", "tls-garbage", "redirect-loop"])
def test_a_reread_that_shows_the_certificate_decides_after_a_broken_redirect(cli, breaking, pki, pfx, how):
    t, front = breaking("summary", after_save=how)
    result = upload(cli, t, front, pki, pfx)
    assert result.code == ExitCode.OK, result
    assert result.json["verification"] == "certificate"
    warnings = " ".join(result.json["warnings"])
    assert "reading that page failed" in warnings and "the re-read shows it stored it" in warnings


def test_a_reread_that_shows_the_old_certificate_after_a_broken_redirect_says_it_was_not_stored(
    cli, breaking, pki, pfx
):
    t, front = breaking("summary", after_save="drop", apply=False)
    before = t.site("acme")["certificate"]
    result = upload(cli, t, front, pki, pfx)
    assert t.counters()["saves_applied"] == 0 and t.site("acme")["certificate"] == before
    assert result.code == ExitCode.VERIFY_FAILED, result
    assert "a re-read shows it did not store the certificate" in result.json["error"]["message"]


@pytest.mark.parametrize("how", SAVE_ANSWERS)
def test_a_broken_answer_to_the_save_itself_is_never_a_tls_or_connection_error(cli, breaking, pki, pfx, how):
    t, front = breaking("none", save_answer=how)
    result = upload(cli, t, front, pki, pfx)
    assert front.saves_sent == 1 and t.counters()["saves_applied"] == 1, front.log
    assert result.code == ExitCode.OUTCOME_UNKNOWN, result
    error = result.json["error"]
    assert "whether the Save was applied is unknown" in error["message"], error
    assert not any(c in error["message"] + (error["hint"] or "") for c in CLAIMS), error


@pytest.mark.parametrize("how", SAVE_ANSWERS)
def test_a_broken_answer_to_the_save_is_decided_by_a_reread_that_shows_the_certificate(cli, breaking, pki, pfx, how):
    t, front = breaking("summary", save_answer=how)
    result = upload(cli, t, front, pki, pfx)
    assert result.code == ExitCode.OK, result
    assert result.json["verification"] == "certificate"
    assert "the re-read shows TMS stored it" in " ".join(result.json["warnings"])
