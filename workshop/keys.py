"""Keys derived from the app's SECRET_KEY, one for each purpose.

`mac(secret_key, purpose, message)` is HMAC-SHA256 under SECRET_KEY of `<purpose>:<message>`: the
personal links' tokens (registration.links), the lookup hash of ticket secrets and the scanner
roster's key of a stage (tickets.codes). `fernet(secret_key, purpose)` seals what must be shown
again later (a ticket's secret, for its QR code) under a key of its own. A purpose never shares
its key with another, and none of them reveals SECRET_KEY.

Rotating SECRET_KEY ends every personal link and session, and leaves the ticket secrets unreadable
(see docs/security.md).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet


def mac(secret_key: str, purpose: str, message: str) -> bytes:
    return hmac.new(secret_key.encode(), f"{purpose}:{message}".encode(), hashlib.sha256).digest()


@functools.lru_cache(maxsize=16)
def fernet(secret_key: str, purpose: str) -> Fernet:
    """Kept per (key, purpose): a Fernet is reusable, and the participant page unseals its ticket on
    every view."""
    return Fernet(base64.urlsafe_b64encode(mac(secret_key, purpose, "fernet-key")))
