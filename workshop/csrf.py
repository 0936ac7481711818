"""Flask-WTF's CSRF protection, with each token's signature verified once per process.

A client sends the same signed token with every POST of its session (a check-in desk, with every
scan), and verifying its signature (itsdangerous: a key derivation and an HMAC) was the whole cost
of the check, about 0.1 ms a request (issue 15, docs/benchmarks.md). While tokens do not expire
(WTF_CSRF_TIME_LIMIT is None), what a token signs under a key never changes, so it is kept. The
token must still match the one in the request's session, and every refusal, with its reason, comes
from Flask-WTF itself.
"""

from __future__ import annotations

import functools
import hmac

from flask import current_app, g, request, session
from flask_wtf.csrf import CSRFProtect, csrf_meta_tag, generate_csrf, same_origin
from itsdangerous import BadData, URLSafeTimedSerializer

SALT = "wtf-csrf-token"  # Flask-WTF's
FORM_MIMETYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})  # Werkzeug's


@functools.lru_cache(maxsize=1024)
def signed_value(secret_key: str, token: str) -> object:
    """What a token signs under the key; BadData if it is not one signed with it. Only tokens the
    app signed are kept (lru_cache keeps no call that raised): they are short, while a stranger's
    may be anything up to the 64 KiB a body may hold, and a thousand of those would be 64 MiB."""
    return URLSafeTimedSerializer(secret_key, salt=SALT).loads(token)


@functools.lru_cache(maxsize=1024)
def signed_token(secret_key: str, value: str) -> str:
    """The token a page gives for the session's value, signed once per process: a participant
    reloading their page gets the same token, Flask-WTF's signing (a key derivation, an HMAC, JSON
    and base64) cost about 0.05 ms a page (issue 15)."""
    return URLSafeTimedSerializer(secret_key, salt=SALT).dumps(value)


def csrf_token() -> str:
    """Flask-WTF's generate_csrf (the token of the request, kept in `g`), with the token signed
    once per session value while tokens do not expire."""
    config = current_app.config
    field_name = config["WTF_CSRF_FIELD_NAME"]
    token = g.get(field_name)
    if token is not None:
        return token
    value = session.get(field_name)
    secret_key = config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    if config["WTF_CSRF_TIME_LIMIT"] is not None or not isinstance(value, str) or not secret_key:
        return generate_csrf()  # a new session value, or tokens that expire
    token = signed_token(str(secret_key), value)
    setattr(g, field_name, token)
    return token


def _template_helpers() -> dict:
    return {"csrf_token": csrf_token, "csrf_meta_tag": csrf_meta_tag}


class CSRFProtection(CSRFProtect):
    def init_app(self, app) -> None:
        super().init_app(app)
        app.jinja_env.globals["csrf_token"] = csrf_token
        processors = app.template_context_processors[None]
        if processors[-1]().get("csrf_token") is not generate_csrf:
            raise RuntimeError("Flask-WTF's template context processor moved")
        processors[-1] = _template_helpers

    def protect(self, apply_exemptions: bool = False) -> None:
        config = current_app.config
        if apply_exemptions and (not request.endpoint or self._is_exempt()):
            return
        if request.method not in config["WTF_CSRF_METHODS"]:
            return
        if config["WTF_CSRF_TIME_LIMIT"] is not None or not self._token_matches_session():
            super().protect()  # refused, with Flask-WTF's reason (or a token that expires)
            return
        if request.is_secure and config["WTF_CSRF_SSL_STRICT"]:
            if not request.referrer:
                self._error_response("The referrer header is missing.")
            if not same_origin(request.referrer, f"https://{request.host}/"):
                self._error_response("The referrer does not match the host.")
        g.csrf_valid = True

    def _get_csrf_token(self) -> str | None:
        """Flask-WTF's: the form's token field, else a header. A body that is not a form (the
        scanner's JSON) has no field, so its headers are read without parsing it as a form first
        (Werkzeug's empty form of it cost about 0.1 M instructions a scan)."""
        if request.mimetype in FORM_MIMETYPES:
            token: str | None = super()._get_csrf_token()
            return token
        for header in current_app.config["WTF_CSRF_HEADERS"]:
            if header_token := request.headers.get(header):
                return header_token
        return None

    def _token_matches_session(self) -> bool:
        config = current_app.config
        token = self._get_csrf_token()
        expected = session.get(config["WTF_CSRF_FIELD_NAME"])
        secret_key = config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
        if not token or not isinstance(expected, str) or not secret_key:
            return False
        try:
            value = signed_value(str(secret_key), token)
        except BadData:
            return False
        return isinstance(value, str) and hmac.compare_digest(expected, value)
