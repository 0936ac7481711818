"""Matching a meeting-report row to a registration: the name without titles, degrees or case; the
phone number written in the name (libphonenumber's matcher, Indonesian numbers); email first."""

import pytest

from tests import factories
from workshop.attendance.matching import Matcher, normalise_person_name, phone_in
from workshop.registration.models import Status


def test_names_are_compared_without_titles_punctuation_or_case():
    assert normalise_person_name("Drs. H. Junjungan SITUMORANG, M.Si") == "junjungan situmorang"
    assert normalise_person_name("Bapak/Ibu Lamhot Panggabean, S.Kom") == "lamhot panggabean"
    assert normalise_person_name("0812-7000-1234 Rosmaida") == "rosmaida"
    assert normalise_person_name("Rosmaida (+62 812 7000 1234)") == "rosmaida"
    assert normalise_person_name("Kantor Desa 2021") == "kantor desa"


@pytest.mark.parametrize(
    ("name", "phone"),
    [
        ("0812-7000-1234 Rosmaida", "+6281270001234"),
        ("+62 812 7000 1234", "+6281270001234"),
        ("Rosmaida 081270001234", "+6281270001234"),
        ("Rosmaida (0812.7000.1234)", "+6281270001234"),
        ("6281270001234 Rosmaida", "+6281270001234"),
        ("Desa 2021", None),
        ("Kantor Camat (0633) 21234", None),  # a landline: not a WhatsApp number of a person
        ("Rosmaida 0812", None),  # too short to be a number
        ("", None),
    ],
)
def test_the_phone_number_in_a_meeting_name_is_read_as_an_indonesian_mobile_number(name, phone):
    assert phone_in(name) == phone


def test_a_row_is_matched_by_email_then_phone_then_name_and_a_shared_key_matches_nobody(session):
    program = factories.program(session, stages=1)
    rosmaida = factories.registration(session, program, status=Status.APPROVED, name="Rosmaida Hutabarat")
    rosmaida.person.phone = "+6281270001234"
    rosmaida.person.email = "rosmaida@contoh.go.id"
    twins = [
        factories.registration(session, program, status=Status.APPROVED, name="Maria Simatupang")
        for _ in range(2)
    ]
    session.flush()
    matcher = Matcher([rosmaida, *twins])

    assert matcher.match("Siapa Saja", "ROSMAIDA@contoh.go.id") == (rosmaida, "email")
    assert matcher.match("HP 0812 7000 1234", "") == (rosmaida, "phone")
    assert matcher.match("Kades (Rosmaida Hutabarat, S.Pd)", "") == (rosmaida, "name")
    assert matcher.match("Ibu Maria Simatupang", "") == (None, "")
    assert matcher.match("0813 9999 0000 Tamu", "") == (None, "")
