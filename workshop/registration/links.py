"""Personal links.

The token in a link is an HMAC of the registration id and a random nonce under the app's
secret key, so an organiser can copy a link again at any time, while the database holds only
the nonce and the SHA-256 of the token: a copy of the database alone opens no link.
Regenerating draws a new nonce (the old link stops working); revoking clears both.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from sqlalchemy import select

from workshop import keys
from workshop.db import Session
from workshop.registration.models import Registration


def token_for(registration: Registration, secret_key: str) -> str | None:
    if registration.link_nonce is None:
        return None
    digest = keys.mac(secret_key, "personal-link", f"{registration.id}:{registration.link_nonce}")[:20]
    return base64.b32encode(digest).decode().rstrip("=").lower()  # 160 bits, 32 characters


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(registration: Registration, secret_key: str) -> str:
    registration.link_nonce = secrets.token_hex(16)
    token = token_for(registration, secret_key)
    assert token is not None
    registration.link_token_hash = hash_token(token)
    return token


def revoke(registration: Registration) -> None:
    registration.link_nonce = None
    registration.link_token_hash = None


def find(session: Session, token: str) -> Registration | None:
    if not token or len(token) > 64:
        return None
    return session.scalar(select(Registration).where(Registration.link_token_hash == hash_token(token)))
