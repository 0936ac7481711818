"""Forms of the evaluation: the participant's answers (one field per item of the questionnaire),
and the organiser's items and deadline."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs are 3.2
from wtforms.validators import InputRequired, Length, NumberRange

from workshop.evaluation.models import MAX_DEADLINE_DAYS, SCALE_MAX, SCALE_MIN, ItemKind, Questionnaire
from workshop.evaluation.services import MAX_PROMPT, MAX_TEXT_ANSWER
from workshop.forms import BaseForm

REQUIRED = _l("This field is required.")
KIND_LABELS = {
    ItemKind.SCALE: _l("Rating from 1 to 5"),
    ItemKind.CHOICE: _l("Multiple choice (one answer)"),
    ItemKind.TEXT: _l("Free text"),
}
SCALE_LABELS = {
    1: _l("1 (very poor)"),
    2: "2",
    3: "3",
    4: "4",
    5: _l("5 (very good)"),
}


def field_name(item_id: int) -> str:
    return f"item_{item_id}"


def response_form(questionnaire: Questionnaire, **kwargs) -> BaseForm:
    """A form with one field per item (named item_<id>): the choices of a rating or a choice are
    checked by the service, which says what is wrong per item, so a refused answer is kept as typed."""

    class ResponseForm(BaseForm):
        pass

    for item in questionnaire.items:
        field: RadioField | TextAreaField
        if item.kind == ItemKind.SCALE:
            choices = [
                SelectChoice(str(value), SCALE_LABELS[value]) for value in range(SCALE_MIN, SCALE_MAX + 1)
            ]
            field = RadioField(item.prompt, choices=choices, validate_choice=False)
        elif item.kind == ItemKind.CHOICE:
            field = RadioField(
                item.prompt, choices=[SelectChoice(o, o) for o in item.options], validate_choice=False
            )
        else:
            field = TextAreaField(item.prompt, render_kw={"maxlength": MAX_TEXT_ANSWER, "rows": 4})
        setattr(ResponseForm, field_name(item.id), field)
    return ResponseForm(**kwargs)


class ItemForm(BaseForm):
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(kind.value, label) for kind, label in KIND_LABELS.items()],
        default=ItemKind.SCALE.value,
    )
    prompt = StringField(
        _l("Question"),
        validators=[InputRequired(REQUIRED), Length(max=MAX_PROMPT)],
        render_kw={"maxlength": MAX_PROMPT},
    )
    options = TextAreaField(
        _l("Options"),
        description=_l("Multiple choice only: one option per line, 2 to 10 options."),
        render_kw={"rows": 3},
    )
    required = BooleanField(_l("An answer is required"), default=True)

    @property
    def option_list(self) -> list[str]:
        return [line for line in (self.options.data or "").splitlines() if line.strip()]


class DeadlineForm(BaseForm):
    deadline_days = IntegerField(
        _l("Open until (days after the stage ends)"),
        validators=[
            InputRequired(REQUIRED),
            NumberRange(min=0, max=MAX_DEADLINE_DAYS, message=_l("From 0 to 90 days.")),
        ],
    )
