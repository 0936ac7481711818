from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs are 3.2
from wtforms.validators import Length

from workshop.attendance.models import AttendanceStatus
from workshop.forms import BaseForm
from workshop.reports.labels import ATTENDANCE_LABELS

AUTOMATIC = "auto"


class OverrideForm(BaseForm):
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice(AUTOMATIC, _l("As the evidence shows (automatic)")),
            *(
                SelectChoice(status.value, label)
                for status, label in ATTENDANCE_LABELS.items()
                if status != AttendanceStatus.BELUM_DIMULAI  # computed, never set by hand
            ),
        ],
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[Length(max=500)],
        description=_l("E.g. a letter of leave from the head of the agency, or a hall scan that failed."),
    )
