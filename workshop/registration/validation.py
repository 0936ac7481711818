"""Field rules shared by the public form and the roster import."""

from __future__ import annotations

import phonenumbers

from workshop.registration.models import Mode

MODE_WORDS = {
    "luring": Mode.LURING,
    "offline": Mode.LURING,
    "tatap muka": Mode.LURING,
    "daring": Mode.DARING,
    "online": Mode.DARING,
    "virtual": Mode.DARING,
}

_WHATSAPP_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def normalise_phone(raw: str) -> str | None:
    """An Indonesian mobile number in E.164 ('+6281234567890'), or None if it is not one."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, "ID")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) not in _WHATSAPP_TYPES:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """'+6281234567890' -> '0812-3456-7890' style national form for Indonesian readers."""
    try:
        number = phonenumbers.parse(e164, "ID")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def parse_mode(raw: str) -> Mode | None:
    return MODE_WORDS.get(" ".join((raw or "").strip().lower().split()))


def normalise_name(raw: str) -> str:
    return " ".join((raw or "").split())
