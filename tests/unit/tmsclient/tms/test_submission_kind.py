"""The Save that is actually sent: refused before sending unless it is a multipart POST; TMS's unclear answers."""

from __future__ import annotations

import pytest

from tests.helpers.paths import PAGES
from tmsclient.credentials import Secret
from tmsclient.errors import OutcomeUnknownError, RejectedByTmsError
from tmsclient.exitcodes import ExitCode
from tmsclient.tms.driver import (
    Driver,
    Plan,
    SaveOutcomeUnknownError,
    SiteRow,
    UploadIntent,
    build_plan,
    read_site_form,
)
from tmsclient.tms.pageprofile import DEFAULT_PROFILE
from tmsclient.tms.session import HttpResult, HttpServerError, OffOriginError, PostReplayRefusedError
from tmsclient.tms.webforms import Submission, parse_page
from tmsclient.tms.webforms.submission import SubmissionKindError

BASE = "https://tms.example.com/tms/default.aspx?pageId=83"
SAVE = 'name="ctl00$uxContent$ctl01$saveButton"'
FORM = '<form method="post" action="./default.aspx?pageId=83" id="aspnetForm" enctype="multipart/form-data">'


def form_page(*, save_attrs: str = "", form_tag: str = FORM) -> str:
    text = (PAGES / "tms15_site_form.html").read_text(encoding="utf-8")
    assert SAVE in text and FORM in text
    return text.replace(SAVE, f"{SAVE} {save_attrs}").replace(FORM, form_tag)


def row() -> SiteRow:
    return SiteRow("acme.webex.com", "acme", "Yes", None, None, None)


def intent() -> UploadIntent:
    return UploadIntent("tms-cert.pfx", b"0\x82PFX", Secret("Cnry-kind-pw-1", "t"))


def save_submission(text: str) -> Submission:
    page = parse_page(text, BASE, status=200)
    return Submission.of(page.forms[0], submitter="ctl00$uxContent$ctl01$saveButton")


#: (what the page says, the attribute the error must name, how it would go out)
NOT_MULTIPART = [
    pytest.param(
        {"save_attrs": 'formenctype="application/x-www-form-urlencoded"'},
        "formenctype='application/x-www-form-urlencoded'",
        "POST application/x-www-form-urlencoded",
        id="formenctype-urlencoded",
    ),
    pytest.param(
        {"save_attrs": 'formenctype="text/plain"'}, "formenctype='text/plain'", "POST text/plain", id="formenctype-text"
    ),
    # An empty or unknown formenctype is the spec's invalid value default: urlencoded, not the form's enctype.
    pytest.param(
        {"save_attrs": 'formenctype=""'},
        "formenctype=''",
        "POST application/x-www-form-urlencoded",
        id="formenctype-empty",
    ),
    pytest.param({"save_attrs": 'formmethod="get"'}, "formmethod='get'", "GET", id="formmethod-get"),
    pytest.param({"save_attrs": 'formmethod="GET"'}, "formmethod='GET'", "GET", id="formmethod-get-upper"),
    # An empty or unknown formmethod is GET (the invalid value default), never the form's POST.
    pytest.param({"save_attrs": 'formmethod=""'}, "formmethod=''", "GET", id="formmethod-empty"),
    pytest.param({"save_attrs": 'formmethod="dialog"'}, "formmethod='dialog'", "GET", id="formmethod-dialog"),
    pytest.param(
        {"form_tag": FORM.replace('method="post"', 'method="get"')}, "the form's method is GET", "GET", id="form-get"
    ),
    pytest.param(
        {"form_tag": FORM.replace(' enctype="multipart/form-data"', "")},
        "the form's enctype is application/x-www-form-urlencoded",
        "POST application/x-www-form-urlencoded",
        id="form-urlencoded",
    ),
]


