"""WhatsApp through an HTTP gateway: Fonnte (form post) or Meta's Cloud API (template message).

The gateway's token goes in the Authorization header; a redirect is never followed (it would
carry the token to wherever it points).
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping

import phonenumbers

from workshop.reminders import failures
from workshop.reminders.channels.base import (
    FREE_TEXT_TYPE,
    TEMPLATE_PARAMETERS_TYPE,
    OutgoingMessage,
    PermanentFailure,
    TemporaryFailure,
    shorten,
)

WHATSAPP_PROVIDERS = ("fonnte", "meta")


def whatsapp_number(phone: str) -> str:
    """A stored number, E.164 ('+6281234567890'), as the gateways take it: '6281234567890'. Numbers
    are stored in E.164 when they are entered (registration/validation.py): anything else is refused."""
    try:
        number = phonenumbers.parse(phone or "")  # no region: E.164 carries its country code
    except phonenumbers.NumberParseException:
        number = None
    if number is None or phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) != phone:
        raise PermanentFailure(f"not a WhatsApp number: {phone!r}", code=failures.INVALID_ADDRESS)
    return phone.removeprefix("+")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as an error, never followed: urllib would send the Authorization
    header (the gateway's token) on to wherever the redirect points."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_gateway_opener = urllib.request.build_opener(_NoRedirects)


class _HttpGateway:
    """POST to a WhatsApp gateway; 5xx, 429 and time-outs are temporary, other 4xx and redirects
    permanent."""

    def __init__(self, *, url: str, token: str, timeout: float):
        self.url, self.token, self.timeout = url, token, timeout

    def _post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with _gateway_opener.open(request, timeout=self.timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            if 300 <= error.code < 400:
                location = error.headers.get("Location", "")
                raise PermanentFailure(
                    shorten(
                        f"HTTP {error.code}: the gateway redirects to {location}; set WHATSAPP_API_URL "
                        "to that address (a redirect is not followed: it would carry the token)"
                    ),
                    code=failures.WHATSAPP_REDIRECT,
                ) from error
            payload = error.read()
            reason = shorten(f"HTTP {error.code}: {self._reason(payload) or error.reason}")
            if error.code >= 500:
                raise TemporaryFailure(reason, code=failures.WHATSAPP_HTTP_5XX) from error
            if error.code in (408, 429):
                raise TemporaryFailure(reason, code=failures.WHATSAPP_HTTP_4XX) from error
            raise PermanentFailure(reason, code=failures.WHATSAPP_HTTP_4XX) from error
        except (OSError, http.client.HTTPException) as error:  # refused, reset, time-out
            detail = getattr(error, "reason", None) or error
            raise TemporaryFailure(
                shorten(f"WhatsApp gateway: {detail}"), code=failures.WHATSAPP_UNREACHABLE
            ) from error

    @staticmethod
    def _json(payload: bytes) -> dict:
        try:
            data = json.loads(payload)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _reason(self, payload: bytes) -> str:
        """The gateway's own words: Meta's {"error": {...}}, Fonnte's "reason", or the body."""
        data = self._json(payload)
        error = data.get("error")
        if isinstance(error, dict):
            reason = str(error.get("message") or "")
            if "code" in error and f"#{error['code']}" not in reason:
                reason += f" (#{error['code']})"
            details = error.get("error_data")
            if isinstance(details, dict) and details.get("details"):
                reason += f": {details['details']}"
            return reason
        if data.get("reason") or data.get("detail"):
            return str(data.get("reason") or data.get("detail"))
        return payload.decode(errors="replace").strip()


class FonnteChannel(_HttpGateway):
    """Fonnte-style gateway: form fields `target` and `message`, the token in `Authorization`.

    Fonnte answers 200 with {"status": true, "id": ["80367170"], ...} or {"status": false,
    "reason": "..."}; a false status is permanent unless the device is disconnected.
    """

    @classmethod
    def from_config(cls, config: Mapping) -> FonnteChannel:
        return cls(
            url=config["WHATSAPP_API_URL"],
            token=config.get("WHATSAPP_TOKEN") or "",
            timeout=float(config.get("WHATSAPP_TIMEOUT") or 10),
        )

    def send(self, message: OutgoingMessage) -> str:
        body = urllib.parse.urlencode({"target": whatsapp_number(message.to), "message": message.text})
        _, payload = self._post(
            body.encode(),
            {
                "Authorization": self.token,
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "Accept": "application/json",
            },
        )
        data = self._json(payload)
        if data.get("status") is not True:
            reason = shorten(f"Fonnte: {data.get('reason') or payload.decode(errors='replace')}")
            if "disconnect" in reason.lower():
                raise TemporaryFailure(reason, code=failures.WHATSAPP_DISCONNECTED)
            raise PermanentFailure(reason, code=failures.WHATSAPP_REFUSED)
        ids = data.get("id")
        reference = ids[0] if isinstance(ids, list) and ids else ids
        return str(reference) if reference is not None else ""


class MetaCloudChannel(_HttpGateway):
    """Meta WhatsApp Cloud API: an approved template message, JSON with a Bearer token (or a
    text message when it answers the participant's own message: FREE_TEXT_TYPE).

    The template's body takes text parameters; messages.render supplies them as an attachment of
    type TEMPLATE_PARAMETERS_TYPE (name, what, when, where, personal link).
    """

    def __init__(self, *, url: str, token: str, timeout: float, template: str, language: str):
        super().__init__(url=url, token=token, timeout=timeout)
        self.template, self.language = template, language

    @classmethod
    def from_config(cls, config: Mapping) -> MetaCloudChannel:
        return cls(
            url=config["WHATSAPP_API_URL"],
            token=config.get("WHATSAPP_TOKEN") or "",
            timeout=float(config.get("WHATSAPP_TIMEOUT") or 10),
            template=config.get("WHATSAPP_META_TEMPLATE") or "",
            language=config.get("WHATSAPP_META_LANGUAGE") or "id",
        )

    def body(self, message: OutgoingMessage) -> dict:
        if any(mimetype == FREE_TEXT_TYPE for _name, mimetype, _content in message.attachments):
            return {
                "messaging_product": "whatsapp",
                "to": whatsapp_number(message.to),
                "type": "text",
                "text": {"body": message.text},
            }
        return {
            "messaging_product": "whatsapp",
            "to": whatsapp_number(message.to),
            "type": "template",
            "template": {
                "name": self.template,
                "language": {"code": self.language},
                "components": [
                    {
                        "type": "body",
                        "parameters": [{"type": "text", "text": value} for value in _parameters(message)],
                    }
                ],
            },
        }

    def send(self, message: OutgoingMessage) -> str:
        body = json.dumps(self.body(message), ensure_ascii=False).encode()
        _, payload = self._post(
            body,
            {
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        messages = self._json(payload).get("messages")
        if not (isinstance(messages, list) and messages and isinstance(messages[0], dict)):
            # Accepted or not? Not retried (no double send); the organiser sees why and may retry.
            raise PermanentFailure(
                shorten(f"Meta: unexpected answer {payload.decode(errors='replace')}"),
                code=failures.WHATSAPP_UNEXPECTED_ANSWER,
            )
        return str(messages[0].get("id"))


def _parameters(message: OutgoingMessage) -> list[str]:
    """Template parameters: one line each (Meta refuses new lines, tabs and long runs of spaces)."""
    for _filename, mimetype, content in message.attachments:
        if mimetype == TEMPLATE_PARAMETERS_TYPE:
            values = json.loads(content)["parameters"]
            break
    else:
        values = [message.text]
    return [" ".join(str(value).split()) or "-" for value in values]
