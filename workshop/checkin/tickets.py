"""Ticket secrets and the strings QR codes carry.

A ticket secret is 32 characters from an alphabet without look-alikes (no 0/o, 1/i/l):
about 158 bits, as pretix does. The QR code carries `BH1:<secret>`: a version tag and the
secret, no personal data and no row id. The short code (e.g. `K7PM-3XQ2`) is for typing by hand.
"""

from __future__ import annotations

import secrets

SECRET_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
SECRET_LENGTH = 32
CODE_ALPHABET = SECRET_ALPHABET.upper()
CODE_LENGTH = 8
QR_PREFIX = "BH1:"
LOGGED_CHARACTERS = 4


def new_secret() -> str:
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


def new_short_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def qr_payload(secret: str) -> str:
    return f"{QR_PREFIX}{secret}"


def logged_code(text: str) -> str:
    """What the scan log keeps of a scanned or typed code: its first characters (after the QR tag),
    enough to tell scans apart, never enough to open a ticket (20 bits of a 158-bit secret, half a
    short code)."""
    cleaned = (text or "").strip()
    if cleaned.upper().startswith(QR_PREFIX):
        cleaned = cleaned[len(QR_PREFIX) :]
    return cleaned[:LOGGED_CHARACTERS]


def format_short_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def parse(text: str) -> tuple[str, str] | None:
    """What was scanned or typed -> ("secret", value) or ("code", value), or None if it is neither."""
    cleaned = (text or "").strip()
    if cleaned.upper().startswith(QR_PREFIX):
        secret = cleaned[len(QR_PREFIX) :].lower()
        return ("secret", secret) if _is_secret(secret) else None
    if _is_secret(cleaned.lower()):
        return ("secret", cleaned.lower())
    code = "".join(cleaned.upper().replace("-", " ").split())
    if len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET):
        return ("code", code)
    return None


def _is_secret(value: str) -> bool:
    return len(value) == SECRET_LENGTH and set(value) <= set(SECRET_ALPHABET)
