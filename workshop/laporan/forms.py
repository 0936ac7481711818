"""The laporan's forms: the organiser's texts, a photo with its caption, a delete button."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from workshop.forms import BaseForm
from workshop.laporan.services import CAPTION_MAX_LENGTH, PHOTO_MAX_BYTES, PHOTO_MAX_PIXELS, TEXT_MAX_LENGTH

PHOTO_SIZE_TEXT = f"{PHOTO_MAX_BYTES // (1024 * 1024)} MB"
PHOTO_MEGAPIXELS = PHOTO_MAX_PIXELS // 1_000_000


class TextsForm(BaseForm):
    basis = TextAreaField(
        _l("Legal basis"),
        validators=[Length(max=TEXT_MAX_LENGTH)],
        description=_l("The regulations and letters the activity is held under, one per line."),
    )
    purpose = TextAreaField(_l("Purpose"), validators=[Length(max=TEXT_MAX_LENGTH)])
    summary = TextAreaField(
        _l("Summary (optional)"),
        validators=[Length(max=TEXT_MAX_LENGTH)],
        description=_l("How the activity went, in a few paragraphs."),
    )
    closing = TextAreaField(_l("Closing (optional)"), validators=[Length(max=TEXT_MAX_LENGTH)])


class PhotoForm(BaseForm):
    photo = FileField(
        _l("Photo"),
        validators=[
            FileRequired(_l("Choose a photo to upload.")),
            FileAllowed(["png", "jpg", "jpeg"], _l("The photo must be a PNG or JPEG file.")),
            FileSize(
                PHOTO_MAX_BYTES, message=_l("The photo is too large: at most %(size)s.", size=PHOTO_SIZE_TEXT)
            ),
        ],
    )
    caption = StringField(_l("Caption"), validators=[Length(max=CAPTION_MAX_LENGTH)])


class ActionForm(BaseForm):
    """A button that posts (delete a photo): the CSRF token only."""
