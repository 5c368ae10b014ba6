"""The WebForms application behind /tms/: the pages, ASP.NET's postback checks, and saving a site."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tmsemulator.config import User
from tmsemulator.forms import FormError, PostedForm, parse_form
from tmsemulator.pages import (
    BAD_FORM,
    CONTROL_TREE_CHANGED,
    DECOY_PAGES,
    INVALID_POSTBACK,
    NOT_FOUND,
    SAVE_FAILED,
    START_PAGE_ID,
    VIEWSTATE_MAC_FAILED,
    Renderer,
    SiteForm,
    error_page,
    page_href,
)
from tmsemulator.pfxcheck import check_pfx
from tmsemulator.profiles import SITE_FIELD_KINDS
from tmsemulator.state import Site
from tmsemulator.viewstate import EventValidationError, ViewStateError

if TYPE_CHECKING:
    from tmsemulator.httpd import RequestHandler
    from tmsemulator.server import RunningEmulator


CRYPTO_EXCEPTION = "System.Security.Cryptography.CryptographicException"


def moved_page(location: str) -> str:
    return (
        "<html><head><title>Object moved</title></head><body>"
        f'<h2>Object moved to <a href="{location}">here</a>.</h2></body></html>'
    )


def redirect(location: str, status: int = 302) -> tuple[int, str, tuple[tuple[str, str], ...]]:
    """An answer that moves the client to ``location`` (ASP.NET's and IIS's "Object moved" body)."""
    return status, moved_page(location), (("Location", location),)


class WebFormsApp:
    """One request's view of the WebForms application (the TMS pages)."""

    def __init__(self, em: RunningEmulator, user: User, handler: RequestHandler) -> None:
        self.em = em
        self.user = user
        self.handler = handler
        self.profile = em.active_profile()
        self.render = Renderer(self.profile, em.codec, em.config.cert_details)
        self.is_admin = em.directory.is_admin(user)

    def handle(
        self, page_id: int, site_param: str | None, body: bytes, entry: dict[str, Any]
    ) -> tuple[int, str, tuple[tuple[str, str], ...]]:
        p = self.profile
        config_page = page_id in (p.webex_page_id, p.site_page_id) or DECOY_PAGES.get(page_id, ("", False))[1]
        known = page_id == START_PAGE_ID or page_id in DECOY_PAGES or page_id in (p.webex_page_id, p.site_page_id)
        if config_page and not self.is_admin:
            return 200, self.render.access_denied(page_id, self.user.login), ()
        form: PostedForm | None = None
        view: dict[str, Any] | None = None
        if self.handler.command == "POST":
            try:
                form = parse_form(self.handler.headers.get("Content-Type", ""), body)
            except FormError:
                return 500, error_page(BAD_FORM), ()
            checked = self._check_postback(page_id, form)
            if isinstance(checked, tuple):
                return 500, error_page(checked), ()
            view = checked
        if not known:
            return 404, error_page(NOT_FOUND), ()
        if page_id == p.webex_page_id:
            result = self._webex(form, view, entry)
        elif page_id == p.site_page_id:
            result = self._site_page(site_param, form, view, entry)
        elif page_id == START_PAGE_ID:
            result = 200, self.render.start_page(self.user.login), ()
        else:
            result = 200, self.render.decoy_page(page_id, self.user.login), ()
        if self.handler.command == "GET" and page_id in (p.webex_page_id, p.site_page_id) and result[0] == 200:
            self.em.layout_change_after_get()
        return result

    def replay(self, body: bytes) -> tuple[int, str, tuple[tuple[str, str], ...]]:
        """A capture's pages instead of the profile's (``--capture``)."""
        replay = self.em.replay
        assert replay is not None
        if self.handler.command != "POST":
            return replay.get(self.handler.path)
        try:
            form = parse_form(self.handler.headers.get("Content-Type", ""), body)
        except FormError:
            return 500, error_page(BAD_FORM), ()

        def record(entry: dict[str, Any]) -> None:
            self.em.data.record_save({**entry, "user": self.user.login})

        return replay.post(self.handler.path, form, record, save_500=self.em.data.faults.save_500)

    def _check_postback(self, page_id: int, form: PostedForm) -> dict[str, Any] | tuple[str, str]:
        """ASP.NET's order: view state MAC, then the control tree, then event validation."""
        codec = self.em.codec
        try:
            view = codec.decode_view_state(form.get("__VIEWSTATE"))
            validation = codec.decode_event_validation(form.get("__EVENTVALIDATION"))
        except ViewStateError:
            return VIEWSTATE_MAC_FAILED
        if view.get("p") != page_id or view.get("sig") != self.profile.control_tree_signature():
            return CONTROL_TREE_CHANGED
        buttons = self._button_names()
        try:
            for name, value in form.fields:
                if name in buttons:
                    if not validation.rendered(name):
                        raise EventValidationError(name)
                else:
                    validation.check(name, value)
        except EventValidationError:
            return INVALID_POSTBACK
        return view

    def _button_names(self) -> dict[str, str]:
        p = self.profile
        return {
            p.site_prefix + p.save.name: "save",
            p.site_prefix + p.cancel.name: "cancel",
            p.settings_prefix + p.save_global.name: "save_global",
            p.settings_prefix + p.add_site.name: "add_site",
        }

    def _pressed(self, form: PostedForm) -> str | None:
        buttons = self._button_names()
        for name, _ in form.fields:
            if name in buttons:
                return buttons[name]
        return None

    # ----- pages ---------------------------------------------------------------------------------------
    def _settings(self, *, form: SiteForm | None = None, error: str = "", info: str = "") -> str:
        state = self.em.data
        return self.render.webex_page(
            user=self.user.login,
            enable_webex=state.enable_webex,
            add_to_all=state.add_webex_to_all,
            sites=state.site_list(),
            form=form,
            error=error,
            info=info,
        )

    def _form_page(self, form: SiteForm, *, error: str = "", info: str = "") -> str:
        if self.profile.site_page_id is None:
            return self._settings(form=form, error=error, info=info)
        return self.render.site_page(user=self.user.login, form=form, error=error, info=info)

    def _redirect(self, page_id: int, site_id: int | str | None = None) -> tuple[int, str, tuple[tuple[str, str], ...]]:
        return redirect(page_href(self.profile, page_id, site_id).replace("./", "/tms/", 1))

    def _webex(
        self, form: PostedForm | None, view: dict[str, Any] | None, entry: dict[str, Any]
    ) -> tuple[int, str, tuple[tuple[str, str], ...]]:
        p = self.profile
        if form is None or view is None:
            return 200, self._settings(), ()
        pressed = self._pressed(form)
        if pressed == "save_global":
            self._save_global(form)
            return 200, self._settings(info=p.saved_text), ()
        if pressed == "add_site":
            if p.site_page_id is not None:
                return self._redirect(p.site_page_id, "new")
            return 200, self._settings(form=blank_form()), ()
        if pressed in ("save", "cancel") and view.get("v") == "site":
            if pressed == "cancel":
                return 200, self._settings(), ()
            return self._save(form, int(view.get("s") or 0), entry)
        target = form.get("__EVENTTARGET") or ""
        grid = p.settings_prefix + p.grid_name + "$ctl"
        # A repeater's Edit button posts its own name (items numbered from ctl00); a grid's LinkButton posts
        # back through __EVENTTARGET (rows from ctl02).
        pressed_item = next((n for n, _ in form.fields if n.startswith(grid) and n.endswith("$" + p.edit_name)), None)
        if pressed_item is not None and p.sites_style == "repeater":
            index = int(pressed_item[len(grid) :].split("$")[0])
            rows = view.get("rows") or []
            site = self.em.data.site(rows[index]) if 0 <= index < len(rows) else None
            if site is None:
                return 200, self._settings(error="The selected WebEx site no longer exists."), ()
            return 200, self._settings(form=site_form(site)), ()
        if target.startswith(grid) and target.endswith("$" + p.edit_name):
            index = int(target[len(grid) :].split("$")[0]) - 2
            rows = view.get("rows") or []
            site = self.em.data.site(rows[index]) if 0 <= index < len(rows) else None
            if site is None:
                return 200, self._settings(error="The selected WebEx site no longer exists."), ()
            return 200, self._settings(form=site_form(site)), ()
        # A postback without an event: the page as it was.
        if view.get("v") == "site":
            site = self.em.data.site(int(view.get("s") or 0))
            return 200, self._settings(form=site_form(site) if site else blank_form()), ()
        return 200, self._settings(), ()

    def _site_page(
        self,
        site_param: str | None,
        form: PostedForm | None,
        view: dict[str, Any] | None,
        entry: dict[str, Any],
    ) -> tuple[int, str, tuple[tuple[str, str], ...]]:
        p = self.profile
        assert p.site_page_id is not None
        if site_param == "new":
            site_id = 0
        else:
            try:
                site_id = int(site_param or "")
            except ValueError:
                site_id = -1
        site = self.em.data.site(site_id) if site_id > 0 else None
        if site_id != 0 and site is None:
            return (
                200,
                self.render.site_page(user=self.user.login, form=None, error="The selected WebEx site does not exist."),
                (),
            )
        if form is None or view is None:
            return 200, self._form_page(site_form(site) if site else blank_form()), ()
        if view.get("s") != site_id:
            return 500, error_page(CONTROL_TREE_CHANGED), ()
        pressed = self._pressed(form)
        if pressed == "cancel":
            return self._redirect(p.webex_page_id)
        if pressed == "save":
            return self._save(form, site_id, entry)
        return 200, self._form_page(site_form(site) if site else blank_form()), ()

    # ----- saving --------------------------------------------------------------------------------------
    def _save_global(self, form: PostedForm) -> None:
        p, state = self.profile, self.em.data
        with state.locked():
            for spec in p.global_fields:
                value = form.get(p.settings_prefix + spec.name)
                if value is not None:
                    setattr(state, spec.key, value == "true")

    def _posted_values(self, form: PostedForm, stored: Site | None) -> dict[str, Any]:
        """The non-secret fields as posted; one the post lacks (or the profile hides) keeps its value."""
        base = site_form(stored).values if stored else blank_form().values
        values = dict(base)
        for spec in self.profile.site_fields:
            kind = SITE_FIELD_KINDS[spec.key]
            if kind in ("file", "password"):
                continue
            raw = form.get(self.profile.site_prefix + spec.name)
            if raw is None:
                continue
            values[spec.key] = (raw == "true") if kind == "yesno" else raw
        return values

    def _save(
        self, form: PostedForm, site_id: int, entry: dict[str, Any]
    ) -> tuple[int, str, tuple[tuple[str, str], ...]]:
        p, em = self.profile, self.em
        faults = em.data.faults
        stored = em.data.site(site_id) if site_id else None
        if site_id and stored is None:
            return 200, self._settings(error="The selected WebEx site no longer exists."), ()
        values = self._posted_values(form, stored)
        upload = form.file(p.site_prefix + (p.field("certificate") or _missing("certificate")).name)
        password_spec = p.field("password")
        password = form.get(p.site_prefix + password_spec.name) if password_spec else None
        log_entry: dict[str, Any] = {
            "site_id": site_id or None,
            "user": self.user.login,
            "certificate_sent": bool(upload and upload.has_file),
        }
        if faults.save_500:
            em.data.record_save({**log_entry, "outcome": "fault-500"})
            return 500, error_page(SAVE_FAILED), ()
        if faults.drop_after_save == "not-applied":
            em.data.record_save({**log_entry, "outcome": "dropped-not-applied"})
            self.handler.drop(entry)
        refusal: tuple[str | None, str | None, str | None] | None = None
        certificate = stored.certificate if stored else None
        if not str(values["host_name"]).strip() or not str(values["site_name"]).strip():
            refusal = ("required-fields", "Host Name and Site Name are required.", None)
        elif upload is not None and upload.has_file:
            verdict = check_pfx(upload.data, password or "", em.config.server_os)
            if not verdict.ok:
                refusal = (verdict.check, verdict.message, verdict.detail)
            else:
                certificate = verdict.certificate
        if refusal is None and certificate is not None and upload is not None and upload.has_file and p.import_error:
            # The fields are stored before the import, which then fails on the host: TMS keeps them.
            kept = stored.certificate if stored else None
            site = Site(id=site_id, certificate=kept, **{k: values[k] for k in _SITE_VALUE_KEYS})
            saved = em.data.store_site(site)
            em.data.record_save(
                {**log_entry, "site_id": saved.id, "outcome": "fields-stored-import-failed", "message": p.import_error}
            )
            return 500, error_page((CRYPTO_EXCEPTION, p.import_error)), ()
        if refusal is not None:
            check, message, detail = refusal
            em.data.record_save(
                {**log_entry, "outcome": "refused", "check": check, "message": message, "detail": detail}
            )
            if p.save_errors == "error-page" and check != "required-fields":
                # The import threw and nothing caught it: ASP.NET's error page, nothing stored.
                if faults.drop_after_save == "applied":
                    self.handler.drop(entry)
                return 500, error_page((CRYPTO_EXCEPTION, str(message))), ()
            # Nothing is stored; the form keeps the user's non-secret inputs, never the file or the password.
            shown = SiteForm(site_id, values, stored.certificate if stored else None)
            if faults.drop_after_save == "applied":
                self.handler.drop(entry)
            return 200, self._form_page(shown, error=str(message)), ()
        site = Site(id=site_id, certificate=certificate, **{k: values[k] for k in _SITE_VALUE_KEYS})
        saved = em.data.store_site(site)
        em.data.record_save(
            {
                **log_entry,
                "site_id": saved.id,
                "outcome": "stored",
                "thumbprint_sha1": certificate.thumbprint_sha1 if certificate else None,
            }
        )
        if faults.drop_after_save == "applied":
            self.handler.drop(entry)
        if p.after_save == "redirect":
            return self._redirect(p.webex_page_id)
        return 200, self._form_page(site_form(saved), info=p.saved_text), ()


_SITE_VALUE_KEYS = tuple(k for k, kind in SITE_FIELD_KINDS.items() if kind not in ("file", "password"))


def _missing(key: str) -> Any:
    raise RuntimeError(f"the page profile has no {key} field")


def site_form(site: Site) -> SiteForm:
    return SiteForm(site.id, {k: getattr(site, k) for k in _SITE_VALUE_KEYS}, site.certificate)


def blank_form() -> SiteForm:
    values: dict[str, Any] = {k: "" for k in _SITE_VALUE_KEYS}
    values.update(bandwidth="Medium", default_site=False, use_global=True, tsp_audio=False, use_sso=False)
    return SiteForm(0, values, None)
