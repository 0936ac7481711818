from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import EmailField, RadioField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs are 3.2
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from workshop.forms import BaseForm
from workshop.programs.models import Program
from workshop.registration.models import Mode, Status
from workshop.registration.roster.files import EXTENSIONS as ROSTER_EXTENSIONS
from workshop.registration.roster.files import FILE_ERRORS as ROSTER_FILE_ERRORS
from workshop.registration.validation import normalise_phone
from workshop.uploads import NO_FILE, UploadForm, within_upload_limit

REQUIRED = _l("This field is required.")
MODE_LABELS = {Mode.LURING: _l("In person (luring)"), Mode.DARING: _l("Online (daring)")}
MODE_SHORT_LABELS = {Mode.LURING: _l("in person"), Mode.DARING: _l("online")}  # in lists
STATUS_LABELS = {
    Status.PENDING: _l("Pending"),
    Status.APPROVED: _l("Approved"),
    Status.WAITLISTED: _l("Waitlisted"),
    Status.REJECTED: _l("Rejected"),
    Status.CANCELLED: _l("Cancelled"),
}


def _whatsapp_number(form, field):
    if field.data and normalise_phone(field.data) is None:
        raise ValidationError(_l("Not a valid Indonesian mobile number (e.g. 0812 3456 7890)."))


class RegistrationForm(BaseForm):
    name = StringField(_l("Full name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    position = StringField(_l("Position (jabatan)"), validators=[DataRequired(REQUIRED), Length(max=200)])
    organization = StringField(
        _l("Organisation (instansi)"), validators=[DataRequired(REQUIRED), Length(max=300)]
    )
    phone = StringField(_l("WhatsApp number"), validators=[DataRequired(REQUIRED), _whatsapp_number])
    email = EmailField(
        _l("Email"),
        validators=[
            Optional(),
            Email(message=_l("Not a valid email address."), check_deliverability=False),
            Length(max=254),
        ],
    )

    stages: list = []

    def mode_fields(self):
        return [field for name, field in self._fields.items() if name.startswith("mode_")]

    def stage_mode_fields(self):
        """(stage, field) pairs, in stage order."""
        return [(stage, self[f"mode_{stage.id}"]) for stage in self.stages]


def registration_form_for(program: Program, **kwargs) -> RegistrationForm:
    """The public form, with one attendance-mode question per stage of the programme."""

    class ProgramRegistrationForm(RegistrationForm):
        stages = list(program.stages)

    choices = [SelectChoice(mode.value, label) for mode, label in MODE_LABELS.items()]
    for stage in program.stages:
        label = _l("Stage %(number)s: %(title)s", number=stage.number, title=stage.title)
        setattr(
            ProgramRegistrationForm,
            f"mode_{stage.id}",
            RadioField(label, choices=choices, validators=[DataRequired(_l("Choose how you will attend."))]),
        )
    return ProgramRegistrationForm(**kwargs)


class RosterUploadForm(UploadForm):
    """The participant list to import (its content is checked by workshop/registration/roster)."""

    file = FileField(
        validators=[
            FileRequired(NO_FILE),
            within_upload_limit,
            FileAllowed(ROSTER_EXTENSIONS, ROSTER_FILE_ERRORS["wrong_type"]),
        ]
    )
