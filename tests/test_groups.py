"""Group work by the six dimensions: the organiser sets up a stage's groups (one click for six),
assigns organisations or lets participants pick within a cap, names leaders and breakout links;
members edit the group's output together (a save from an old version is refused and says who
changed it), the projector shows it, and it is exported."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, func, select

from tests import factories
from tests.test_live import fixed_clock, participant_client, staff_client  # noqa: F401 (fixed_clock: autouse)
from workshop.auth.models import AuditEntry, Role
from workshop.db import db
from workshop.extensions import socketio
from workshop.groups import services
from workshop.groups.models import GroupMember, GroupMode, GroupOutput, GroupWork, StageGroup
from workshop.groups.services import GroupError
from workshop.programs.dimensions import DIMENSIONS
from workshop.programs.models import OrgKind
from workshop.registration.models import Mode, Status


@pytest.fixture
def world(session):
    program = factories.program(session, stages=2)
    stage = program.stages[0]
    bappeda = factories.organization(session, kind=OrgKind.OPD, name="Bappeda")
    kominfo = factories.organization(session, kind=OrgKind.OPD, name="Dinas Kominfo")
    desa = factories.organization(session, kind=OrgKind.DESA, name="Desa Hutabarat")
    hall = [
        factories.registration(session, program, status=Status.APPROVED, org=bappeda, name=f"Hall {n}")
        for n in range(3)
    ]
    kominfo_people = [
        factories.registration(session, program, status=Status.APPROVED, org=kominfo, name=f"Kominfo {n}")
        for n in range(2)
    ]
    online = factories.registration(
        session, program, status=Status.APPROVED, org=desa, mode=Mode.DARING, name="Kepala Desa Hutabarat"
    )
    pending = factories.registration(
        session, program, status=Status.PENDING, org=desa, name="Belum Disetujui"
    )
    organiser = factories.staff(session, Role.PANITIA)
    session.commit()
    return {
        "program": program,
        "stage": stage,
        "hall": hall,
        "kominfo": kominfo_people,
        "online": online,
        "pending": pending,
        "organiser": organiser,
        "orgs": {"bappeda": bappeda, "kominfo": kominfo, "desa": desa},
    }


def _set_up(session, stage, *, mode=GroupMode.ORGANISER, cap=None, dimensions=DIMENSIONS):
    services.set_up(session, stage, dimensions=dimensions, mode=mode, cap=cap, actor=None)
    session.commit()
    return {group.dimension: group for group in services.groups_of(session, stage.id)}


def _members(session, stage_id) -> dict[str, set[str]]:
    session.expire_all()
    result: dict[str, set[str]] = {}
    for group in services.groups_of(session, stage_id):
        result[group.dimension] = {member.registration.person.name for member in group.members}
    return result


def test_the_organiser_sets_up_six_groups_in_one_click(app, session, world):
    client = staff_client(app, world["organiser"])
    stage = world["stage"]
    page = client.get(f"/admin/stages/{stage.id}/kelompok")
    assert page.status_code == 200
    assert "Atur kelompok" in page.text

    response = client.post(
        f"/admin/stages/{stage.id}/kelompok/atur",
        data={"dimensions": list(DIMENSIONS), "mode": "organiser", "cap": "10"},
    )

    assert response.status_code == 302
    groups = services.groups_of(session, stage.id)
    assert [group.dimension for group in groups] == list(DIMENSIONS)
    assert all(
        sorted(row.field for row in group.output) == ["problems", "programmes", "quick_wins"]
        for group in groups
    )
    work = session.get(GroupWork, stage.id)
    assert (work.mode, work.cap) == (GroupMode.ORGANISER, 10)
    page = client.get(f"/admin/stages/{stage.id}/kelompok")
    assert "Smart governance" in page.text and "Smart environment" in page.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"dimensions": ["governance"], "mode": "organiser", "cap": "0"}, "Antara 1 dan 1000 peserta."),
        (
            {"dimensions": ["governance", "ekonomi"], "mode": "organiser"},
            "Pilih salah satu pilihan yang tersedia",
        ),
        ({"dimensions": [], "mode": "organiser"}, "Pilih setidaknya satu dimensi."),
        ({"dimensions": ["governance"], "mode": "sendiri"}, "Pilih salah satu pilihan yang tersedia"),
    ],
)
def test_a_bad_setup_is_refused_and_creates_nothing(app, session, world, data, message):
    client = staff_client(app, world["organiser"])
    response = client.post(f"/admin/stages/{world['stage'].id}/kelompok/atur", data=data)
    assert response.status_code == 422
    assert message in response.text
    assert session.scalar(select(func.count()).select_from(StageGroup)) == 0
    assert session.get(GroupWork, world["stage"].id) is None


def test_a_group_with_members_is_not_removed(app, session, world):
    stage = world["stage"]
    groups = _set_up(session, stage, dimensions=("governance", "economy"))
    services.assign(session, stage, {world["hall"][0].id: groups["economy"].id}, actor=None)
    session.commit()
    client = staff_client(app, world["organiser"])

    response = client.post(
        f"/admin/stages/{stage.id}/kelompok/atur", data={"dimensions": ["governance"], "mode": "organiser"}
    )

    assert response.status_code == 422
    assert "Kelompok Smart economy masih punya anggota atau hasil kerja" in response.text
    assert set(_members(session, stage.id)) == {"governance", "economy"}


def test_the_organiser_assigns_by_organisation_and_by_participant(app, session, world):
    stage = world["stage"]
    groups = _set_up(session, stage)
    client = staff_client(app, world["organiser"])
    form = {f"r{r.id}": "none" for r in [*world["hall"], *world["kominfo"], world["online"]]}
    form[f"o{world['orgs']['bappeda'].id}"] = str(groups["governance"].id)
    form[f"r{world['online'].id}"] = str(groups["governance"].id)
    form[f"r{world['kominfo'][0].id}"] = str(groups["economy"].id)

    response = client.post(f"/admin/stages/{stage.id}/kelompok/anggota", data=form)

    assert response.status_code == 302
    members = _members(session, stage.id)
    assert members["governance"] == {"Hall 0", "Hall 1", "Hall 2", "Kepala Desa Hutabarat"}
    assert members["economy"] == {"Kominfo 0"}
    assert (
        session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "groups.assign")
        )
        == 1
    )


def test_a_pending_registration_or_another_stage_group_cannot_be_assigned(session, world):
    stage = world["stage"]
    groups = _set_up(session, stage)
    other_stage = world["program"].stages[1]
    other = _set_up(session, other_stage, dimensions=("living",))
    for chosen in ({world["pending"].id: groups["living"].id}, {world["hall"][0].id: other["living"].id}):
        with pytest.raises(GroupError) as refused:
            services.assign(session, stage, chosen, actor=None)
        assert refused.value.code == "bad_choice"
        session.rollback()
    assert session.scalar(select(func.count()).select_from(GroupMember)) == 0


def test_spreading_evenly_keeps_an_organisation_together(app, session, world):
    stage = world["stage"]
    _set_up(session, stage, dimensions=("governance", "economy", "living"))
    client = staff_client(app, world["organiser"])

    response = client.post(f"/admin/stages/{stage.id}/kelompok/ratakan")

    assert response.status_code == 302
    members = _members(session, stage.id)
    assert members == {
        "governance": {"Hall 0", "Hall 1", "Hall 2"},
        "economy": {"Kominfo 0", "Kominfo 1"},
        "living": {"Kepala Desa Hutabarat"},
    }


@pytest.mark.parametrize(
    "link", ["http://zoom.us/j/1", "javascript:alert(1)", "https://", "https://zoom.us/j/1 2", "zoom.us/j/1"]
)
def test_a_breakout_link_must_be_https(app, session, world, link):
    stage = world["stage"]
    groups = _set_up(session, stage)
    group = groups["economy"]
    client = staff_client(app, world["organiser"])

    response = client.post(
        f"/admin/kelompok/{group.id}", data={f"g{group.id}-leader_id": "0", f"g{group.id}-meeting_url": link}
    )

    assert response.status_code == 422
    assert "Masukkan tautan https:// lengkap" in response.text
    session.expire_all()
    assert session.get(StageGroup, group.id).meeting_url == ""


def test_the_leader_must_be_a_member_and_the_link_is_saved(app, session, world):
    stage = world["stage"]
    groups = _set_up(session, stage)
    group = groups["economy"]
    services.assign(session, stage, {world["kominfo"][0].id: group.id}, actor=None)
    session.commit()
    client = staff_client(app, world["organiser"])
    prefix = f"g{group.id}-"

    refused = client.post(
        f"/admin/kelompok/{group.id}",
        data={prefix + "leader_id": str(world["hall"][0].id), prefix + "meeting_url": ""},
    )
    saved = client.post(
        f"/admin/kelompok/{group.id}",
        data={
            prefix + "leader_id": str(world["kominfo"][0].id),
            prefix + "meeting_url": "https://zoom.us/j/555",
        },
    )

    assert refused.status_code == 422 and "Pilih salah satu pilihan yang tersedia" in refused.text
    assert saved.status_code == 302
    session.expire_all()
    found = session.get(StageGroup, group.id)
    assert (found.leader_id, found.meeting_url) == (world["kominfo"][0].id, "https://zoom.us/j/555")


def test_a_leader_who_moves_to_another_group_is_no_longer_its_leader(session, world):
    stage = world["stage"]
    groups = _set_up(session, stage)
    person = world["kominfo"][0]
    services.assign(session, stage, {person.id: groups["economy"].id}, actor=None)
    services.update_group(session, groups["economy"], leader_id=person.id, meeting_url="", actor=None)
    services.assign(session, stage, {person.id: groups["living"].id}, actor=None)
    session.commit()
    assert session.get(StageGroup, groups["economy"].id).leader_id is None


def test_participants_pick_a_group_until_it_is_full(app, session, world):
    stage = world["stage"]
    groups = _set_up(session, stage, mode=GroupMode.CHOICE, cap=2)
    economy = groups["economy"]
    slug = world["program"].slug
    clients = [participant_client(app, session, r) for r in world["hall"]]

    page = clients[0].get(f"/saya/{slug}/kelompok/{stage.id}")
    assert "2 kursi tersisa" in page.text
    answers = [
        c.post(f"/saya/{slug}/kelompok/{stage.id}/pilih", data={"group_id": str(economy.id)}) for c in clients
    ]

    assert [a.status_code for a in answers] == [302, 302, 409]
    assert "Kelompok ini sudah penuh" in answers[2].text
    assert _members(session, stage.id)["economy"] == {"Hall 0", "Hall 1"}
    page = clients[2].get(f"/saya/{slug}/kelompok/{stage.id}")
    assert 'data-testid="join-economy"' not in page.text and "Penuh" in page.text


def test_a_participant_cannot_pick_when_the_organiser_assigns(app, session, world):
    stage = world["stage"]
    groups = _set_up(session, stage)
    client = participant_client(app, session, world["hall"][0])
    response = client.post(
        f"/saya/{world['program'].slug}/kelompok/{stage.id}/pilih",
        data={"group_id": str(groups["economy"].id)},
    )
    assert response.status_code == 422
    assert "Panitia yang menentukan kelompok" in response.text
    assert session.scalar(select(func.count()).select_from(GroupMember)) == 0


def test_a_participant_cannot_pick_or_change_group_once_the_stage_has_ended(app, session, world, set_now):
    stage = world["stage"]
    groups = _set_up(session, stage, mode=GroupMode.CHOICE)
    hall, other = world["hall"][0], world["hall"][1]
    services.assign(session, stage, {hall.id: groups["economy"].id}, actor=None)
    session.commit()
    set_now(stage.ends_at + timedelta(minutes=1))
    slug = world["program"].slug
    url = f"/saya/{slug}/kelompok/{stage.id}/pilih"
    clients = [participant_client(app, session, r) for r in (hall, other)]

    answers = [c.post(url, data={"group_id": str(groups["living"].id)}) for c in clients]

    ended = "Tahap ini sudah selesai: kelompok tidak dapat diubah lagi."
    assert [a.status_code for a in answers] == [422, 422]
    assert all(ended in a.text for a in answers)
    assert _members(session, stage.id) == {d: ({"Hall 0"} if d == "economy" else set()) for d in DIMENSIONS}
    page = clients[1].get(f"/saya/{slug}/kelompok/{stage.id}")
    assert 'data-testid="choice-ended"' in page.text and ended in page.text
    assert "/pilih" not in page.text and 'data-testid="join-' not in page.text

    organiser = staff_client(app, world["organiser"])
    moved = organiser.post(
        f"/admin/stages/{stage.id}/kelompok/anggota",
        data={f"r{hall.id}": str(groups["living"].id), f"r{other.id}": str(groups["living"].id)},
    )
    assert moved.status_code == 302
    assert _members(session, stage.id)["living"] == {"Hall 0", "Hall 1"}


def test_the_participant_page_shows_the_group_and_the_breakout_link_to_online_participants(
    app, session, world
):
    stage = world["stage"]
    groups = _set_up(session, stage)
    economy = groups["economy"]
    hall, online = world["hall"][0], world["online"]
    services.assign(session, stage, {hall.id: economy.id, online.id: economy.id}, actor=None)
    services.update_group(
        session, economy, leader_id=hall.id, meeting_url="https://zoom.us/j/777", actor=None
    )
    session.commit()
    slug = world["program"].slug

    online_page = participant_client(app, session, online).get(f"/saya/{slug}")
    hall_page = participant_client(app, session, hall).get(f"/saya/{slug}")

    for page in (online_page, hall_page):
        assert "Kelompok Anda:</strong> Smart economy" in page.text
        assert "ketua: Hall 0" in page.text
    assert "https://zoom.us/j/777" in online_page.text
    assert "https://zoom.us/j/777" not in hall_page.text


def test_a_participant_outside_any_group_sees_the_way_to_the_groups_of_that_stage_only(app, session, world):
    stage, other = world["program"].stages
    groups = _set_up(session, stage)
    services.assign(session, stage, {world["hall"][0].id: groups["economy"].id}, actor=None)
    session.commit()

    page = participant_client(app, session, world["kominfo"][0]).get(f"/saya/{world['program'].slug}").text

    assert "Kerja kelompok: lihat kelompok" in page
    assert f'data-testid="group-card-{stage.position}"' in page
    assert f'data-testid="group-card-{other.position}"' not in page
    assert "Kelompok Anda" not in page


def test_the_participant_page_asks_the_database_the_same_few_times_in_a_group_or_not(app, session, world):
    """One statement for the programme's groups and the participant's own (and one more to load
    that group), whatever the number of stages: the page is the busiest of the app."""
    stage = world["stage"]
    groups = _set_up(session, stage)
    member, outsider = world["hall"][0], world["kominfo"][0]
    services.assign(session, stage, {member.id: groups["economy"].id}, actor=None)
    services.update_group(session, groups["economy"], leader_id=member.id, meeting_url="", actor=None)
    session.commit()
    slug = world["program"].slug
    counted: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        counted.append(statement.split()[0])

    def statements_of(client) -> list[str]:
        client.get(f"/saya/{slug}")  # the programme's schedule is prepared on the first view
        counted.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(f"/saya/{slug}").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return [statement for statement in counted if statement != "BEGIN"]

    outside = statements_of(participant_client(app, session, outsider))
    inside = statements_of(participant_client(app, session, member))

    # the user, the registration with its modes (and whether it has notices: none here), the groups
    # (the programme has group work; whether it has a questionnaire, assignments or certificates is
    # kept: programs/facts.py); and the member's group with its leader
    assert len(outside) == 3, outside
    assert len(inside) == 4, inside


@pytest.fixture
def editing(app, session, world):
    stage = world["stage"]
    groups = _set_up(session, stage)
    economy = groups["economy"]
    hall, online = world["hall"][0], world["online"]
    services.assign(session, stage, {hall.id: economy.id, online.id: economy.id}, actor=None)
    session.commit()
    url = f"/saya/{world['program'].slug}/kelompok/{stage.id}/hasil"
    return {
        "group": economy,
        "hall": participant_client(app, session, hall),
        "online": participant_client(app, session, online),
        "outsider": participant_client(app, session, world["kominfo"][0]),
        "url": url,
    }


def _output(session, group_id, field):
    session.expire_all()
    return session.get(GroupOutput, (group_id, field))


def test_a_member_saves_a_field_and_the_group_and_projector_hear_it(app, session, world, editing):
    group, stage = editing["group"], world["stage"]
    members = socketio.test_client(app, flask_test_client=editing["online"])
    outsider = socketio.test_client(app, flask_test_client=editing["outsider"])
    projector = socketio.test_client(
        app, flask_test_client=staff_client(app, factories.staff(session, Role.NARASUMBER))
    )
    session.commit()
    for socket in (members, outsider, projector):
        assert socket.emit("join_stage", {"stage_id": stage.id}, callback=True)["ok"] is True
        socket.get_received()

    response = editing["hall"].post(
        editing["url"], json={"field": "problems", "text": "Data belum terpadu", "version": 0}
    )

    assert response.status_code == 200
    assert response.json == {
        "ok": True,
        "field": "problems",
        "text": "Data belum terpadu",
        "version": 1,
        "by": "Hall 0",
    }
    row = _output(session, group.id, "problems")
    assert (row.text, row.version, row.updated_by_id) == ("Data belum terpadu", 1, world["hall"][0].id)
    expected = {
        "stage_id": stage.id,
        "group_id": group.id,
        "field": "problems",
        "text": "Data belum terpadu",
        "version": 1,
        "by": "Hall 0",
    }
    assert [m["args"][0] for m in members.get_received() if m["name"] == "group_output"] == [expected]
    assert [m["args"][0] for m in projector.get_received() if m["name"] == "group_output"] == [expected]
    assert [m for m in outsider.get_received() if m["name"] == "group_output"] == []


def test_a_save_from_an_old_version_is_refused_and_says_who_changed_it(session, world, editing):
    group = editing["group"]
    first = editing["hall"].post(
        editing["url"], json={"field": "quick_wins", "text": "Satu data", "version": 0}
    )
    late = editing["online"].post(
        editing["url"], json={"field": "quick_wins", "text": "Portal desa", "version": 0}
    )

    assert first.status_code == 200
    assert late.status_code == 409
    assert late.json["error"] == "changed"
    assert "Hall 0 mengubah kolom ini sementara itu" in late.json["message"]
    assert late.json["current"] == {"text": "Satu data", "version": 1, "by": "Hall 0"}
    row = _output(session, group.id, "quick_wins")
    assert (row.text, row.version) == ("Satu data", 1)
    again = editing["online"].post(
        editing["url"], json={"field": "quick_wins", "text": "Satu data\nPortal desa", "version": 1}
    )
    assert again.status_code == 200 and again.json["version"] == 2


@pytest.mark.parametrize(
    "body",
    [
        {"field": "anggaran", "text": "x", "version": 0},
        {"field": "problems", "text": 5, "version": 0},
        {"field": "problems", "text": "x", "version": "0"},
        {"field": "problems", "text": "x" * 4001, "version": 0},
        {"field": "problems", "text": "x", "version": -1},
        ["problems"],
    ],
)
def test_a_bad_save_is_refused_and_changes_nothing(session, editing, body):
    response = editing["hall"].post(editing["url"], json=body)
    assert response.status_code == 422
    assert response.json["ok"] is False and response.json["message"]
    assert _output(session, editing["group"].id, "problems").version == 0


def test_a_non_member_cannot_write_into_a_group(session, editing):
    response = editing["outsider"].post(editing["url"], json={"field": "problems", "text": "x", "version": 0})
    assert response.status_code == 403
    assert "Hanya anggota kelompok ini" in response.json["message"]
    assert _output(session, editing["group"].id, "problems").version == 0


def test_the_form_without_script_saves_and_keeps_the_text_on_a_conflict(session, editing):
    saved = editing["hall"].post(
        editing["url"], data={"field": "programmes", "text": "Smart village", "version": "0"}
    )
    conflict = editing["online"].post(
        editing["url"], data={"field": "programmes", "text": "Aplikasi desa", "version": "0"}
    )
    assert saved.status_code == 302
    assert conflict.status_code == 409
    assert "Aplikasi desa" in conflict.text and "Smart village" in conflict.text
    assert _output(session, editing["group"].id, "programmes").text == "Smart village"


def test_a_save_from_the_page_of_a_group_one_was_moved_out_of_is_refused_and_lands_nowhere(
    session, world, editing
):
    """The page still shows the old group (it loaded before the move): its save goes into no group,
    however the versions match, and the writer keeps the text."""
    stage, economy, online = world["stage"], editing["group"], world["online"]
    living = next(group for group in services.groups_of(session, stage.id) if group.dimension == "living")
    services.assign(session, stage, {online.id: living.id}, actor=None)
    session.commit()

    response = editing["online"].post(
        editing["url"],
        json={"field": "problems", "text": "Teks kelompok lama", "version": 0, "group_id": economy.id},
    )
    form = editing["online"].post(
        editing["url"],
        data={"field": "problems", "text": "Teks kelompok lama", "version": "0", "group_id": str(economy.id)},
    )

    assert response.status_code == 409
    assert response.json == {
        "ok": False,
        "error": "moved",
        "message": "Anda dipindahkan ke kelompok lain sementara itu: teks Anda tidak tersimpan. "
        "Salin teks itu, lalu muat ulang halaman.",
    }
    assert form.status_code == 409
    assert (
        "Anda dipindahkan ke kelompok lain sementara itu" in form.text and "Teks kelompok lama" in form.text
    )
    for group in (economy, living):
        assert _output(session, group.id, "problems").version == 0
    # From the new group's page, it saves there.
    saved = editing["online"].post(
        editing["url"], json={"field": "problems", "text": "Teks baru", "version": 0, "group_id": living.id}
    )
    assert saved.status_code == 200 and _output(session, living.id, "problems").text == "Teks baru"
    bad = editing["online"].post(
        editing["url"], json={"field": "problems", "text": "x", "version": 1, "group_id": str(living.id)}
    )
    assert bad.status_code == 422


def test_the_presentation_and_the_exports_show_each_group(app, session, world, editing):
    editing["hall"].post(
        editing["url"], json={"field": "problems", "text": "Data; belum =terpadu", "version": 0}
    )
    stage = world["stage"]
    organiser = staff_client(app, world["organiser"])

    presentation = organiser.get(f"/admin/stages/{stage.id}/kelompok/presentasi")
    state = organiser.get(f"/admin/stages/{stage.id}/kelompok/state").json
    csv_file = organiser.get(f"/admin/stages/{stage.id}/kelompok/hasil.csv")
    xlsx_file = organiser.get(f"/admin/stages/{stage.id}/kelompok/hasil.xlsx")

    assert "Presentasi kelompok" in presentation.text and "Data; belum =terpadu" in presentation.text
    assert state["version"] == 1
    assert state["groups"][str(editing["group"].id)]["problems"]["text"] == "Data; belum =terpadu"
    rows = list(csv.reader(io.StringIO(csv_file.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Kelompok", "Ketua", "Anggota", "Masalah", "Quick win", "Program usulan"]
    economy = next(row for row in rows if row[0] == "Smart economy")
    assert economy[2] == "Hall 0, Kepala Desa Hutabarat"
    assert economy[3] == "Data; belum =terpadu"
    sheet = load_workbook(io.BytesIO(xlsx_file.data)).worksheets[0]
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert [
        "Smart economy",
        None,
        "Hall 0, Kepala Desa Hutabarat",
        "Data; belum =terpadu",
        None,
        None,
    ] in cells
    assert (
        session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "groups.export")
        )
        == 2
    )


def test_the_laporan_has_the_group_work_results_of_the_stage(app, session, world, editing):
    from tests.test_laporan import _docx, _headings, _tables

    editing["hall"].post(editing["url"], json={"field": "quick_wins", "text": "Satu peta data", "version": 0})
    organiser = staff_client(app, world["organiser"])
    document, _response = _docx(organiser, world["program"])

    assert any(heading.endswith(". Hasil kerja kelompok") for heading in _headings(document))
    table = next(t for t in _tables(document) if t[0][0] == "Kelompok")
    assert table[0] == ["Kelompok", "Ketua", "Anggota", "Masalah", "Quick win", "Program usulan"]
    assert ["Smart economy", "", "Hall 0, Kepala Desa Hutabarat", "", "Satu peta data", ""] in table