@pytest.mark.parametrize(("page", "named", "kind"), NOT_MULTIPART)
def test_a_save_that_is_not_a_multipart_post_is_refused_naming_the_attribute(page, named, kind):
    sub = save_submission(form_page(**page))
    assert sub.kind == kind and not sub.is_multipart
    assert named in (sub.why_not_multipart() or "")
    with pytest.raises(SubmissionKindError) as info:
        sub.require_file_carrying("the Save of site acme")
    err = info.value
    assert err.exit_code == ExitCode.PAGE_NOT_UNDERSTOOD
    assert named in err.message and f"would go as {kind}, not multipart/form-data" in err.message
    assert "only the file's name" in err.message and "nothing was sent" in err.message


@pytest.mark.parametrize(
    "page",
    [
        {},
        {"save_attrs": 'formmethod="POST" formenctype="Multipart/Form-Data"'},
        # The button's attributes win over the form's, both ways.
        {"save_attrs": 'formmethod="post"', "form_tag": FORM.replace('method="post"', 'method="get"')},
        {
            "save_attrs": 'formenctype="multipart/form-data"',
            "form_tag": FORM.replace(' enctype="multipart/form-data"', ""),
        },
    ],
    ids=["form", "button-says-so", "button-post-in-get-form", "button-multipart-in-urlencoded-form"],
)
def test_a_multipart_post_is_judged_by_what_is_sent(page):
    sub = save_submission(form_page(**page))
    assert sub.is_multipart and sub.kind == "POST multipart/form-data" and sub.why_not_multipart() is None
    sub.require_file_carrying("the Save")


@pytest.mark.parametrize(("page", "named", "kind"), NOT_MULTIPART)
def test_the_plan_is_refused_before_anything_is_sent(page, named, kind):
    view = read_site_form(parse_page(form_page(**page), BASE, status=200), row(), DEFAULT_PROFILE)
    with pytest.raises(SubmissionKindError, match="nothing was sent") as info:
        build_plan(view, intent())
    assert named in info.value.message and "the Save of site acme.webex.com/acme" in info.value.message


# ------------------------------------------------------------------------------------------ TMS's answer


class ScriptedSession:
    """Answers the one POST with a result or an exception, and records the calls."""

    origin = "https://tms.example.com"

    def __init__(self, answer: HttpResult | Exception) -> None:
        self.answer = answer
        self.calls: list[str] = []

    def post(self, url, fields, files=(), *, multipart, what, handshake=False, source=None, changes_tms=False):
        self.calls.append(url)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def plan() -> Plan:
    return build_plan(read_site_form(parse_page(form_page(), BASE, status=200), row(), DEFAULT_PROFILE), intent())


