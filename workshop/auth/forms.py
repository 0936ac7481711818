from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Please fill in your username."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Please fill in your password."))])
    remember = BooleanField(_l("Keep me logged in on this device"))


class ConfirmForm(FlaskForm):
    """An empty form: its CSRF token is what the POST of a personal link checks."""
