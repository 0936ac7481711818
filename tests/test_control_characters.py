"""Control characters: dropped where text enters (forms, live payloads, roster files), and every
export (CSV and XLSX) stays whole whatever is already stored, with no cell a spreadsheet would run
as a formula (OWASP's CSV injection list)."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from sqlalchemy import select

from tests import factories, test_live, test_scanner_api
from tests.conftest import ON_POSTGRESQL
from tests.test_live import NOW, client_id, make_poll, open_now, participant_client
from workshop.auth.models import Role
from workshop.checkin.models import ScanAttempt
from workshop.live.models import PollKind, PollVote, Question
from workshop.programs.models import Organization, OrgKind
from workshop.registration.models import Mode, Person, Status
from workshop.spreadsheets import FORMULA_START, csv_cell, xlsx_value
from workshop.text import clean_line, clean_lines

world = test_live.world  # the live tests' programme, people and moderator
fixed_clock = test_live.fixed_clock  # autouse: their clock

# What a hostile or careless form sends: NUL, escape, bell, vertical tab, form feed, a C1 control,
# a right-to-left override, a lone surrogate. On PostgreSQL no NUL can be stored, so "stored"
# below uses only what PostgreSQL keeps but spreadsheets refuse.
NASTY = "Ri\x00na\x1b\x07 \x0bSi\x0cre\x85gar\u202e\ud800"
STORED_NASTY = "Rina\x1b\x07\x0b\x0c Siregar"


def test_one_line_text_loses_control_characters_and_line_breaks():
    assert clean_line(NASTY) == "Rina Siregar"
    assert clean_line("  Kepala\tBidang\r\nPerencanaan \u2028 ") == "Kepala Bidang Perencanaan"
    assert clean_line(None) == ""
    # Invisible joiners and zero-width spaces are trimmed at the edges, kept inside.
    assert clean_line("\u200b\ufeff \u2060") == ""
    assert clean_line("\u200b Rina\u200dSiregar \u200c") == "Rina\u200dSiregar"


def test_multi_line_text_keeps_its_line_breaks_only():
    assert clean_lines("Ya\r\nTidak\rRagu\x00\n\u2029Mungkin\x1b ") == "Ya\nTidak\nRagu\n\nMungkin"
    assert clean_lines("\u200b\n\ufeff\n") == ""


def test_the_public_form_stores_names_without_control_characters(session, client):
    program = factories.program(session, stages=1)
    factories.organization(session, kind=OrgKind.OPD, name="Dinas Kominfo")
    session.commit()
    data = {
        "name": NASTY.replace("\ud800", ""),  # a form post cannot carry a lone surrogate
        "position": "Kepala\x00 Bidang\x1b",
        "organization": "Dinas Kominfo",
        "phone": "0812-6000-1234",
        "email": "rina@contoh.go.id",
        f"mode_{program.stages[0].id}": "luring",
    }

    assert client.post(f"/daftar/{program.slug}", data=data).status_code == 302

    person = session.scalar(select(Person))
    assert (person.name, person.position) == ("Rina Siregar", "Kepala Bidang")


def test_a_lone_surrogate_in_a_json_form_is_refused_before_any_field_reads_it(session, client):
    # JSON can carry "\ud800", a form post cannot; the login hashed it and answered 500.
    staff = factories.staff(session, Role.PANITIA)
    program = factories.program(session, stages=1)
    factories.organization(session, kind=OrgKind.OPD, name="Dinas Kominfo")
    session.commit()
    refused = (400, {"error": "bad_request", "message": "Permintaan tidak dapat diproses"})
    registration = {
        "name": "Rina Siregar",
        "position": "Kepala Bidang",
        "organization": "Dinas Kominfo",
        "phone": "0812-6000-1234",
        f"mode_{program.stages[0].id}": "luring",
    }

    logins = [
        client.post("/login", json={"username": staff.username, "password": password})
        for password in (factories.PASSWORD + "\ud800", "\udfff", ["sandi", "\ud800"])
    ]
    registered = client.post(f"/daftar/{program.slug}", json=registration | {"name": "Rina\ud800"})

    assert [(response.status_code, response.get_json()) for response in [*logins, registered]] == [
        refused
    ] * 4
    assert session.scalar(select(Person)) is None
    assert client.get("/saya").status_code == 302  # nobody logged in


def test_an_organisation_name_loses_control_characters(session, client, login):
    login(factories.staff(session, Role.PANITIA))
    data = {"kind": "opd", "name": "Dinas\x00 Kominfo\x1b", "code": "", "parent_id": "0"}

    assert client.post("/admin/organizations/new", data=data).status_code == 302

    assert (
        session.scalar(select(Organization.name).where(Organization.kind == OrgKind.OPD)) == "Dinas Kominfo"
    )


def test_live_questions_and_answers_lose_control_characters(app, session, world):
    stage = world["stage"]
    client = participant_client(app, session, world["luring"])
    text_poll = make_poll(session, stage, world["moderator"], PollKind.TEXT)
    open_now(session, text_poll, world["moderator"])

    asked = client.post(f"/live/{stage.id}/questions", json={"client_id": client_id("q"), "text": NASTY})
    voted = client.post(
        f"/live/{stage.id}/polls/{text_poll.id}/vote",
        json={"client_id": client_id("v"), "answer": {"text": "Baik\x00\nsekali\x1b\ud800"}},
    )

    assert (asked.status_code, voted.status_code) == (200, 200)
    assert session.scalar(select(Question.text)) == "Rina Siregar"
    assert session.scalar(select(PollVote.answer)) == {"text": "Baik\nsekali"}


def test_a_question_of_control_characters_only_is_empty(app, session, world):
    client = participant_client(app, session, world["luring"])
    reply = client.post(
        f"/live/{world['stage'].id}/questions", json={"client_id": client_id("q"), "text": "\x00\x1b\u202e"}
    )
    assert (reply.status_code, reply.get_json()["error"]) == (400, "empty")


# Exports: robust to what is stored, never a formula


def test_every_owasp_formula_start_is_defused_in_csv_and_kept_as_text_in_xlsx():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert start in FORMULA_START
        assert csv_cell(f"{start}2+3") == f"'{start}2+3"
    assert csv_cell("-cmd|' /C calc'!A0") == "'-cmd|' /C calc'!A0"
    assert [csv_cell(value) for value in ("Rina", "", 5, -2, None)] == ["Rina", "", 5, -2, None]
    assert xlsx_value(STORED_NASTY) == "Rina Siregar"
    assert xlsx_value("a\ud800b") == "a?b"


FORMULAS = ["=1+2", "+1+2", "-2+3", "@SUM(A1)", "-cmd|' /C calc'!A0", "\t=1+2", "\r=1+2"]
# openpyxl writes with lxml (python-docx needs it), which keeps a carriage return as &#13;: the cell stays whole
IN_XLSX = FORMULAS


@pytest.fixture
def stored(session, world):
    """People whose stored names and answers a spreadsheet would choke on or run: written straight
    to the database, as data stored before input was cleaned."""
    program, stage = world["program"], world["stage"]
    org = factories.organization(session, kind=OrgKind.OPD, name="Dinas\x1b Kominfo")
    people = [
        factories.registration(session, program, status=Status.APPROVED, mode=Mode.LURING, name=name, org=org)
        for name in [STORED_NASTY, *FORMULAS]
    ]
    if not ON_POSTGRESQL:
        people.append(factories.registration(session, program, status=Status.APPROVED, name="Nul\x00 Byte"))
    poll = make_poll(session, stage, world["moderator"], options=["=1+1", "Tidak\x0b"])
    open_now(session, poll, world["moderator"])
    for person in people:
        session.add(
            PollVote(
                poll_id=poll.id,
                registration_id=person.id,
                answer={"option_ids": [poll.options[0].id]},
                created_at=NOW,
                updated_at=NOW,
            )
        )
    session.commit()
    return poll, people


def _names_in_csv(response) -> list[str]:
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline=""), delimiter=";"))
    return rows


def _xlsx(response):
    assert response.status_code == 200
    return openpyxl.load_workbook(io.BytesIO(response.data))


def test_attendance_exports_stay_whole_and_never_hold_a_formula(session, client, login, world, stored):
    login(factories.staff(session, Role.PANITIA))
    program_id = world["program"].id
    world["stage"].title = "=HYPERLINK(1)"  # organisers' titles are text too
    session.commit()

    rows = _names_in_csv(client.get(f"/admin/programs/{program_id}/attendance.csv"))
    book = _xlsx(client.get(f"/admin/programs/{program_id}/attendance.xlsx"))

    names = [row[1] for row in rows[1:]]
    assert set(names) >= {STORED_NASTY, *(f"'{formula}" for formula in FORMULAS)}
    sheet = book.worksheets[0]
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    assert {cell.value for cell in cells} >= {"Rina Siregar", *IN_XLSX}
    assert {cell.data_type for cell in cells} == {"s"}
    assert "Dinas Kominfo" in {row[3].value for row in sheet.iter_rows(min_row=2)}
    title = book.worksheets[1]["B2"]
    assert (title.value, title.data_type) == ("=HYPERLINK(1)", "s")
    if not ON_POSTGRESQL:
        assert "Nul Byte" in {cell.value for cell in cells}


def test_poll_result_exports_stay_whole_and_never_hold_a_formula(app, session, world, stored):
    poll, _people = stored
    organiser = factories.staff(session, Role.PANITIA)
    session.commit()
    client = test_live.staff_client(app, organiser)

    rows = _names_in_csv(client.get(f"/live/polls/{poll.id}/results.csv"))
    book = _xlsx(client.get(f"/live/polls/{poll.id}/results.xlsx"))

    assert {row[0] for row in rows[1:]} >= {STORED_NASTY, *(f"'{formula}" for formula in FORMULAS)}
    assert {row[5] for row in rows[1:]} == {"'=1+1"}
    answers = [row for row in book.worksheets[0].iter_rows(min_row=2)]
    assert {row[0].value for row in answers} >= {"Rina Siregar", *IN_XLSX}
    assert {(row[5].value, row[5].data_type) for row in answers} == {("=1+1", "s")}
    counts = {row[0].value: row[0].data_type for row in book.worksheets[1].iter_rows(min_row=5)}
    assert (counts["=1+1"], counts["Tidak"]) == ("s", "s")


def test_the_roster_template_lists_stored_organisation_names_it_can_hold(
    session, client, login, world, stored
):
    login(factories.staff(session, Role.PANITIA))

    book = _xlsx(client.get(f"/admin/programs/{world['program'].id}/import/template.xlsx"))

    assert "Dinas Kominfo" in {row[1].value for row in book["Instansi"].iter_rows(min_row=2)}


# Searches and scans: a NUL is refused by PostgreSQL, so it must never reach a query


hall, clock, notified = test_scanner_api.hall, test_scanner_api.clock, test_scanner_api.notified  # fixtures


def test_a_nul_in_a_search_or_a_scan_is_dropped_before_any_query(session, client, hall):
    search = client.get(hall.url("search"), query_string={"q": "Nel\x00son"})
    scan = client.post(
        hall.url(), json=test_scanner_api.body(f"{hall.nelson.ticket_code}\x00", desk="Meja\x00 1")
    )

    assert [person["name"] for person in search.get_json()["results"]] == ["Nelson Pardede"]
    assert (scan.status_code, scan.get_json()["result"]) == (200, "ok")
    assert session.scalar(select(ScanAttempt.desk)) == "Meja 1"


def test_a_nul_in_the_registration_search_is_dropped(session, client, login):
    login(factories.staff(session, Role.PANITIA))
    program = factories.program(session, stages=1)
    factories.registration(session, program, name="Rina Siregar")
    session.commit()

    page = client.get(f"/admin/programs/{program.id}/registrations", query_string={"q": "Ri\x00na"})

    assert page.status_code == 200
    assert "Rina Siregar" in page.get_data(as_text=True)
