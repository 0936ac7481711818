"""The base of every form: text fields arrive cleaned (workshop/text.py: no control characters, no
surrounding spaces), never as None; WTForms' own messages ("This field is required.", "Field
cannot be longer than 200 characters.") come in the user's language from the app's catalog."""

import re

from flask import abort, request
from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto  # what a form gets when it is to read the request itself
from wtforms import Field, Form, PasswordField, StringField, TextAreaField

from workshop.text import clean_line, clean_lines

_SURROGATE = re.compile("[\ud800-\udfff]")

# The messages of the WTForms validators and fields this app uses. WTForms has no Indonesian of its
# own; listed here, they are extracted into the app's catalog and translated there.
WTFORMS_MESSAGES = (
    _l("This field is required."),
    _ln(
        "Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 1
    ),
    _ln(
        "Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 1
    ),
    _ln("Field must be exactly %(max)d character long.", "Field must be exactly %(max)d characters long.", 1),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Invalid input."),
    _l("Invalid email address."),
    _l("Invalid URL."),
    _l("Not a valid choice."),
    _l("Invalid Choice: could not coerce."),
    _l("Invalid choice(s): one or more data inputs could not be coerced."),
    _ln(
        "'%(value)s' is not a valid choice for this field.",
        "'%(value)s' are not valid choices for this field.",
        1,
    ),
    _l("Not a valid datetime value."),
    _l("Not a valid date value."),
    _l("Not a valid integer value."),
)


class _Catalog:
    """WTForms' translations interface on the app's catalog, unformatted: WTForms fills in the
    numbers itself."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


class _Meta:
    def get_translations(self, form):
        return _Catalog()

    def bind_field(self, form, unbound_field, options):
        field_class = unbound_field.field_class
        if issubclass(field_class, StringField) and not issubclass(field_class, PasswordField):
            clean = clean_lines if issubclass(field_class, TextAreaField) else clean_line
            filters = [clean, *unbound_field.kwargs.get("filters", ())]
            return unbound_field.bind(form=form, filters=filters, **options)
        return unbound_field.bind(form=form, **options)


def _is_utf8(value: object) -> bool:
    """A string with no lone surrogate: JSON can carry one ("\\ud800"), a form post cannot, and
    nothing encodes it (a password's hash raised UnicodeEncodeError: a 500 on /login)."""
    return isinstance(value, str) and (value.isascii() or not _SURROGATE.search(value))


def _is_text(value: object) -> bool:
    return _is_utf8(value) or (isinstance(value, list) and all(_is_utf8(item) for item in value))


class BaseForm(FlaskForm):
    class Meta(_Meta):
        def wrap_formdata(self, form, formdata):
            """A JSON body is read as the form (Flask-WTF) only when it is an object of texts (or lists
            of texts, a field sent twice): a number, true, null or an object where a field's text goes,
            a text with a lone surrogate, or a body that is no object, is answered 400 before any
            field reads it."""
            reads_request = formdata is _Auto and form.is_submitted()
            if reads_request and request.is_json and not request.form and not request.files:
                body = request.get_json(silent=True)
                if not isinstance(body, dict) or not all(_is_text(value) for value in body.values()):
                    abort(400)
            return super().wrap_formdata(form, formdata)


class SubForm(Form):
    """A form inside a form (a `FormField`): no CSRF token of its own, the rest as BaseForm."""

    class Meta(_Meta):
        pass


def add_error(field: Field, message: str) -> None:
    """Show `message` under a validated field: a service refused what it holds."""
    field.errors = [*field.errors, message]
