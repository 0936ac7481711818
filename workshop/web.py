"""What every page shares: security headers, error pages, template helpers."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime

from flask import (
    Flask,
    Response,
    current_app,
    has_request_context,
    jsonify,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError

from workshop import i18n
from workshop.ids import IdConverter, KeyConverter

HSTS_SECONDS = 365 * 24 * 3600
# Error answers for clients that ask for JSON (the error page's titles, templates/errors/error.html).
JSON_ERRORS = {
    400: ("bad_request", _l("The request could not be processed")),
    403: ("forbidden", _l("You do not have access to this page")),
    404: ("not_found", _l("Page not found")),
    405: ("not_allowed", _l("This action is not allowed here")),
    413: ("too_large", _l("The request is too large.")),
    429: ("too_many", _l("Too many attempts")),
    500: ("server_error", _l("Something went wrong")),
}
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter  # before any route is added
    app.url_map.converters["default"] = app.url_map.converters["string"] = KeyConverter

    @app.after_request
    def _security_headers(response):
        # Those a view did not set itself, in one pass over the headers (Werkzeug's setdefault
        # scanned them once per header and cost about 0.1 ms a JSON answer: issue 15).
        headers = response.headers
        present = {name.lower() for name, _value in headers}
        for name, value in SECURITY_HEADERS:
            if name.lower() not in present:
                headers.add(name, value)
        if current_app.config["COOKIE_SECURE"] and "strict-transport-security" not in present:
            headers.add("Strict-Transport-Security", f"max-age={HSTS_SECONDS}")  # HTTPS: browsers keep to it
        return response

    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, _error_page)
    app.register_error_handler(CSRFError, _csrf_error)

    app.extensions["fixed_urls"] = {}
    app.jinja_env.globals["fixed_url"] = fixed_url

    @app.context_processor
    def _template_globals():
        return {
            "languages": i18n.LANGUAGES,
            "current_language": i18n.current_language(),
            "stage_label": i18n.stage_label,
        }

    @app.template_filter("datetime_long")
    def _datetime_long(moment: datetime, timezone: str) -> str:
        return i18n.format_datetime_long(moment, timezone, i18n.current_language())

    @app.template_filter("stage_span")
    def _stage_span(stage) -> str:
        return i18n.format_range(
            stage.starts_at, stage.ends_at, stage.program.timezone, i18n.current_language()
        )

    @app.template_filter("clock")
    def _clock(moment: datetime, timezone: str) -> str:
        return i18n.format_clock(moment, timezone, i18n.current_language())

    @app.template_filter("zone")
    def _zone(timezone: str) -> str:
        """'WIB' for 'Asia/Jakarta'."""
        return i18n.zone_abbreviation(timezone)


FIXED_URL_LIMIT = 4096


def fixed_url(endpoint: str, **values) -> str:
    """url_for(endpoint, **values), built once per process for the request's script root: the URL
    map and the static files' names do not change while it runs, and every page of a participant
    builds the same links (url_for costs about 5 us; the participant page had ten). Only absolute
    endpoints and route values: no `_external`, `_anchor` and the like."""
    urls = current_app.extensions["fixed_urls"]
    key = (request.script_root, endpoint, *values.items())
    url = urls.get(key)
    if url is None:
        if endpoint.startswith(".") or any(name.startswith("_") for name in values):
            raise ValueError(f"fixed_url takes an absolute endpoint and route values only: {endpoint}")
        if len(urls) >= FIXED_URL_LIMIT:
            urls.clear()
        url = urls[key] = url_for(endpoint, **values)
    return url


def public_url(config: Mapping, endpoint: str, **values) -> str:
    """The absolute URL of a page, for links that leave the app (messages, calendar files):
    PUBLIC_BASE_URL and the path; without it, the host of the request or of SERVER_NAME; with
    neither (a job with no base URL set), the path alone."""
    base = (config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if not base and (has_request_context() or config.get("SERVER_NAME")):
        return url_for(endpoint, _external=True, **values)
    return base + current_app.url_map.bind("localhost").build(endpoint, values)


def download(
    content: bytes | str, mimetype: str, filename: str, *, inline: bool = False, cache: str = "no-store"
) -> Response:
    """A generated file (export, ticket, calendar): Flask writes the Content-Type (a text type gets
    "; charset=utf-8" once) and the Content-Disposition (a name outside ASCII as RFC 6266 asks)."""
    body = content.encode() if isinstance(content, str) else content
    response = send_file(io.BytesIO(body), mimetype, as_attachment=not inline, download_name=filename)
    response.headers["Cache-Control"] = cache
    return response


def _error_page(error):
    code = getattr(error, "code", 500) or 500
    # A rate limit with its own words (e.g. the registration form's) says them; others say "wait".
    message = (
        error.description if isinstance(error, RateLimitExceeded) and error.limit.error_message else None
    )
    if request.is_json or request.accept_mimetypes.best == "application/json":  # scanner, live, scripts
        error_code, text = JSON_ERRORS.get(code, JSON_ERRORS[500])
        return jsonify({"error": error_code, "message": message or str(text)}), code
    return render_template("errors/error.html", code=code, message=message), code


def _csrf_error(error):
    if request.is_json or request.accept_mimetypes.best == "application/json":  # the live page's posts
        return jsonify({"error": "csrf", "message": _("The page has expired. Reload it and try again.")}), 400
    return render_template("errors/error.html", code=400, csrf=True), 400
