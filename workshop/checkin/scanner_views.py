"""Routes of the check-in blueprint (see views.py)."""

from workshop.checkin.views import bp  # noqa: F401
