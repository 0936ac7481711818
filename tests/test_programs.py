import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests import factories
from workshop.auth.models import AuditEntry, Role
from workshop.programs import services as program_services
from workshop.programs.models import Organization, OrgKind, Program, Stage
from workshop.programs.queries import organization_by_label
from workshop.registration.models import Mode


def _organiser(session, login):
    user = login(factories.staff(session, Role.PANITIA))
    session.commit()
    return user


def _stage_form(**overrides):
    data = {
        "title": "Analisis Strategis",
        "starts_at": "2021-06-24T09:00",
        "ends_at": "2021-06-25T16:00",
        "venue_name": "Balai Data, Aula Martua",
        "venue_address": "Kantor Bupati Tapanuli Utara, Tarutung",
        "capacity": "40",
        "meeting_provider": "Zoom",
        "meeting_url": "https://zoom.us/j/81200012",
        "meeting_id": "812 0001 2",
        "meeting_passcode": "taput1",
    }
    data.update(overrides)
    return data


def test_organiser_creates_a_programme_and_a_stage_in_wib(session, client, login):
    _organiser(session, login)

    created = client.post(
        "/admin/programs/new",
        data={
            "title": "Bimtek Penyusunan Masterplan Smart City Kabupaten Tapanuli Utara",
            "slug": "smart-city-taput",
            "organiser": "Dinas Kominfo",
            "timezone": "Asia/Jakarta",
            "registration_open": "y",
        },
    )
    program = session.scalar(select(Program))
    stage_added = client.post(f"/admin/programs/{program.id}/stages/new", data=_stage_form())

    assert created.status_code == 302
    assert stage_added.status_code == 302
    (stage,) = program.stages
    assert (stage.position, stage.number, stage.capacity) == (1, "I", 40)
    assert stage.starts_at == datetime(2021, 6, 24, 2, 0, tzinfo=UTC)
    assert stage.ends_at == datetime(2021, 6, 25, 9, 0, tzinfo=UTC)
    page = client.get(f"/admin/programs/{program.id}").get_data(as_text=True)
    assert "Kamis, 24 Juni 2021, pukul 09.00 WIB s.d. Jumat, 25 Juni 2021, pukul 16.00 WIB" in page


def test_stage_ending_before_it_starts_is_refused_and_nothing_changes(session, client, login):
    _organiser(session, login)
    program = factories.program(session, stages=0)
    session.commit()

    response = client.post(
        f"/admin/programs/{program.id}/stages/new", data=_stage_form(ends_at="2021-06-24T08:00")
    )

    assert response.status_code == 200
    assert "Waktu selesai harus setelah waktu mulai." in response.get_data(as_text=True)
    assert session.scalar(select(Stage)) is None


def test_a_stage_opens_its_hall_check_in_120_minutes_before_each_day_unless_the_organiser_says_otherwise(
    session, client, login
):
    _organiser(session, login)
    program = factories.program(session, stages=0)
    session.commit()
    form = client.get(f"/admin/programs/{program.id}/stages/new").get_data(as_text=True)

    client.post(f"/admin/programs/{program.id}/stages/new", data=_stage_form())
    client.post(
        f"/admin/programs/{program.id}/stages/new", data=_stage_form(check_in_opens_before_minutes="30")
    )

    assert 'name="check_in_opens_before_minutes" type="number" value="120"' in form
    assert [stage.check_in_opens_before_minutes for stage in program.stages] == [120, 30]


def test_a_check_in_opening_beyond_twelve_hours_is_refused_and_nothing_changes(session, client, login):
    _organiser(session, login)
    program = factories.program(session, stages=1)
    session.commit()
    stage = program.stages[0]

    response = client.post(
        f"/admin/stages/{stage.id}/edit", data=_stage_form(check_in_opens_before_minutes="721")
    )

    assert response.status_code == 200
    assert "Antara 0 dan 720 menit." in response.get_data(as_text=True)
    session.refresh(stage)
    assert (stage.check_in_opens_before_minutes, stage.title) == (120, "Tahap ke-1")


def test_the_stage_service_refuses_an_opening_out_of_range(session):
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    details = program_services.StageDetails(
        title=stage.title, starts_at=stage.starts_at, ends_at=stage.ends_at, check_in_opens_before_minutes=-1
    )

    with pytest.raises(program_services.ProgramError) as error:
        program_services.update_stage(session, stage, details, actor=None)

    assert (error.value.code, error.value.field) == (
        "check_in_opening_out_of_range",
        "check_in_opens_before_minutes",
    )


def test_duplicate_short_name_is_refused(session, client, login):
    _organiser(session, login)
    existing = factories.program(session, stages=0, slug="smart-city-taput")
    session.commit()

    response = client.post(
        "/admin/programs/new", data={"title": "Lain", "slug": existing.slug, "timezone": "Asia/Jakarta"}
    )

    assert "Nama singkat ini sudah digunakan oleh kegiatan lain." in response.get_data(as_text=True)
    assert session.scalar(select(Program).where(Program.title == "Lain")) is None


def test_editing_a_stage_keeps_its_times_in_the_programme_zone(session, client, login):
    _organiser(session, login)
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    session.commit()

    form = client.get(f"/admin/stages/{stage.id}/edit").get_data(as_text=True)
    client.post(f"/admin/stages/{stage.id}/edit", data=_stage_form(starts_at="2021-06-24T08:30", capacity=""))

    assert 'value="2021-06-24T09:00"' in form
    session.refresh(stage)
    assert stage.starts_at == datetime(2021, 6, 24, 1, 30, tzinfo=UTC)
    assert stage.capacity is None


