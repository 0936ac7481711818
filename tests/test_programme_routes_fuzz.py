"""The organiser's programme form (new and edit), moving a stage and deleting an agenda item, with
what a careless or hostile client sends (hypothesis, a bounded number of examples): ids past any
column, 0, negative, NUL, control bytes, U+202E, 50,000-character texts, time zones that are no
time zone, fields of the wrong kind, missing or sent twice; and the same requests from staff who
may not run programmes. Never a server error: refused input is the form again with its error in
Indonesian (or a 400/403/404 page in Indonesian) and leaves every table as it was, and another
organiser's good request right after succeeds."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests import factories
from tests.test_evaluation_fuzz import BAD_IDS, snapshot
from tests.test_live import staff_client
from tests.test_live_forms_fuzz import MISSING, _form_data
from tests.test_programme_forms_fuzz import EXAMPLES, MORE_HOSTILE
from workshop.auth.models import Role
from workshop.programs.models import AgendaItem, Program, Stage

TOO_LARGE = "Persingkat teks atau pilih berkas yang lebih kecil, lalu coba lagi."
GOOD_PROGRAM = {
    "title": "Bimtek Penyusunan Masterplan Smart City",
    "slug": "smart-city",
    "organiser": "Dinas Kominfo",
    "description": "Tiga tahap, luring dan daring.",
    "timezone": "Asia/Jakarta",
    "registration_open": "y",
}
PROGRAM_ERRORS = (
    "Wajib diisi.",
    "Paling banyak 300 karakter.",
    "Paling banyak 80 karakter.",
    "Paling banyak 200 karakter.",
    "Paling banyak 5000 karakter.",
    "Gunakan huruf kecil, angka, dan tanda hubung.",
    "Zona waktu tidak dikenal.",
    "Nama singkat ini sudah digunakan oleh kegiatan lain.",
)
PROGRAM_VALUES = [
    *MORE_HOSTILE,
    "smart-city",  # the slug of the programme already there
    "Smart City",
    "-a-",
    "a--b",
    "UTC",
    "asia/jakarta",
    "Asia/Jakarta\x00",
    "../../etc/passwd",
    "Etc/GMT+12",
    "Pacific/Kiritimati",
    "false",
    "",
]
PATH_IDS = [*BAD_IDS, "1.5", "+1", "0x10", "\u202e1", str(2**70)]
NOT_FOUND = "Halaman tidak ditemukan"
NO_ACCESS = "Anda tidak memiliki akses ke halaman ini"
BAD_REQUEST = "Permintaan tidak dapat diproses"
MORE_EXAMPLES = settings(EXAMPLES, max_examples=30)
_slugs = itertools.count(1)


@pytest.fixture
def world(app, session):
    program = factories.program(session, title="Bimtek Smart City", stages=3, slug="smart-city")
    first = program.stages[0]
    items = [
        AgendaItem(stage=first, starts_at=first.starts_at, title="Pembukaan", speaker="Bupati"),
        AgendaItem(stage=first, starts_at=first.starts_at, title="Paparan", speaker="Kepala Bappeda"),
    ]
    session.add_all(items)
    organiser, other = factories.staff(session, Role.PANITIA), factories.staff(session, Role.ADMIN)
    facilitator, door = factories.staff(session, Role.NARASUMBER), factories.staff(session, Role.PETUGAS)
    session.commit()
    return {
        "program": program,
        "stages": list(program.stages),
        "items": items,
        "organiser": staff_client(app, organiser),
        "other": staff_client(app, other),
        "not_organisers": [staff_client(app, facilitator), staff_client(app, door)],
    }


def _program_data(field: str, value: object, twice: bool) -> dict[str, object]:
    """The good programme under a short name of its own, `field` hostile."""
    return _form_data(GOOD_PROGRAM | {"slug": f"bimtek-{next(_slugs)}"}, field, value, twice)


def _positions(session, program_id: int) -> list[tuple[int, str]]:
    session.expire_all()
    found = session.execute(
        select(Stage.position, Stage.title).where(Stage.program_id == program_id).order_by(Stage.position)
    )
    return [tuple(row) for row in found]


def _moved(order: list[tuple[int, str]], title: str, direction: str) -> list[tuple[int, str]]:
    """The (position, title) of the stages once the one titled `title` moved one place, if it can."""
    titles = [found for _position, found in order]
    index = titles.index(title)
    other = index + (-1 if direction == "up" else 1)
    if 0 <= other < len(titles):
        titles[index], titles[other] = titles[other], titles[index]
    return [(position, found) for (position, _title), found in zip(order, titles, strict=True)]


@given(
    field=st.sampled_from([*sorted(GOOD_PROGRAM), "extra", "csrf_token"]),
    value=st.sampled_from(PROGRAM_VALUES) | st.just(MISSING),
    twice=st.booleans(),
)
@example(field="timezone", value="Asia/Jakarta\x00", twice=False)
@example(field="timezone", value="x" * 50_000, twice=False)
@example(field="slug", value="smart-city", twice=False)
@example(field="title", value="x" * 50_000, twice=True)
@example(field="slug", value=MISSING, twice=False)
@MORE_EXAMPLES
def test_any_hostile_field_of_the_programme_form_is_refused_in_indonesian_or_stored_and_another_goes_on(
    session, world, field, value, twice
):
    program = world["program"]
    data = _program_data(field, value, twice)
    before = snapshot()
    for path in ("/admin/programs/new", f"/admin/programs/{program.id}/edit"):
        response = world["organiser"].post(path, data=data)
        assert response.status_code in (200, 302, 400), (path, response.status_code)
        if response.status_code == 302:
            before = snapshot()
            continue
        page = response.get_data(as_text=True)
        if response.status_code == 400:  # the CSRF token itself was what went wrong
            assert field == "csrf_token" and "Formulir sudah kedaluwarsa" in page, page[:2000]
        else:
            assert any(error in page for error in PROGRAM_ERRORS), page[:2000]
        assert snapshot() == before
    for client in world["not_organisers"]:
        refused = client.post(f"/admin/programs/{program.id}/edit", data=GOOD_PROGRAM | {"title": "Bukan"})
        assert refused.status_code == 403 and NO_ACCESS in refused.get_data(as_text=True)
        assert (
            client.post("/admin/programs/new", data=_program_data("title", "Bukan", False)).status_code == 403
        )
        assert snapshot() == before
    good = GOOD_PROGRAM | {"title": "Bimtek Baik"}
    assert world["other"].post(f"/admin/programs/{program.id}/edit", data=good).status_code == 302
    session.expire_all()
    saved = session.get(Program, program.id)
    assert (saved.title, saved.slug, saved.timezone) == ("Bimtek Baik", "smart-city", "Asia/Jakarta")


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("timezone", "Asia/Atlantis", "Zona waktu tidak dikenal."),
        ("timezone", "../../etc/passwd", "Zona waktu tidak dikenal."),
        ("timezone", "localtime", "Zona waktu tidak dikenal."),
        ("timezone", "Factory", "Zona waktu tidak dikenal."),
        ("slug", "smart-city", "Nama singkat ini sudah digunakan oleh kegiatan lain."),
        (
            "slug",
            "\u202esmart-city",
            "Nama singkat ini sudah digunakan oleh kegiatan lain.",
        ),  # U+202E cleaned
        ("slug", "Smart City", "Gunakan huruf kecil, angka, dan tanda hubung."),
        ("slug", "x" * 81, "Paling banyak 80 karakter."),
        ("title", "\x00\x01\x1b", "Wajib diisi."),
    ],
)
def test_a_new_programme_with_a_bad_field_says_which_in_indonesian_and_adds_nothing(
    session, world, field, value, error
):
    before = snapshot()
    data = GOOD_PROGRAM | {"slug": "bimtek-baru", field: value}
    response = world["organiser"].post("/admin/programs/new", data=data)
    assert response.status_code == 200
    assert error in response.get_data(as_text=True)
    assert snapshot() == before


@given(
    stage_id=st.sampled_from([*PATH_IDS, "stage"]),
    direction=st.sampled_from(
        ["up", "down", "UP", "left", "", "up\x00", "\u202eup", "x" * 50_000, "-1", "1", str(2**63)]
    )
    | st.just(MISSING),
    twice=st.booleans(),
)
@example(stage_id=str(2**63), direction="up", twice=False)
@example(stage_id="stage", direction="sideways", twice=False)
@example(stage_id="stage", direction=MISSING, twice=False)
@example(stage_id="stage", direction="down", twice=True)
@MORE_EXAMPLES
def test_moving_a_stage_with_any_id_or_direction_moves_one_place_or_is_refused_in_indonesian(
    session, world, stage_id, direction, twice
):
    program, stages = world["program"], world["stages"]
    middle = stages[1]
    path_id = str(middle.id) if stage_id == "stage" else stage_id
    data: dict[str, object] = {}
    if direction is not MISSING:
        data["direction"] = ["up", direction] if twice else direction
    before = snapshot()
    order = _positions(session, program.id)
    for client in world["not_organisers"]:
        refused = client.post(f"/admin/stages/{path_id}/move", data=data)
        assert refused.status_code in (403, 404)
        assert (NO_ACCESS if refused.status_code == 403 else NOT_FOUND) in refused.get_data(as_text=True)
    assert snapshot() == before

    response = world["organiser"].post(f"/admin/stages/{path_id}/move", data=data)

    assert response.status_code in (302, 400, 404), response.status_code
    if response.status_code == 302:
        sent = data["direction"][0] if twice else data["direction"]  # type: ignore[index]
        assert _positions(session, program.id) == _moved(order, middle.title, sent)
    else:
        page = response.get_data(as_text=True)
        assert (BAD_REQUEST if response.status_code == 400 else NOT_FOUND) in page
        assert snapshot() == before
    current = _positions(session, program.id)
    moved = world["other"].post(f"/admin/stages/{stages[0].id}/move", data={"direction": "down"})
    assert moved.status_code == 302
    assert _positions(session, program.id) == _moved(current, stages[0].title, "down")


@given(
    item_id=st.sampled_from([*PATH_IDS, "agenda-99"]), twice=st.booleans(), body=st.sampled_from(MORE_HOSTILE)
)
@example(item_id=str(2**63), twice=False, body="x")
@example(item_id="-1", twice=True, body="\x00")
@example(item_id="agenda-99", twice=True, body="x" * 50_000)
@MORE_EXAMPLES
def test_deleting_an_agenda_item_that_is_not_there_is_refused_in_indonesian_and_deletes_nothing(
    session, world, item_id, twice, body
):
    path_id = str(max(item.id for item in world["items"]) + 99) if item_id == "agenda-99" else item_id
    before = snapshot()
    response = world["organiser"].post(
        f"/admin/agenda/{path_id}/delete", data={"item_id": [body, body] if twice else body}
    )
    assert response.status_code in (404, 413)  # 413: the body is over the form's limit
    expected = NOT_FOUND if response.status_code == 404 else TOO_LARGE
    assert expected in response.get_data(as_text=True)
    assert snapshot() == before


def test_staff_who_may_not_run_programmes_cannot_delete_an_agenda_item_and_an_organiser_can(session, world):
    pembukaan, paparan = world["items"]
    before = snapshot()
    for client in world["not_organisers"]:
        refused = client.post(f"/admin/agenda/{pembukaan.id}/delete")
        assert refused.status_code == 403
        assert NO_ACCESS in refused.get_data(as_text=True)
    assert snapshot() == before

    deleted = world["organiser"].post(f"/admin/agenda/{pembukaan.id}/delete", data={"x": "\x00" * 5000})
    again = world["other"].post(f"/admin/agenda/{pembukaan.id}/delete")

    assert deleted.status_code == 302
    assert again.status_code == 404 and NOT_FOUND in again.get_data(as_text=True)
    session.expire_all()
    assert session.scalars(select(AgendaItem.title)).all() == ["Paparan"]
    assert paparan.id == session.scalar(select(AgendaItem.id))


@pytest.mark.parametrize(
    "timezone",
    ["Pacific/Kiritimati", "Asia/Jayapura", "Etc/GMT-14", "UTC"],
)
def test_a_programme_in_any_time_zone_the_form_accepts_shows_its_pages(app, session, world, timezone):
    program, stage = world["program"], world["stages"][0]
    saved = world["organiser"].post(
        f"/admin/programs/{program.id}/edit", data=GOOD_PROGRAM | {"timezone": timezone}
    )
    assert saved.status_code == 302
    for path in (
        f"/admin/programs/{program.id}",
        f"/admin/stages/{stage.id}/edit",
        f"/admin/programs/{program.id}/registrations",
        f"/admin/programs/{program.id}/attendance",
        f"/daftar/{program.slug}",
    ):
        assert world["organiser"].get(path).status_code == 200, path


@pytest.mark.parametrize(
    "body",
    [5, [], None, "title", {"title": 5}, {"slug": ["smart-city", 5]}, {"title": None}, {"title": "\ud800"}],
)
@pytest.mark.parametrize("path", ["/admin/programs/new", "/admin/programs/{id}/edit"])
def test_a_programme_form_sent_as_json_of_the_wrong_kind_is_a_400_in_indonesian_and_changes_nothing(
    session, world, body, path
):
    before = snapshot()
    response = world["organiser"].post(
        path.format(id=world["program"].id), data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.get_json() == {"error": "bad_request", "message": BAD_REQUEST}
    assert snapshot() == before
