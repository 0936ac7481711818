from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workshop.auth.models import STAFF_ROLES, Role, User

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
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


def end_sessions(session: Session, user: User) -> None:
    """Log the user out everywhere: every session cookie issued so far stops being accepted."""
    user.session_epoch += 1
