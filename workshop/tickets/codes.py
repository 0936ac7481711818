"""Ticket secrets and the strings QR codes carry.

A ticket secret is 32 characters from an alphabet without look-alikes (no 0/o, 1/i/l):
about 158 bits, as pretix does. The QR code carries `BH1:<secret>`: a version tag and the
secret, no personal data and no row id. The short code (e.g. `K7PM-3XQ2`) is for typing by hand.

The database never holds a secret as it is: `registration.ticket_secret_hash` is an HMAC of it
under a key derived from SECRET_KEY (what a scan is looked up by), and
`registration.ticket_secret_sealed` the secret encrypted (Fernet) under another such key, so that
the ticket page, its image and the badges can still draw its QR code. A copy of the database alone
opens no door. The scanner's offline roster carries, per ticket, an HMAC of the secret under a key
of its stage (`roster_key`, `roster_mac`): the device computes the same HMAC of what it scans.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from workshop import keys

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


def secret_hash(secret: str, secret_key: str) -> str:
    """What a secret is stored and looked up by: 64 hex digits, useless without SECRET_KEY."""
    return keys.mac(secret_key, "ticket-secret", secret).hex()


def seal(secret: str, secret_key: str) -> str:
    return keys.fernet(secret_key, "ticket-secret-seal").encrypt(secret.encode()).decode()


def unseal(sealed: str, secret_key: str) -> str:
    return keys.fernet(secret_key, "ticket-secret-seal").decrypt(sealed.encode()).decode()


def roster_key(stage_id: int, secret_key: str) -> str:
    """The key of a stage's scanner roster (hex): random to anyone without SECRET_KEY, the same for
    every fetch of the roster, and different for each stage."""
    return keys.mac(secret_key, "scanner-roster", str(stage_id)).hex()


def roster_mac(key: str, secret: str) -> str:
    """HMAC-SHA256 of a secret under a roster key, as static/js/scanner/roster.js computes it (hex)."""
    return hmac.new(bytes.fromhex(key), secret.encode(), hashlib.sha256).hexdigest()


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
