"""Read-side queries of accounts."""

from __future__ import annotations

from workshop.auth.models import User
from workshop.db import RowLoader, Session

USER_LOADER = RowLoader(User)


def user_of_session(session: Session, user_id: str) -> User | None:
    """The user a login session names ("<id>.<session epoch>"), or None once that user's sessions
    were ended (the epoch moved on) or the value is not one we wrote."""
    ident, _, epoch = user_id.partition(".")
    if not ident.isdigit() or not epoch.isdigit():
        return None
    user = USER_LOADER.load(session, int(ident))
    if user is None or user.session_epoch != int(epoch):
        return None
    return user
