from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs are 3.2
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from workshop.forms import BaseForm
from workshop.programs.models import (
    DEFAULT_CHECK_IN_OPENS_BEFORE_MINUTES,
    MAX_CHECK_IN_OPENS_BEFORE_MINUTES,
    OrgKind,
)

REQUIRED = _l("This field is required.")
MAX_CAPACITY = 100_000  # more than any hall; 2**70 was stored as is (OverflowError: a 500)
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"

ORG_KIND_LABELS = {
    OrgKind.OPD: _l("Regional agency (OPD)"),
    OrgKind.PERUSDA: _l("Regional company (Perusda)"),
    OrgKind.KECAMATAN: _l("Sub-district (Kecamatan)"),
    OrgKind.DESA: _l("Village (Desa/Kelurahan)"),
    OrgKind.KEMENTERIAN: _l("Ministry (Kementerian)"),
    OrgKind.LAINNYA: _l("Other"),
}


def from_local_naive(local_naive: datetime, timezone: str) -> datetime:
    """The moment a wall-clock time typed in a form names in `timezone` (an aware datetime in that
    zone, not in UTC); the inverse of `as_local_naive`."""
    return local_naive.replace(tzinfo=ZoneInfo(timezone))


def as_local_naive(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


FIRST_YEAR, LAST_YEAR = 2000, 2100


def plausible_year(form, field):
    """A wall-clock time typed in a form lies in a year a workshop can have: year 1 or 9999 has no
    moment in UTC in some time zones (OverflowError when stored: a 500)."""
    if field.data is not None and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(
            _("The year must be between %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR)
        )


# Names tzdata ships that are no place: "localtime" is whatever the server is set to.
NOT_PLACES = frozenset({"Factory", "localtime"})


def _known_timezone(form, field):
    if field.data in NOT_PLACES or field.data not in available_timezones():
        raise ValidationError(_l("Unknown time zone."))


class ProgramForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=300)])
    slug = StringField(
        _l("Short name for links"),
        validators=[
            DataRequired(REQUIRED),
            Length(max=80),
            Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$", message=_l("Use lower-case letters, digits and dashes.")),
        ],
    )
    organiser = StringField(_l("Organiser"), validators=[Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    timezone = StringField(
        _l("Time zone"), default="Asia/Jakarta", validators=[DataRequired(REQUIRED), _known_timezone]
    )
    registration_open = BooleanField(_l("Public registration open"), default=True)


class StageForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=300)])
    starts_at = DateTimeLocalField(
        _l("Starts"), format=DATETIME_FORMAT, validators=[DataRequired(REQUIRED), plausible_year]
    )
    ends_at = DateTimeLocalField(
        _l("Ends"), format=DATETIME_FORMAT, validators=[DataRequired(REQUIRED), plausible_year]
    )
    venue_name = StringField(_l("Venue"), validators=[Length(max=200)])
    venue_address = StringField(_l("Venue address"), validators=[Length(max=300)])
    capacity = IntegerField(
        _l("In-person capacity"),
        validators=[
            Optional(),
            NumberRange(min=0, message=_l("Must be zero or more.")),
            NumberRange(max=MAX_CAPACITY),
        ],
    )
    meeting_provider = StringField(_l("Meeting provider"), validators=[Length(max=40)])
    meeting_url = StringField(
        _l("Meeting link"),
        validators=[Optional(), URL(message=_l("Enter a full link (https://...).")), Length(max=500)],
    )
    meeting_id = StringField(_l("Meeting ID"), validators=[Length(max=80)])
    meeting_passcode = StringField(_l("Passcode"), validators=[Length(max=80)])
    check_in_opens_before_minutes = IntegerField(
        _l("Hall check-in opens (minutes before each day's start)"),
        default=DEFAULT_CHECK_IN_OPENS_BEFORE_MINUTES,
        validators=[
            Optional(),
            NumberRange(
                min=0,
                max=MAX_CHECK_IN_OPENS_BEFORE_MINUTES,
                message=_l("Between %(min)s and %(max)s minutes."),
            ),
        ],
    )


class AgendaItemForm(BaseForm):
    starts_at = DateTimeLocalField(
        _l("Time"), format=DATETIME_FORMAT, validators=[DataRequired(REQUIRED), plausible_year]
    )
    title = StringField(_l("Agenda item"), validators=[DataRequired(REQUIRED), Length(max=300)])
    speaker = StringField(_l("Speaker"), validators=[Length(max=200)])


class OrganizationForm(BaseForm):
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(kind.value, label) for kind, label in ORG_KIND_LABELS.items()]
    )
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    code = StringField(_l("Official code"), validators=[Length(max=20)])
    parent_id = SelectField(_l("Sub-district (for a village)"), coerce=int, choices=[])
