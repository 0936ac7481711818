from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs are 3.2
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from workshop.assignments.models import LatePolicy, SubmissionStatus
from workshop.assignments.services import MAX_CELL, MAX_COMMENT
from workshop.forms import BaseForm, SubForm
from workshop.programs.dimensions import DIMENSION_LABELS, DIMENSIONS
from workshop.programs.forms import DATETIME_FORMAT, ORG_KIND_LABELS, REQUIRED, plausible_year

ROW_LABELS = {
    "problem": _l("Problem"),
    "innovation": _l("Proposed innovation"),
    "owner": _l("Owner"),
    "year": _l("Year"),
}
STATUS_LABELS = {
    "missing": _l("Not submitted"),
    SubmissionStatus.SUBMITTED: _l("Submitted"),
    SubmissionStatus.RECEIVED: _l("Received"),
    SubmissionStatus.NEEDS_REVISION: _l("Needs revision"),
    SubmissionStatus.ACCEPTED: _l("Accepted"),
}
LATE_POLICY_LABELS = {
    LatePolicy.ACCEPT: _l("Accept late work, marked late"),
    LatePolicy.REFUSE: _l("Refuse work after the deadline"),
}


class AssignmentForm(BaseForm):
    stage_id = SelectField(_l("Stage"), coerce=int, choices=[])
    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=200)])
    instructions = TextAreaField(_l("Instructions"), validators=[Length(max=5000)])
    deadline = DateTimeLocalField(
        _l("Deadline"), format=DATETIME_FORMAT, validators=[DataRequired(REQUIRED), plausible_year]
    )
    late_policy = RadioField(
        _l("After the deadline"),
        choices=[SelectChoice(policy.value, label) for policy, label in LATE_POLICY_LABELS.items()],
        default=LatePolicy.ACCEPT.value,
    )
    wants_rows = BooleanField(_l("One row per Smart City dimension"), default=True)
    wants_file = BooleanField(_l("A file (PDF, DOCX or XLSX)"))
    kinds = SelectMultipleField(
        _l("Every organisation of these kinds"),
        choices=[SelectChoice(kind.value, label) for kind, label in ORG_KIND_LABELS.items()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    organizations = SelectMultipleField(_l("And these organisations"), coerce=int, choices=[])
    reviewer_id = SelectField(_l("Reviewed by (narasumber)"), coerce=int, choices=[])


class RowForm(SubForm):
    problem = TextAreaField(ROW_LABELS["problem"], validators=[Length(max=MAX_CELL)])
    innovation = TextAreaField(ROW_LABELS["innovation"], validators=[Length(max=MAX_CELL)])
    owner = StringField(ROW_LABELS["owner"], validators=[Length(max=200)])
    year = StringField(ROW_LABELS["year"], validators=[Length(max=20)])


class RowsForm(BaseForm):
    pass


for _dimension in DIMENSIONS:
    setattr(RowsForm, _dimension, FormField(RowForm, label=DIMENSION_LABELS[_dimension]))


class ReviewForm(BaseForm):
    status = RadioField(
        _l("Review"),
        choices=[
            SelectChoice(status.value, STATUS_LABELS[status])
            for status in (
                SubmissionStatus.RECEIVED,
                SubmissionStatus.NEEDS_REVISION,
                SubmissionStatus.ACCEPTED,
            )
        ],
        validators=[DataRequired(REQUIRED)],
    )
    comment = TextAreaField(
        _l("Comment for the organisation"), validators=[Optional(), Length(max=MAX_COMMENT)]
    )
