"""Matching the rows of a meeting report to registrations: by email, by the phone number people
put in their Zoom name, or by name (without titles, degrees and forms of address)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import phonenumbers

from workshop.registration.models import Registration
from workshop.registration.validation import normalise_phone

_TITLES = frozenset(
    [
        "bapak",
        "ibu",
        "bpk",
        "bp",
        "pak",
        "bu",
        "sdr",
        "sdri",
        "saudara",
        "saudari",
        "yth",
        "drs",
        "dra",
        "dr",
        "ir",
        "h",
        "hj",
        "prof",
        "a",
        "e",
        "s",
        "t",
        "m",
        "kom",
        "skom",
        "st",
        "se",
        "sh",
        "sip",
        "ip",
        "sos",
        "ssos",
        "sap",
        "spd",
        "pd",
        "sag",
        "ag",
        "shi",
        "hi",
        "si",
        "ssi",
        "skm",
        "kep",
        "ked",
        "sked",
        "ak",
        "md",
        "amd",
        "mm",
        "msi",
        "mh",
        "mkom",
        "mpd",
        "ap",
        "map",
        "mba",
        "msc",
        "phd",
        "stp",
    ]
)
# Phone numbers in a meeting name are read as Indonesian ones ("0812...", "+62 812...").
PHONE_REGION = "ID"


def _phone_numbers(text: str) -> list[phonenumbers.PhoneNumberMatch]:
    """The phone numbers written in a text (libphonenumber's matcher: only valid numbers)."""
    return list(phonenumbers.PhoneNumberMatcher(text, PHONE_REGION))


def normalise_person_name(text: str) -> str:
    """'Drs. H. Budi Santoso, M.Si' -> 'budi santoso'; '0812... Bapak Budi' -> 'budi'.

    Lower case without accents or punctuation; degrees after the first comma, phone numbers and
    common titles and forms of address left out.
    """
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(char for char in text if not unicodedata.combining(char)).lower()
    for found in reversed(_phone_numbers(text)):
        text = f"{text[: found.start]} {text[found.end :]}"
    head = text.split(",", 1)[0]
    text = head if head.strip() else text
    words = re.sub(r"[^\w\s]", " ", text).split()
    return " ".join(word for word in words if word not in _TITLES and not word.isdigit())


def phone_in(text: str) -> str | None:
    """An Indonesian mobile number written in a meeting name ('0812-3456-7890 Budi'), as E.164."""
    for found in _phone_numbers(text or ""):
        phone = normalise_phone(phonenumbers.format_number(found.number, phonenumbers.PhoneNumberFormat.E164))
        if phone is not None:  # a mobile number (one that can be on WhatsApp), not a landline
            return phone
    return None


def _name_variants(name: str) -> list[str]:
    """Zoom writes 'Display Name (Original Name)' when someone renamed themselves: try both."""
    variants = [name]
    found = re.fullmatch(r"(.+?)\s*\((.+)\)\s*", name)
    if found:
        variants += [found.group(1), found.group(2)]
    return variants


class Matcher:
    """Matches report rows to the approved registrations of a programme."""

    def __init__(self, registrations: Iterable[Registration]):
        self.by_email: dict[str, Registration | None] = {}
        self.by_phone: dict[str, Registration | None] = {}
        self.by_name: dict[str, Registration | None] = {}
        for registration in registrations:
            person = registration.person
            self._add(self.by_email, (person.email or "").strip().lower(), registration)
            self._add(self.by_phone, person.phone, registration)
            self._add(self.by_name, normalise_person_name(person.name), registration)

    @staticmethod
    def _add(index: dict[str, Registration | None], key: str, registration: Registration) -> None:
        if key:  # a key shared by two registrations matches neither (None)
            index[key] = registration if key not in index else None

    def match(self, name: str, email: str) -> tuple[Registration | None, str]:
        if email and self.by_email.get(email.lower()) is not None:
            return self.by_email[email.lower()], "email"
        variants = _name_variants(name)
        for variant in variants:
            phone = phone_in(variant)
            if phone is not None and self.by_phone.get(phone) is not None:
                return self.by_phone[phone], "phone"
        for variant in variants:
            key = normalise_person_name(variant)
            if key and self.by_name.get(key) is not None:
                return self.by_name[key], "name"
        return None, ""
