from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs are 3.2
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from workshop.forms import BaseForm
from workshop.groups.models import OUTPUT_FIELDS, GroupMode
from workshop.groups.services import MAX_CAP, MAX_LINK, MAX_OUTPUT, valid_meeting_url
from workshop.ids import id_from_text
from workshop.programs.dimensions import DIMENSION_LABELS, DIMENSIONS

MODE_LABELS = {
    GroupMode.ORGANISER: _l("The organiser assigns organisations or participants"),
    GroupMode.CHOICE: _l("Each participant picks a group with seats left"),
}
OUTPUT_LABELS = {
    "problems": _l("Problems"),
    "quick_wins": _l("Quick wins"),
    "programmes": _l("Proposed programmes"),
}
OUTPUT_HINTS = {
    "problems": _l("The main problems of this dimension in the region."),
    "quick_wins": _l("What can be done soon, with what is at hand."),
    "programmes": _l("The programmes to propose for the masterplan."),
}


def whole_number(text: str | None) -> int | None:
    """ "12" -> 12; "", "-1", "1.5", "²" and numbers of more than 9 digits -> None."""
    if not text or len(text) > 9 or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def sent_id(field) -> int | None:
    """The group id a hidden field carries, as sent: a row id, or None. The cleaned value would
    drop a control byte, and "1\x002" would name group 12."""
    raw = field.raw_data[0] if field.raw_data else None
    return id_from_text(raw) if isinstance(raw, str) else None


def _among_choices(form, field) -> None:
    """A choice must be one of the field's own (WTForms says so in English only: its catalogs
    have no Indonesian, and a normal page never sends another value)."""
    allowed = {str(choice.value) for choice in field.choices}
    values = field.data if isinstance(field.data, list) else [field.data]
    if any(str(value) not in allowed for value in values if value is not None):
        raise ValidationError(_l("Choose one of the options given."))


def select_field(field_class, *args, **kwargs):
    """A choice field whose choices are checked by _among_choices, in the user's language."""
    validators = [*kwargs.pop("validators", []), _among_choices]
    return field_class(*args, validate_choice=False, validators=validators, **kwargs)


class SetupForm(BaseForm):
    dimensions = select_field(
        SelectMultipleField,
        _l("Groups (one per dimension)"),
        choices=[SelectChoice(d, DIMENSION_LABELS[d]) for d in DIMENSIONS],
        default=list(DIMENSIONS),
        validators=[DataRequired(_l("Choose at least one dimension."))],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )
    mode = select_field(
        RadioField,
        _l("Who puts participants in groups"),
        choices=[SelectChoice(mode.value, label) for mode, label in MODE_LABELS.items()],
        default=GroupMode.ORGANISER.value,
        validators=[InputRequired(_l("Choose how participants get into groups."))],
    )
    cap = StringField(_l("Participants per group at most (empty: no cap)"), validators=[Optional()])

    def validate_cap(self, field) -> None:
        if whole_number(field.data) not in range(1, MAX_CAP + 1):
            raise ValidationError(
                _l("Between %(min)s and %(max)s participants.") % {"min": 1, "max": MAX_CAP}
            )

    @property
    def cap_value(self) -> int | None:
        return whole_number(self.cap.data)


def _https_link(form, field) -> None:
    if field.data and not valid_meeting_url(field.data):
        raise ValidationError(_l("Enter a full https:// link (https://...), without spaces."))


class GroupForm(BaseForm):
    leader_id = select_field(SelectField, _l("Group leader"), choices=[])
    meeting_url = StringField(
        _l("Breakout meeting link (for online participants)"),
        validators=[Length(max=MAX_LINK, message=_l("At most %(max)d characters.")), _https_link],
    )


class OutputForm(BaseForm):
    """One field of the group's output, as the page's script sends it (or the form without script)."""

    field = select_field(SelectField, choices=[SelectChoice(f, OUTPUT_LABELS[f]) for f in OUTPUT_FIELDS])
    text = TextAreaField(validators=[Length(max=MAX_OUTPUT, message=_l("At most %(max)d characters."))])
    version = StringField()
    group_id = StringField()  # the group the page shows (a page older than this field sends none)

    def validate_version(self, field) -> None:
        if whole_number(field.data) is None:
            raise ValidationError(_l("Reload the page and try again."))

    def validate_group_id(self, field) -> None:
        if field.raw_data and field.raw_data[0] != "" and sent_id(field) is None:
            raise ValidationError(_l("Reload the page and try again."))

    @property
    def version_value(self) -> int:
        return whole_number(self.version.data) or 0

    @property
    def page_group_id(self) -> int | None:
        return sent_id(self.group_id)


class JoinForm(BaseForm):
    group_id = HiddenField(validators=[DataRequired(_l("Choose a group."))])

    @property
    def chosen_id(self) -> int | None:
        return sent_id(self.group_id)


NO_GROUP = "none"


def assignment_form(
    participant_ids: list[int], organization_ids: list[int], group_choices: list[SelectChoice]
):
    """A select per participant (their group, or none) and per organisation (leave as is, a group
    for all its participants, or none), on a form class made for this stage's groups."""

    class AssignmentForm(BaseForm):
        pass

    people = [SelectChoice(NO_GROUP, _l("No group")), *group_choices]
    organizations = [SelectChoice("", _l("(as chosen per participant)")), *people]
    for registration_id in participant_ids:
        setattr(
            AssignmentForm, f"r{registration_id}", select_field(SelectField, choices=people, default=NO_GROUP)
        )
    for organization_id in organization_ids:
        setattr(
            AssignmentForm,
            f"o{organization_id}",
            select_field(SelectField, choices=organizations, default=""),
        )
    return AssignmentForm
