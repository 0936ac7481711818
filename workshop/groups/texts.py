"""What group work's refusals say, in the user's language (services raise GroupError codes)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from workshop.groups.services import GroupError
from workshop.programs.dimensions import DIMENSION_LABELS

ERRORS = {
    "bad_dimensions": _l("Choose at least one of the six dimensions."),
    "bad_cap": _l("The cap must be between 1 and 1,000 participants."),
    "bad_link": _l("Enter a full https:// link (https://...), without spaces."),
    "leader_not_member": _l("The group leader must be a member of the group."),
    "bad_choice": _l("A participant or group chosen is not part of this stage: reload the page."),
    "no_groups": _l("Set up the groups first."),
    "not_choice": _l("The organiser assigns the groups of this stage: you cannot pick one."),
    "ended": _l("This stage has ended: the groups can no longer be changed."),
    "not_participant": _l("You do not take part in this stage."),
    "full": _l("This group is full: choose another group."),
    "bad_field": _l("Reload the page and try again."),
    "too_long": _l("A field can be at most 4,000 characters long."),
    "not_member": _l("Only the members of this group can change its output."),
    "moved": _l(
        "You were moved to another group meanwhile: your text was not saved. Copy it, then reload the page."
    ),
}


def error_text(error: GroupError) -> str:
    if error.code == "group_in_use":
        dimension = str(error.detail.get("dimension", ""))
        return _(
            "The group %(group)s has members or output: move its members first.",
            group=DIMENSION_LABELS.get(dimension, dimension),
        )
    if error.code == "changed":
        row = error.detail["row"]
        name = row.updated_by.person.name if row.updated_by is not None else ""  # type: ignore[attr-defined]
        return _(
            "%(name)s changed this field meanwhile: their text is shown; your text is kept below it, "
            "copy what you need and save again.",
            name=name or _("Someone"),
        )
    return str(ERRORS.get(error.code, ERRORS["bad_field"]))
