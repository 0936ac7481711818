"""Forms of the facilitator's pages: a poll (draft) and the stage's Q&A settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.fields import StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs are 3.2
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from workshop.forms import BaseForm
from workshop.groups.forms import select_field
from workshop.ids import id_from_text
from workshop.live.models import PollKind, ResultsVisibility
from workshop.live.services import PollDraft

REQUIRED = _l("This field is required.")
MAX_OPTIONS = 12
KIND_LABELS = {
    PollKind.SINGLE: _l("Single choice"),
    PollKind.MULTIPLE: _l("Multiple choice"),
    PollKind.RATING: _l("Rating scale"),
    PollKind.WORDCLOUD: _l("Word cloud"),
    PollKind.TEXT: _l("Open text"),
}
VISIBILITY_LABELS = {
    ResultsVisibility.LIVE: _l("Live, while people answer"),
    ResultsVisibility.AFTER_CLOSE: _l("After the poll closes"),
    ResultsVisibility.HIDDEN: _l("Hidden (facilitators only)"),
}


class PollForm(BaseForm):
    question = StringField(_l("Question"), validators=[DataRequired(REQUIRED), Length(max=300)])
    kind = RadioField(
        _l("Type"),
        choices=[SelectChoice(kind.value, label) for kind, label in KIND_LABELS.items()],
        default=PollKind.SINGLE.value,
        validators=[DataRequired(REQUIRED)],
    )
    options = TextAreaField(
        _l("Options, one per line"),
        description=_l("For single and multiple choice: 2 to 12 options."),
    )
    max_choices = IntegerField(
        _l("At most this many choices"),
        validators=[
            Optional(),
            NumberRange(min=1, max=MAX_OPTIONS, message=_l("Enter a number from 1 to 12.")),
        ],
    )
    scale = RadioField(
        _l("Scale"), choices=[SelectChoice("5", "1-5"), SelectChoice("10", "1-10")], default="5"
    )
    results_visibility = RadioField(
        _l("Results for participants"),
        choices=[SelectChoice(value.value, label) for value, label in VISIBILITY_LABELS.items()],
        default=ResultsVisibility.LIVE.value,
        validators=[DataRequired(REQUIRED)],
    )
    allow_change = BooleanField(_l("People may change their answer while the poll is open"))
    duration_seconds = IntegerField(
        _l("Countdown in seconds (empty: no countdown)"),
        validators=[
            Optional(),
            NumberRange(min=10, max=3600, message=_l("Enter a number of seconds from 10 to 3600.")),
        ],
    )

    # Who answers: the whole stage, or one of its groups (workshop/groups); the view sets the choices.
    group_id = select_field(SelectField, _l("Who answers"), choices=[], default="")

    def option_labels(self) -> list[str]:
        return [line.strip()[:200] for line in (self.options.data or "").splitlines() if line.strip()]

    def validate_options(self, field) -> None:
        if self.kind.data not in (PollKind.SINGLE.value, PollKind.MULTIPLE.value):
            return
        labels = self.option_labels()
        if not 2 <= len(labels) <= MAX_OPTIONS:
            raise ValidationError(_l("Give 2 to 12 options, one per line."))
        if len(set(labels)) != len(labels):
            raise ValidationError(_l("Two options are the same."))

    def validate_max_choices(self, field) -> None:
        if (
            self.kind.data == PollKind.MULTIPLE.value
            and field.data
            and field.data > len(self.option_labels())
        ):
            raise ValidationError(_l("That is more than the number of options."))

    def draft(self) -> PollDraft:
        kind = PollKind(self.kind.data)
        return PollDraft(
            kind=kind,
            question=self.question.data or "",
            options=self.option_labels(),
            max_choices=self.max_choices.data,
            scale=int(self.scale.data or 5),
            results_visibility=ResultsVisibility(self.results_visibility.data),
            allow_change=self.allow_change.data,
            duration_seconds=self.duration_seconds.data,
            group_id=id_from_text(self.group_id.data),
        )

    def fill_from(self, poll) -> None:
        self.question.data = poll.question
        self.kind.data = poll.kind.value
        self.options.data = "\n".join(option.label for option in poll.options)
        self.max_choices.data = poll.max_choices
        self.scale.data = str(poll.scale or 5)
        self.results_visibility.data = poll.results_visibility.value
        self.allow_change.data = poll.allow_change
        self.duration_seconds.data = poll.duration_seconds
        self.group_id.data = str(poll.group_id or "")


class SettingsForm(BaseForm):
    questions_moderated = BooleanField(_l("Questions wait for a moderator before they are shown"))
    anonymous_allowed = BooleanField(
        _l("Participants may ask anonymously (facilitators still see who asked)")
    )
