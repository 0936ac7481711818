"""The base of every form: text fields arrive cleaned (workshop/text.py: no control characters, no
surrounding spaces), never as None."""

from flask_wtf import FlaskForm
from wtforms import Field, PasswordField, StringField, TextAreaField

from workshop.text import clean_line, clean_lines


class BaseForm(FlaskForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):
            field_class = unbound_field.field_class
            if issubclass(field_class, StringField) and not issubclass(field_class, PasswordField):
                clean = clean_lines if issubclass(field_class, TextAreaField) else clean_line
                filters = [clean, *unbound_field.kwargs.get("filters", ())]
                return unbound_field.bind(form=form, filters=filters, **options)
            return unbound_field.bind(form=form, **options)


def add_error(field: Field, message: str) -> None:
    """Show `message` under a validated field: a service refused what it holds."""
    field.errors = [*field.errors, message]
