"""Why a delivery failed: a short stable code stored with it (workshop/reminders/failures.py), shown
as a sentence in the reader's language, followed by the provider's own words as they came."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from workshop.reminders import failures
from workshop.reminders.channels import PermanentFailure, TemporaryFailure
from workshop.reminders.channels.base import DeliveryFailure
from workshop.reminders.models import Delivery


def test_every_failure_code_has_a_sentence_and_codes_are_short_and_stable():
    codes = {value for name, value in vars(failures).items() if name.isupper() and isinstance(value, str)}
    assert codes == set(failures.SENTENCES)
    assert all(code.isascii() and code.islower() and len(code) <= 40 for code in codes)


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("id", "Server surat menolak pesan. SMTP 550: no such user"),
        ("en", "The mail server refused the message. SMTP 550: no such user"),
    ],
)
def test_a_failure_is_shown_in_the_readers_language_then_in_the_providers_words(app, language, shown):
    delivery = Delivery(failure_code=failures.SMTP_REFUSED, error="SMTP 550: no such user")

    with app.test_request_context(), force_locale(language):
        assert app.jinja_env.filters["delivery_failure"](delivery) == shown


def test_a_failure_of_the_apps_own_has_its_sentence_alone(app):
    with app.test_request_context(), force_locale("id"):
        assert failures.failure_text(failures.NO_EMAIL) == "Peserta tidak memiliki alamat email."
        assert failures.failure_text("", "") == ""  # no failure: nothing


def test_a_failure_raised_without_a_code_is_unexpected():
    assert PermanentFailure("gateway said no").code == TemporaryFailure("later").code == "unexpected"
    assert issubclass(PermanentFailure, DeliveryFailure) and issubclass(TemporaryFailure, DeliveryFailure)
