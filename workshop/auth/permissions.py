"""Role checks for views: anonymous users go to the login page, the wrong role gets 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user

from workshop.auth.models import LIVE_ROLES, ORGANISER_ROLES, STAFF_ROLES, Role


def roles_required(*roles: Role) -> Callable:
    allowed = frozenset(roles)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if Role.PARTICIPANT in allowed:
                    return redirect(url_for("auth.link_needed", next=_page_to_return_to()))
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _page_to_return_to() -> str | None:
    """The page a participant comes back to after entering through their link (a page, not a POST)."""
    return request.full_path.rstrip("?") if request.method == "GET" else None


organiser_required = roles_required(*ORGANISER_ROLES)
staff_required = roles_required(*STAFF_ROLES)
participant_required = roles_required(Role.PARTICIPANT)
live_staff_required = roles_required(*LIVE_ROLES)
# The hall's check-in desks: the petugas, and organisers who lend a hand.
door_staff_required = roles_required(Role.PETUGAS, Role.PANITIA, Role.ADMIN)
