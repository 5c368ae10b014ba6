"""A TMS session that keeps every page it fetched, for `discover --capture`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
        send = super().get
        return self._recorded("GET", url, (), what, lambda: send(url, what=what, source=source))

    def __enter__(self) -> RecordingSession:
        return self

    def post(
        self,
        url: str,
        fields: Sequence[tuple[str, FieldValue]],
        files: Sequence[tuple[str, FilePart]] = (),
        **options: Any,
    ) -> HttpResult:
        send = super().post

        def posting() -> HttpResult:
            self._inside_post = True
            try:
                return send(url, fields, files, **options)
            finally:
                self._inside_post = False

        return self._recorded("POST", url, [*fields, *files], str(options.get("what", "")), posting)

    def _recorded(
        self, method: str, url: str, fields: Sequence[tuple[str, Any]], what: str, send: Callable[[], HttpResult]
    ) -> HttpResult:
        """``send()``'s answer, kept (an ASP.NET error page too, before its error goes on)."""
        absolute = self.url_for(url)
        try:
            result = send()
        except HttpServerError as err:
            self._keep(method, absolute, err.result, fields, what)
            raise
        self._keep(method, absolute, result, fields, what)
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