def page_text(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


YELLOW = (
    "<html><head><title>Object reference not set</title></head><body><h1>Server Error in '/tms' Application.</h1>"
    "<h2><i>Object reference not set to an instance of an object.</i></h2></body></html>"
)
NOT_FOUND = "<html><head><title>404 - File or directory not found.</title></head><body>Not found</body></html>"
GENERIC = "<html><head><title>Error</title></head><body><h1>An error occurred.</h1></body></html>"


def result(status: int, text: str, *, url: str = BASE, redirected: bool = False) -> HttpResult:
    return HttpResult("POST", url, status, text, {}, 0.01, redirected=redirected)


def server_error_after_redirect() -> HttpServerError:
    page = HttpResult("GET", "https://tms.example.com/tms/error.aspx", 500, YELLOW, {}, 0.01)
    return HttpServerError("HTTP 500", status=500, tms_text="Object reference not set", result=page)


UNCLEAR = [
    pytest.param(result(404, NOT_FOUND), "a page with HTTP 404", id="404"),
    pytest.param(result(400, YELLOW), "a page with HTTP 400: Object reference", id="error-page-400"),
    pytest.param(result(200, YELLOW), "a page with an ASP.NET error page", id="error-page-200"),
    pytest.param(
        result(200, page_text("tms15_site_error.html"), url=BASE + "&x=1", redirected=True),
        "a redirect to an error page (https://tms.example.com/tms/default.aspx?pageId=83&x=1): The specified",
        id="redirect-to-tms-error-words",
    ),
    pytest.param(
        result(
            200, GENERIC, url="https://tms.example.com/tms/Error.aspx?aspxerrorpath=/tms/default.aspx", redirected=True
        ),
        "a redirect to an error page (https://tms.example.com/tms/Error.aspx?aspxerrorpath",
        id="redirect-to-custom-errors",
    ),
    pytest.param(
        result(404, NOT_FOUND, url="https://tms.example.com/tms/gone", redirected=True),
        "a redirect to https://tms.example.com/tms/gone, which answered HTTP 404",
        id="redirect-to-404",
    ),
    pytest.param(
        server_error_after_redirect(),
        "a redirect to an error page (https://tms.example.com/tms/error.aspx, HTTP 500",
        id="redirect-to-500",
    ),
    pytest.param(
        OffOriginError("302 elsewhere", origin="https://tms.example.com:8443", body_may_have_arrived=True),
        "a redirect to https://tms.example.com:8443, another origin",
        id="302-other-origin",
    ),
    pytest.param(
        PostReplayRefusedError("307", status=307, location="https://tms.example.com/tms/x", hint=None),
        "307 to https://tms.example.com/tms/x, which asks to send the form again",
        id="307",
    ),
]


@pytest.mark.parametrize(("answer", "said"), UNCLEAR)
def test_an_answer_after_which_tms_may_have_applied_the_save_is_an_unknown_outcome(answer, said):
    session = ScriptedSession(answer)
    driver = Driver(session, DEFAULT_PROFILE)  # type: ignore[arg-type]
    with pytest.raises(SaveOutcomeUnknownError) as info:
        driver.save(plan())
    err = info.value
    assert isinstance(err, OutcomeUnknownError) and err.exit_code == ExitCode.OUTCOME_UNKNOWN
    assert said in err.message and said in err.answer
    assert "the change may have been applied" in err.message
    assert "nothing was changed" not in err.message + (err.hint or "")
    assert "`tmsclient verify --site acme.webex.com/acme" in (err.hint or "")
    assert len(session.calls) == 1


def test_tms_error_words_on_its_own_page_stay_a_rejection():
    driver = Driver(ScriptedSession(result(200, page_text("tms15_site_error.html"))), DEFAULT_PROFILE)  # type: ignore[arg-type]
    with pytest.raises(RejectedByTmsError, match="The specified network password is not correct"):
        driver.save(plan())


def test_a_save_answered_with_a_plain_server_error_stays_a_server_error():
    page = HttpResult("POST", BASE, 500, YELLOW, {}, 0.01)
    err = HttpServerError("HTTP 500", status=500, tms_text="x", result=page)
    with pytest.raises(HttpServerError):
        Driver(ScriptedSession(err), DEFAULT_PROFILE).save(plan())  # type: ignore[arg-type]


def test_a_redirect_to_the_page_after_a_save_is_accepted():
    saved = result(200, page_text("tms15_site_saved.html"), url=BASE + "&saved=1", redirected=True)
    page = Driver(ScriptedSession(saved), DEFAULT_PROFILE).save(plan())  # type: ignore[arg-type]
    assert page.url == BASE + "&saved=1"


@pytest.mark.parametrize(("page", "named", "kind"), NOT_MULTIPART[:1])
def test_the_driver_refuses_a_plan_whose_save_cannot_carry_the_file(page, named, kind):
    good = plan()
    bad_form = parse_page(form_page(**page), BASE, status=200).forms[0]
    sneaky = Plan(
        good.view, Submission(bad_form, good.submission.submitter, None, good.submission.overrides), (), {}, {}
    )
    session = ScriptedSession(result(200, page_text("tms15_site_saved.html")))
    with pytest.raises(SubmissionKindError, match=named):
        Driver(session, DEFAULT_PROFILE).save(sneaky)  # type: ignore[arg-type]
    assert session.calls == []
