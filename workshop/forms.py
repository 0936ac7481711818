"""The base of every form: text fields arrive without surrounding spaces, never as None."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField


def clean_text(value: str | None) -> str:
    return (value or "").strip()


class BaseForm(FlaskForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):
            field_class = unbound_field.field_class
            if issubclass(field_class, StringField) and not issubclass(field_class, PasswordField):
                filters = [clean_text, *unbound_field.kwargs.get("filters", ())]
                return unbound_field.bind(form=form, filters=filters, **options)
            return unbound_field.bind(form=form, **options)
