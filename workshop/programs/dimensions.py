"""The six dimensions of a Smart City masterplan, in the order of the Kominfo guide: assignments
ask for a row per dimension, group work splits a stage's participants into a group per dimension."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

DIMENSIONS = ("governance", "branding", "economy", "living", "society", "environment")

DIMENSION_LABELS = {
    "governance": _l("Smart governance"),
    "branding": _l("Smart branding"),
    "economy": _l("Smart economy"),
    "living": _l("Smart living"),
    "society": _l("Smart society"),
    "environment": _l("Smart environment"),
}
