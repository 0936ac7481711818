"""The organiser's stage and agenda forms, the participant's join link and the anonymous personal
link with what a careless or hostile client sends (hypothesis, a bounded number of examples): years
UTC cannot hold, numbers past any column, control bytes, U+202E, 50,000-character texts, lone
surrogates in JSON, fields missing or sent twice. Never a server error: refused input is the form
again with its error in Indonesian (or a 404) and leaves every table as it was, and a good request
right after succeeds."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests import factories
from tests.test_evaluation_fuzz import BAD_IDS, HOSTILE, snapshot
from tests.test_live import participant_client, staff_client
from workshop.assignments.forms import AssignmentForm
from workshop.auth.models import Role
from workshop.programs.forms import DATETIME_FORMAT, AgendaItemForm, StageForm, as_local_naive
from workshop.programs.models import AgendaItem, Stage
from workshop.registration.models import Status

EXAMPLES = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
YEAR_ERROR = "Tahun harus antara 2000 dan 2100."
GOOD_STAGE = {
    "title": "Tahap Tambahan",
    "starts_at": "2027-03-01T09:00",
    "ends_at": "2027-03-01T12:00",
    "capacity": "40",
    "check_in_opens_before_minutes": "30",
    "venue_name": "Aula Bappeda",
    "venue_address": "Jl. Merdeka 1",
    "meeting_provider": "zoom",
    "meeting_url": "https://zoom.us/j/1",
    "meeting_id": "1",
    "meeting_passcode": "p",
}
# Wall-clock times a browser's datetime-local field can send that no workshop has; year 1 and
# 9999 have no moment in UTC east or west of Greenwich (stored, they raised OverflowError: a 500).
FAR_MOMENTS = [
    "0001-01-01T00:00",
    "0001-01-01T06:59",
    "9999-12-31T23:59",
    "1999-12-31T23:59",
    "2101-01-01T00:00",
]
MORE_HOSTILE = [*HOSTILE, str(2**70), "NaN", "\u202e2027-03-01T09:00", "x" * 50_000, "2027-13-45T99:99"]
hostile_values = st.sampled_from(MORE_HOSTILE + FAR_MOMENTS)


@pytest.fixture
def world(app, session):
    program = factories.program(session, title="Bimtek Smart City", stages=2)
    rina = factories.registration(session, program, status=Status.APPROVED, name="Rina Siregar")
    organiser = factories.staff(session, Role.PANITIA)
    other = factories.staff(session, Role.PANITIA)
    session.commit()
    return {
        "program": program,
        "stage": program.stages[0],
        "rina": rina,
        "organiser": staff_client(app, organiser),
        "other": staff_client(app, other),
    }


def _stage_titles(session) -> list[str]:
    return sorted(session.scalars(select(Stage.title)))


@pytest.mark.parametrize("form_class", [StageForm, AgendaItemForm, AssignmentForm])
def test_a_year_no_workshop_has_is_refused_in_indonesian_by_every_date_time_form(app, form_class):
    with app.test_request_context(
        method="POST", data={"starts_at": "0001-01-01T00:00", "deadline": "9999-12-31T23:59"}
    ):
        form = form_class(meta={"csrf": False})
        form.validate()
        field = form.deadline if form_class is AssignmentForm else form.starts_at
        assert field.errors == [YEAR_ERROR]


@pytest.mark.parametrize("moment", FAR_MOMENTS)
def test_a_stage_in_a_year_utc_cannot_hold_is_the_form_again_and_adds_nothing(session, world, moment):
    program = world["program"]
    before = snapshot()
    response = world["organiser"].post(
        f"/admin/programs/{program.id}/stages/new", data=GOOD_STAGE | {"starts_at": moment}
    )
    assert response.status_code == 200
    assert YEAR_ERROR in response.get_data(as_text=True)
    assert snapshot() == before


@given(field=st.sampled_from([*sorted(GOOD_STAGE), "extra"]), value=hostile_values, twice=st.booleans())
@example(field="starts_at", value="0001-01-01T00:00", twice=False)
@example(field="capacity", value=str(2**70), twice=False)
@example(field="title", value="x" * 50_000, twice=True)
@EXAMPLES
def test_any_hostile_field_of_the_stage_forms_is_refused_or_stored_whole_and_another_organiser_goes_on(
    session, world, field, value, twice
):
    program, stage = world["program"], world["stage"]
    data = {
        key: [given_value, value] if key == field and twice else given_value
        for key, given_value in GOOD_STAGE.items()
    }
    if not twice:
        data[field] = value
    before = snapshot()
    for path in (f"/admin/programs/{program.id}/stages/new", f"/admin/stages/{stage.id}/edit"):
        response = world["organiser"].post(path, data=data)
        assert response.status_code in (200, 302), (path, response.status_code)
        if response.status_code == 200:
            assert "Tahap" in response.get_data(as_text=True)
            assert snapshot() == before
        else:
            before = snapshot()
    good = world["other"].post(f"/admin/stages/{stage.id}/edit", data=GOOD_STAGE | {"title": "Tahap Baik"})
    assert good.status_code == 302
    session.expire_all()
    assert session.get(Stage, stage.id).title == "Tahap Baik"


@given(field=st.sampled_from(["title", "speaker", "starts_at"]), value=hostile_values)
@example(field="starts_at", value="9999-12-31T23:59")
@EXAMPLES
def test_any_hostile_agenda_item_is_refused_in_indonesian_or_stored_and_another_organiser_goes_on(
    session, world, field, value
):
    stage = world["stage"]
    opening = as_local_naive(stage.starts_at, world["program"].timezone).strftime(DATETIME_FORMAT)
    good = {"title": "Pembukaan", "speaker": "Kepala Bappeda", "starts_at": opening}
    before = snapshot()
    response = world["organiser"].post(f"/admin/stages/{stage.id}/agenda", data=good | {field: value})
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        page = response.get_data(as_text=True)
        assert any(
            error in page
            for error in (YEAR_ERROR, "Wajib diisi", "Tanggal dan jam tidak sah", "Paling banyak")
        )
        assert snapshot() == before
    count = len(session.scalars(select(AgendaItem).where(AgendaItem.stage_id == stage.id)).all())
    session.commit()
    added = world["other"].post(f"/admin/stages/{stage.id}/agenda", data=good)
    assert added.status_code == 302
    assert len(session.scalars(select(AgendaItem).where(AgendaItem.stage_id == stage.id)).all()) == count + 1


@given(position=st.sampled_from([*BAD_IDS, "3", "99", str(2**70)]))
@EXAMPLES
def test_a_join_link_for_a_stage_that_is_not_there_is_404_in_indonesian(app, session, world, position):
    participant = participant_client(app, session, world["rina"])
    response = participant.get(f"/saya/{world['program'].slug}/tahap/{position}/gabung")
    assert response.status_code == 404
    assert "Halaman tidak ditemukan" in response.get_data(as_text=True)


@given(token=st.sampled_from([*BAD_IDS, "\u202e", "x" * 5000]) | st.text(max_size=200), post=st.booleans())
@EXAMPLES
def test_any_token_in_a_personal_link_logs_no_one_in_and_the_real_link_still_works(
    app, session, world, token, post
):
    from urllib.parse import quote

    anonymous = app.test_client()
    path = f"/p/{quote(token, safe='%')}" if token else "/p/x"
    before = snapshot()
    response = anonymous.post(path) if post else anonymous.get(path)
    assert response.status_code in (200, 404)
    assert snapshot() == before
    assert anonymous.get(f"/saya/{world['program'].slug}").status_code == 302  # still nobody
    participant_client(app, session, world["rina"])  # the real link logs Rina in right after


def _without_audit(rows: dict[str, list]) -> dict[str, list]:
    """Every table but the audit log: an export is audited whatever its filter."""
    return {table: found for table, found in rows.items() if table != "audit_entry"}


QUERY_VALUES = [*MORE_HOSTILE, *BAD_IDS, "2027-03-01", "approved", "opd", "newest", "email"]


@given(
    parameter=st.sampled_from(
        [
            "kind",
            "q",
            "page",
            "status",
            "kecamatan",
            "mode",
            "order",
            "hari",
            "registration_id",
            "rule_id",
            "channel",
            "show",
        ]
    ),
    value=st.sampled_from(QUERY_VALUES),
    data=st.data(),
)
@EXAMPLES
def test_any_query_parameter_of_the_organiser_lists_is_a_page_or_a_404_and_changes_nothing(
    session, world, parameter, value, data
):
    program, stage = world["program"], world["stage"]
    expected = {
        "/admin/": {200},
        f"/admin/programs/{program.id}/registrations": {200},
        f"/admin/programs/{program.id}/attendance": {200},
        f"/admin/programs/{program.id}/attendance.csv": {200},
        f"/admin/stages/{stage.id}/daftar-hadir.pdf": {200, 404},
        f"/admin/stages/{stage.id}/reminders/preview": {200, 302},
        "/admin/reminders/outbox": {200},
    }
    path = data.draw(st.sampled_from(sorted(expected)))
    before = _without_audit(snapshot())
    response = world["organiser"].get(path, query_string={parameter: value})
    assert response.status_code in expected[path], (path, response.status_code)
    if response.status_code == 404:
        assert "Halaman tidak ditemukan" in response.get_data(as_text=True)
    assert _without_audit(snapshot()) == before
    assert world["other"].get(path).status_code in expected[path] - {404}
