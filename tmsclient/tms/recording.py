"""A TMS session that keeps every page it fetched, for `discover --capture`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tmsclient.tms.capture import Fetched
from tmsclient.tms.session import HttpResult, HttpServerError, TmsSession
from tmsclient.tms.webforms.encoding import FieldValue, FilePart


class RecordingSession(TmsSession):
    """A :class:`TmsSession` that records each answer it returns (and each ASP.NET error page it raises for),
    with the request's URL, method, postback target and field names; never a header or a posted value."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fetched: list[Fetched] = []
        self._inside_post = False  # a POST's redirect is followed with get(): one page, recorded once

    def get(self, url: str, *, what: str, source: str | None = None) -> HttpResult:
        absolute = self.url_for(url)
        try:
            result = super().get(url, what=what, source=source)
        except HttpServerError as err:
            self._keep("GET", absolute, err.result, (), what)
            raise
        self._keep("GET", absolute, result, (), what)
        return result

    def __enter__(self) -> RecordingSession:
        return self

    def post(
        self,
        url: str,
        fields: Sequence[tuple[str, FieldValue]],
        files: Sequence[tuple[str, FilePart]] = (),
        **options: Any,
    ) -> HttpResult:
        absolute = self.url_for(url)
        what = str(options.get("what", ""))
        self._inside_post = True
        try:
            result = super().post(url, fields, files, **options)
        except HttpServerError as err:
            self._inside_post = False
            self._keep("POST", absolute, err.result, [*fields, *files], what)
            raise
        finally:
            self._inside_post = False
        self._keep("POST", absolute, result, [*fields, *files], what)
        return result

    def _keep(self, method: str, url: str, result: HttpResult, fields: Sequence[tuple[str, Any]], what: str) -> None:
        if self._inside_post:
            return
        values = {name: value for name, value in fields if isinstance(value, str)}
        self.fetched.append(
            Fetched(
                method=method,
                url=url if method == "POST" else result.url,
                final_url=result.url,
                status=result.status,
                headers=dict(result.headers),
                body=result.text,
                event_target=values.get("__EVENTTARGET") if method == "POST" else None,
                event_argument=values.get("__EVENTARGUMENT") if method == "POST" else None,
                field_names=tuple(name for name, _ in fields),
                what=what,
            )
        )