def test_stages_can_be_reordered_and_renumber(session, client, login):
    _organiser(session, login)
    program = factories.program(session, stages=3)
    first, second, third = program.stages
    session.commit()

    client.post(f"/admin/stages/{third.id}/move", data={"direction": "up"})
    client.post(f"/admin/stages/{first.id}/move", data={"direction": "up"})  # already first: no change

    session.expire_all()
    assert [stage.id for stage in program.stages] == [first.id, third.id, second.id]
    assert [stage.number for stage in program.stages] == ["I", "II", "III"]
    assert session.scalars(select(AuditEntry.action)).all().count("stage.move") == 1


def test_agenda_items_must_fall_within_their_stage(session, client, login):
    _organiser(session, login)
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    session.commit()

    outside = client.post(
        f"/admin/stages/{stage.id}/agenda", data={"starts_at": "2021-06-23T09:00", "title": "Terlalu awal"}
    )
    inside = client.post(
        f"/admin/stages/{stage.id}/agenda",
        data={"starts_at": "2021-06-24T09:30", "title": "Pembukaan", "speaker": "Bupati"},
    )

    assert outside.status_code == 400
    assert "Waktu harus berada dalam rentang tahap." in outside.get_data(as_text=True)
    assert inside.status_code == 302
    assert [(item.title, item.starts_at) for item in stage.agenda] == [
        ("Pembukaan", datetime(2021, 6, 24, 2, 30, tzinfo=UTC))
    ]


def test_a_stage_added_later_gives_registrations_their_last_mode(session, client, login):
    _organiser(session, login)
    program = factories.program(session, stages=1)
    registration = factories.registration(session, program, mode=Mode.LURING)
    session.commit()

    client.post(
        f"/admin/programs/{program.id}/stages/new",
        data=_stage_form(starts_at="2021-07-15T09:00", ends_at="2021-07-16T16:00"),
    )

    session.expire_all()
    assert [registration.mode_for(stage) for stage in program.stages] == [Mode.LURING, Mode.LURING]


def test_a_desa_needs_a_kecamatan(session, client, login):
    _organiser(session, login)
    district = factories.organization(session, kind=OrgKind.KECAMATAN, name="Siatas Barita")
    session.commit()

    refused = client.post(
        "/admin/organizations/new", data={"kind": "desa", "name": "Simorangkir", "parent_id": 0}
    )
    saved = client.post(
        "/admin/organizations/new", data={"kind": "desa", "name": "Simorangkir", "parent_id": district.id}
    )

    assert "Desa/kelurahan berada di bawah kecamatan: pilih salah satu." in refused.get_data(as_text=True)
    assert saved.status_code == 302
    village = session.scalar(select(Organization).where(Organization.name == "Simorangkir"))
    assert village.label == "Simorangkir, Kec. Siatas Barita"


def test_organisations_are_found_by_the_label_people_see(session):
    tarutung = factories.organization(session, kind=OrgKind.KECAMATAN, name="Tarutung")
    sipoholon = factories.organization(session, kind=OrgKind.KECAMATAN, name="Sipoholon")
    in_tarutung = factories.organization(session, kind=OrgKind.DESA, name="Hutatoruan I", parent=tarutung)
    factories.organization(session, kind=OrgKind.DESA, name="Hutatoruan I", parent=sipoholon)
    agency = factories.organization(session, kind=OrgKind.OPD, name="Dinas Kominfo")

    assert organization_by_label(session, "hutatoruan i,  Kec. TARUTUNG") is in_tarutung
    assert organization_by_label(session, " Dinas   kominfo ") is agency
    assert organization_by_label(session, "Hutatoruan I") is None  # a village needs its kecamatan
    assert organization_by_label(session, "Hutatoruan I, Kec. Pahae Jae") is None


def test_the_organisation_list_is_paged_and_found_by_name_code_or_sub_district(session, client, login):
    login(factories.staff(session, Role.PANITIA))
    tarutung = factories.organization(session, kind=OrgKind.KECAMATAN, name="Tarutung")
    tarutung.code = "12.02.07"
    for number in range(1, 60):
        factories.organization(session, kind=OrgKind.DESA, name=f"Desa {number:02d}", parent=tarutung)
    factories.organization(session, kind=OrgKind.OPD, name="Dinas Kominfo")
    session.commit()

    def listed(**args) -> tuple[str, list[str]]:
        page = client.get("/admin/organizations", query_string=args).get_data(as_text=True)
        count = re.search(r'data-testid="organization-count">([^<]+)<', page).group(1)
        return count, re.findall(r"<tr><td>([^<]+)</td>", page)

    first_count, first = listed()
    _, second = listed(page=2)
    _, beyond = listed(page=9)

    assert first_count == "61 instansi"
    assert len(first) == 50
    assert first[0] == "Dinas Kominfo"  # OPD before kecamatan and desa
    assert second == [f"Desa {number:02d}, Kec. Tarutung" for number in range(49, 60)]
    assert beyond == []
    assert listed(q="tarutung")[0] == "60 instansi"
    assert listed(q="12.02.07")[1] == ["Tarutung"]
    assert listed(q="desa 07")[1] == ["Desa 07, Kec. Tarutung"]
    assert listed(q="desa _7")[1] == []  # % and _ are letters here, not LIKE wildcards
    assert listed(q="%")[1] == []
    assert listed(kind="kecamatan", q="Taru")[1] == ["Tarutung"]
