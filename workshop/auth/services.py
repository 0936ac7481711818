from __future__ import annotations

import secrets
from functools import cache

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from workshop.auth.models import STAFF_ROLES, Role, User
from workshop.db import Session

MIN_PASSWORD_LENGTH = 10


class AccountError(Exception):
    pass


def create_staff_user(session: Session, *, username: str, name: str, role: Role, password: str) -> User:
    if role not in STAFF_ROLES:
        raise AccountError(f"role must be one of {', '.join(sorted(STAFF_ROLES))}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise AccountError(f"username {username!r} is taken")
    user = User(username=username, name=name, role=role)
    user.set_password(password)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user, or None. Every attempt checks one password hash, so that the time an answer takes
    does not tell whether the username exists (or is inactive)."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or user.password_hash is None:
        check_password_hash(_hash_of_no_user(), password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


@cache
def _hash_of_no_user() -> str:
    """A hash made as User.set_password makes one, of a password nobody knows."""
    return generate_password_hash(secrets.token_urlsafe(32))


def end_sessions(session: Session, user: User) -> None:
    """Log the user out everywhere: every session cookie issued so far stops being accepted."""
    user.session_epoch += 1
