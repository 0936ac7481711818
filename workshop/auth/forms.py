from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired

from workshop.forms import BaseForm


class LoginForm(BaseForm):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Please fill in your username."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Please fill in your password."))])
    remember = BooleanField(_l("Keep me logged in on this device"))


class ConfirmForm(BaseForm):
    """The POST of a personal link: its CSRF token, and the page to go to afterwards (`next`)."""

    next = HiddenField()
