"""Forms of the reminder pages: rules, announcements, the organiser's own contact."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, RadioField, SelectField, SelectMultipleField, TextAreaField
from wtforms.fields import EmailField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs are 3.2
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from workshop.forms import BaseForm
from workshop.registration.validation import normalise_phone
from workshop.reminders.models import CHANNELS, PARTICIPANT_CHANNELS, Anchor, Audience, DeliveryStatus, Kind

REQUIRED = _l("This field is required.")
CHANNEL_LABELS = {"whatsapp": "WhatsApp", "email": _l("Email"), "inapp": _l("In the app")}
AUDIENCE_LABELS = {
    Audience.ALL: _l("All approved participants"),
    Audience.LURING: _l("Only those in the hall (luring) for the stage"),
    Audience.DARING: _l("Only those online (daring) for the stage"),
}
DELIVERY_STATUS_LABELS = {
    DeliveryStatus.PENDING: _l("Waiting"),
    DeliveryStatus.SENDING: _l("Sending"),
    DeliveryStatus.SENT: _l("Sent"),
    DeliveryStatus.FAILED: _l("Failed"),
    DeliveryStatus.LATE: _l("Late (not sent)"),
    DeliveryStatus.CANCELLED: _l("Cancelled"),
}
KIND_LABELS = {
    Kind.REMINDER: _l("Reminder"),
    Kind.ANNOUNCEMENT: _l("Announcement"),
    Kind.STAGE_CHANGED: _l("Schedule change notice"),
    Kind.PERSONAL_LINK: _l("Personal link"),
    Kind.APPROVED: _l("Approval notice"),
    Kind.WAITLISTED: _l("Waiting-list notice"),
    Kind.PROMOTED: _l("Moved-up notice"),
    Kind.CERTIFICATE: _l("Certificate available"),
    Kind.QUESTION_CARRIED: _l("Question carried to the next stage"),
    Kind.ASSIGNMENT: _l("Assignment"),
    Kind.POLL_QUESTION: _l("Poll question by WhatsApp"),
    Kind.WHATSAPP_REPLY: _l("Answer to a WhatsApp reply"),
}
UNIT_MINUTES = {"days": 24 * 60, "hours": 60, "minutes": 1}
UNIT_LABELS = {"days": _l("days"), "hours": _l("hours"), "minutes": _l("minutes")}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _channel_field():
    return MultiCheckboxField(
        _l("Channels"),
        choices=[SelectChoice(name, CHANNEL_LABELS[name]) for name in CHANNELS],
        validators=[DataRequired(_l("Choose at least one channel."))],
    )


def _audience_field():
    return RadioField(
        _l("To whom"),
        choices=[SelectChoice(audience.value, label) for audience, label in AUDIENCE_LABELS.items()],
        default=Audience.ALL.value,
        validators=[DataRequired(REQUIRED)],
    )


ANCHOR_LABELS = {
    Anchor.START: _l("Before the stage starts"),
    Anchor.END: _l("When the stage ends (invites to the evaluation)"),
}


class RuleForm(BaseForm):
    anchor = RadioField(
        _l("Moment"),
        choices=[SelectChoice(anchor.value, label) for anchor, label in ANCHOR_LABELS.items()],
        default=Anchor.START.value,
        validators=[DataRequired(REQUIRED)],
    )
    offset_value = IntegerField(
        _l("How long before the stage starts"),
        validators=[Optional(), NumberRange(min=1, max=999, message=_l("From 1 to 999."))],
        description=_l("At the stage's end: empty for the moment it ends."),
    )
    offset_unit = SelectField(
        _l("Unit"), choices=[SelectChoice(unit, label) for unit, label in UNIT_LABELS.items()], default="days"
    )
    window_hours = IntegerField(
        _l("Late after (hours)"),
        validators=[Optional(), NumberRange(min=1, max=24 * 30, message=_l("From 1 to 720 hours."))],
        description=_l(
            "Not sent when this much later than planned. Empty: not sent once the stage has started."
        ),
    )
    channels = _channel_field()
    audience = _audience_field()
    stage_id = SelectField(_l("Stages"), coerce=int, choices=[], default=0)
    active = BooleanField(_l("Active"), default=True)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.moment == Anchor.START.value and self.offset_value.data is None:
            self.offset_value.errors = [*self.offset_value.errors, str(REQUIRED)]
            return False
        return valid

    @property
    def moment(self) -> str:
        return self.anchor.data

    @property
    def offset_minutes(self) -> int:
        if self.offset_value.data is None:  # at the stage's end
            return 0
        return self.offset_value.data * UNIT_MINUTES[self.offset_unit.data]

    @property
    def window_minutes(self) -> int | None:
        return self.window_hours.data * 60 if self.window_hours.data else None

    def fill_from(self, rule) -> None:
        for unit in ("days", "hours", "minutes"):
            if not rule.offset_minutes:  # at the stage's end: the field stays empty
                break
            if rule.offset_minutes % UNIT_MINUTES[unit] == 0:
                self.offset_value.data = rule.offset_minutes // UNIT_MINUTES[unit]
                self.offset_unit.data = unit
                break
        self.window_hours.data = rule.window_minutes // 60 if rule.window_minutes else None
        self.channels.data = rule.channel_list
        self.audience.data = rule.audience.value
        self.active.data = rule.active


class RuleEditForm(RuleForm):
    """A rule's moment and stages stay as created: the edit page shows them as text, so they are
    not read from what is posted (an error on them would show nowhere)."""

    anchor = None  # type: ignore[assignment]
    stage_id = None  # type: ignore[assignment]

    def __init__(self, rule, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rule_moment = rule.anchor.value

    @property
    def moment(self) -> str:
        return self.rule_moment


class AnnouncementForm(BaseForm):
    text = TextAreaField(
        _l("Message"),
        validators=[DataRequired(REQUIRED), Length(max=1000)],
        description=_l("Sent now, with the stage's details and each participant's personal link."),
    )
    channels = _channel_field()
    audience = _audience_field()


def _own_phone(form, field):
    if field.data and normalise_phone(field.data) is None:
        raise ValidationError(_l("Enter an Indonesian mobile number, e.g. 0812-3456-7890."))


class OwnContactForm(BaseForm):
    email = EmailField(
        _l("Your email"), validators=[Optional(), Email(_l("Enter a valid email address.")), Length(max=254)]
    )
    phone = StringField(_l("Your WhatsApp number"), validators=[Optional(), _own_phone])

    @property
    def phone_e164(self) -> str:
        return normalise_phone(self.phone.data) or "" if self.phone.data else ""


class MessageTemplateForm(BaseForm):
    """The words of one kind of message to participants (a form per kind, prefixed by the kind)."""

    text_id = TextAreaField(
        _l("In Indonesian"),
        validators=[Length(max=2000)],
        description=_l(
            "Empty: the standard text. The greeting, the next stage and the personal link are added."
        ),
    )
    text_en = TextAreaField(_l("In English"), validators=[Length(max=2000)])
    channels = MultiCheckboxField(
        _l("Channels"),
        choices=[SelectChoice(name, CHANNEL_LABELS[name]) for name in PARTICIPANT_CHANNELS],
        validators=[DataRequired(_l("Choose WhatsApp, email or both."))],
    )
    automatic = BooleanField(_l("Send it by itself when the status changes"))
