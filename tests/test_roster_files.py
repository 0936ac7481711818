"""Roster files as offices really send them (tests/data/rosters, written by make_rosters.py there):
every valid row is imported, against the regency's real villages, where some names exist in two
kecamatan."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tests import factories
from workshop.auth.models import Role
from workshop.programs.models import OrgKind
from workshop.programs.services import import_regions
from workshop.registration.models import Registration, RosterImport
from workshop.registration.roster import previews

ROSTERS = Path(__file__).resolve().parent / "data" / "rosters"
AGENCIES = ("Dinas Komunikasi dan Informatika", "Bappelitbangda", "Dinas PUPR")


@pytest.fixture
def regency(session):
    import_regions(session)
    for name in AGENCIES:
        factories.organization(session, kind=OrgKind.OPD, name=name)
    session.commit()


@pytest.fixture
def program(session):
    return factories.program(session, stages=2)


@pytest.fixture
def organiser(session, login):
    user = factories.staff(session, Role.PANITIA)
    session.commit()
    return login(user)


def upload(client, program, name: str) -> RosterImport:
    response = client.post(
        f"/admin/programs/{program.id}/import",
        data={"file": (io.BytesIO((ROSTERS / name).read_bytes()), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return RosterImport.query.order_by(RosterImport.id.desc()).first()


def imported(session) -> list[tuple[str, str, str, str, dict[int, str]]]:
    """(name, position, organisation label, phone, modes by stage position) of every registration."""
    return [
        (
            registration.person.name,
            registration.person.position,
            registration.person.organization.label,
            registration.person.phone,
            {choice.stage.position: choice.mode.value for choice in registration.stage_modes},
        )
        for registration in session.scalars(select(Registration).order_by(Registration.id))
    ]


def confirm_all(client, session, record: RosterImport) -> None:
    response = client.post(f"/admin/imports/{record.id}/confirm")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/programs/{record.program_id}/registrations"
    session.refresh(record)
    assert record.status == "imported"


def both(mode: str) -> dict[int, str]:
    return {1: mode, 2: mode}


def test_kecamatan_excel_with_title_no_column_numbers_as_numbers_and_totals_imports_every_kepala_desa(
    client, session, regency, program, organiser
):
    record = upload(client, program, "kecamatan-garoga-kades.xlsx")
    content = previews.payload(record)
    assert (content["header_row"], content["header"]) == (
        4,
        ["No.", "Nama", "Jabatan", "Desa/Kelurahan", "Kecamatan", "No. HP/WA", "Keikutsertaan"],
    )
    assert content["mapping"] == ["", "name", "position", "village", "district", "phone", "mode"]
    assert [row["row"] for row in content["rows"]] == list(range(6, 15))
    assert previews.bad_rows(content["rows"]) == []
    assert content["left_out"] == [
        {"row": 15, "reason": "not_a_person"},  # "10" and nothing else
        {"row": 16, "reason": "totals"},
        {"row": 18, "reason": "not_a_person"},  # the signature block
        {"row": 19, "reason": "not_a_person"},
        {"row": 22, "reason": "not_a_person"},
        {"row": 23, "reason": "not_a_person"},
    ]
    page = client.get(f"/admin/imports/{record.id}").get_data(as_text=True)
    assert "baris jumlah (baris 16)" in page

    confirm_all(client, session, record)
    assert imported(session) == [
        ("Parulian Simanjuntak, S.Sos", "Camat", "Garoga", "+6281260001001", both("daring")),
        ("Marulam Sihombing", "Kepala Desa", "Sibaganding, Kec. Garoga", "+6281260001002", both("daring")),
        (
            "Tiurma br. Simatupang",
            "Kepala Desa",
            "Padang Siandomang, Kec. Garoga",
            "+6281260001003",
            both("daring"),
        ),
        ("Hotben Lumbantobing", "Kepala Desa", "Sibalanga, Kec. Garoga", "+6281260001004", both("daring")),
        ("Jamaluddin Situmeang", "Kepala Desa", "Aek Tangga, Kec. Garoga", "+6281260001005", both("daring")),
        ("Rosmaida Panjaitan", "Kepala Desa", "Simpang Bolon, Kec. Garoga", "+6281260001006", both("luring")),
        (
            "Sahat Pasaribu",
            "Pj. Kepala Desa",
            "Garoga Sibargot, Kec. Garoga",
            "+6281260001007",
            both("daring"),
        ),
        ("Lambok Sinaga", "Kepala Desa", "Gonting Garoga, Kec. Garoga", "+6281260001008", both("daring")),
        ("Darwin Hutasoit", "Kepala Desa", "Parsosoran, Kec. Garoga", "+6281260001009", both("daring")),
    ]


def test_capitals_other_header_spellings_and_phones_written_every_way_import(
    client, session, regency, program, organiser
):
    record = upload(client, program, "kecamatan-tarutung.xlsx")
    content = previews.payload(record)
    assert content["mapping"] == [
        "",
        "name",
        "position",
        "organization",
        "district",
        "phone",
        "email",
        "tahap_1",
        "tahap_2",
    ]
    assert previews.bad_rows(content["rows"]) == []
    assert content["left_out"] == []  # the blank row is no row at all

    confirm_all(client, session, record)
    assert imported(session) == [
        ("HOTMAN SIMANJUNTAK", "CAMAT", "Tarutung", "+6281261002001", {1: "luring", 2: "daring"}),
        (
            "BONAR HUTAURUK",
            "KEPALA DESA",
            "Hutauruk, Kec. Tarutung",
            "+6281261002002",
            {1: "luring", 2: "daring"},
        ),
        ("SONDANG SITOMPUL", "LURAH", "Hutatoruan I, Kec. Tarutung", "+6281261002003", both("luring")),
        ("RUDOLF SITUMORANG", "KEPALA DESA", "Sitampurung, Kec. Tarutung", "+6281261002004", both("daring")),
        (
            "ERIKA HUTABARAT",
            "SEKRETARIS DESA",
            "Siandor Andor, Kec. Tarutung",
            "+6281261002005",
            both("daring"),
        ),
    ]


def test_semicolon_csv_in_windows_1252_from_an_agency_imports(client, session, regency, program, organiser):
    record = upload(client, program, "opd-excel-ansi.csv")
    content = previews.payload(record)
    assert content["mapping"] == ["", "name", "position", "organization", "phone", "email", "mode"]
    assert previews.bad_rows(content["rows"]) == []
    assert content["left_out"] == [{"row": 8, "reason": "totals"}]

    confirm_all(client, session, record)
    kominfo = "Dinas Komunikasi dan Informatika"
    assert imported(session) == [
        ("Rina Simatupang", "Kepala Dinas", kominfo, "+6281262003001", both("luring")),
        (
            "Jonny Hutabarat",
            "Kepala Bidang – Aplikasi Informatika",
            kominfo,
            "+6281262003002",
            both("luring"),
        ),
        ("Melva Sianturi", "Sekretaris", "Bappelitbangda", "+6281262003003", both("luring")),
        ("Poltak Nababan", "Kepala Seksi", "Dinas PUPR", "+6281262003004", both("daring")),
    ]


def test_csv_without_a_mode_column_imports_after_the_organiser_chooses_one_mode(
    client, session, regency, program, organiser
):
    record = upload(client, program, "desa-utf8-bom.csv")
    content = previews.payload(record)
    assert content["mapping"] == ["name", "position", "village", "district", "org_code", "phone"]
    assert content["rows"] == []  # not checked while a column is missing
    client.post("/language/en")
    page = client.get(f"/admin/imports/{record.id}").get_data(as_text=True)
    missing = html.unescape(re.search(r'data-testid="columns-missing">(.*?)</div>', page, re.S).group(1))
    assert "No column holds: Mode (or choose one mode for every row)." in missing
    assert (
        "Columns in the file: Nama Peserta, Jabatan, Desa, Kecamatan, Kode Desa, Nomor WhatsApp." in missing
    )
    assert 'data-testid="confirm-import"' not in page  # nothing to import yet

    form = {f"column-{index}": target for index, target in enumerate(content["mapping"])}
    response = client.post(f"/admin/imports/{record.id}/columns", data={**form, "default_mode": "daring"})
    assert response.status_code == 303
    session.refresh(record)
    assert previews.bad_rows(previews.payload(record)["rows"]) == []

    confirm_all(client, session, record)
    assert imported(session) == [
        ("Benget Sitorus", "Kepala Desa", "Sibalanga, Kec. Adiankoting", "+6281263004001", both("daring")),
        ("Lasma Simanungkalit", "Kepala Desa", "Purbatua, Kec. Purbatua", "+6281263004002", both("daring")),
        ("Gomgom Hutapea", "Kepala Desa", "Purbatua, Kec. Pangaribuan", "+6281263004003", both("daring")),
        ("Ronald Aritonang", "Kepala Desa", "Sibaganding, Kec. Pahae Julu", "+6281263004004", both("daring")),
        ("Ucok Nainggolan", "Kepala Desa", "Hutauruk, Kec. Sipoholon", "+6281263004005", both("daring")),
        ("Debora Manalu", "Kepala Desa", "Simanampang, Kec. Siatas Barita", "+6281263004006", both("daring")),
    ]
