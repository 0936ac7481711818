"""The certificate forms: the rule and template, the JP of each stage, revocation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, DateField, IntegerField, TextAreaField
from wtforms.fields import StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from workshop.certificates.issuing import REASON_MAX_LENGTH
from workshop.certificates.models import DEFAULT_NUMBER_FORMAT
from workshop.certificates.services import MAX_JP
from workshop.forms import BaseForm
from workshop.programs.models import Program
from workshop.uploads import NO_FILE, UploadForm, within_upload_limit


class SettingsForm(BaseForm):
    min_stages = IntegerField(
        _l("Present at this many stages at least"), validators=[Optional(), NumberRange(min=1, max=50)]
    )
    min_jp = IntegerField(
        _l("Or: this many JP at least"), validators=[Optional(), NumberRange(min=1, max=10000)]
    )
    require_evaluation = BooleanField(_l("A stage counts only with its evaluation filled in"))
    signatory_name = StringField(_l("Signatory's name"), validators=[Length(max=200)])
    signatory_nip = StringField(_l("Signatory's NIP"), validators=[Length(max=30)])
    signatory_title = StringField(_l("Signatory's title"), validators=[Length(max=200)])
    place = StringField(_l("Place of signing"), validators=[Length(max=100)])
    signed_on = DateField(_l("Date of signing"), validators=[Optional()])
    number_format = StringField(
        _l("Number format"),
        default=DEFAULT_NUMBER_FORMAT,
        validators=[DataRequired(), Length(max=120)],
        description=_l("{n} is the certificate's number, {year} the year: 800/{n}/Kominfo/{year}"),
    )


def jp_field_name(stage_id: int) -> str:
    return f"jp_{stage_id}"


def settings_form(program: Program, **kwargs) -> SettingsForm:
    """The settings form with one JP field per stage of the programme."""

    class ProgramSettingsForm(SettingsForm):
        pass

    for stage in program.stages:
        setattr(
            ProgramSettingsForm,
            jp_field_name(stage.id),
            IntegerField(
                _l("JP of stage %(number)s", number=stage.number),
                default=0,
                validators=[Optional(), NumberRange(min=0, max=MAX_JP)],
            ),
        )
    return ProgramSettingsForm(**kwargs)


class RevokeForm(BaseForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=REASON_MAX_LENGTH)])


class ActionForm(BaseForm):
    """A button that posts (generate, announce): the CSRF token only."""


LOGO_TYPE = _l("The logo must be a PNG or JPEG picture of at most 4000 × 4000 pixels.")


class LogoForm(UploadForm):
    """The certificate's logo (its content is checked by services.check_logo)."""

    logo = FileField(
        validators=[
            FileRequired(NO_FILE),
            within_upload_limit,
            FileAllowed(("png", "jpg", "jpeg"), LOGO_TYPE),
        ]
    )
