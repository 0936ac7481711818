"""Roster columns: the headers offices write, the organiser's choice of columns on the preview, and
villages told apart by their kecamatan (the regency's real villages, some names in two kecamatan)."""

from __future__ import annotations

import html
import io
import json
import re

import pytest
from sqlalchemy import func, select

from tests import factories
from workshop.auth.models import Role
from workshop.programs import organization_index
from workshop.programs.models import Organization, OrgKind
from workshop.programs.services import import_regions
from workshop.registration.models import ImportStatus, Registration, RosterImport
from workshop.registration.roster import checks, columns, files, previews


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("No. HP/WA", "phone"),
        ("Nomor WA", "phone"),
        ("No WhatsApp", "phone"),
        ("No. Whats App", "phone"),
        ("HP", "phone"),
        ("Telp/HP", "phone"),
        ("No. Telp / HP", "phone"),
        ("Nomor HP (WA) aktif", "phone"),
        ("Kontak", "phone"),
        ("Nama Lengkap", "name"),
        ("NAMA", "name"),
        ("Nama Lengkap dan Gelar", "name"),
        ("Jabatan", "position"),
        ("Instansi/Unit Kerja", "organization"),
        ("Unit Kerja", "organization"),
        ("Asal Instansi", "organization"),
        ("OPD", "organization"),
        ("Desa/Kelurahan", "village"),
        ("Kelurahan", "village"),
        ("Kecamatan", "district"),
        ("Kode Desa", "org_code"),
        ("Kode BPS", "org_code"),
        ("E-mail", "email"),
        ("Alamat Email", "email"),
        ("Surel", "email"),
        ("NIP", "nip"),
        ("Mode", "mode"),
        ("Keikutsertaan", "mode"),
        ("Mode Keikutsertaan", "mode"),
        ("Luring/Daring", "mode"),
        ("Kehadiran", "mode"),
    ],
)
def test_headers_that_offices_write_are_recognised(header, field):
    assert columns.recognise(header)[0] == field


@pytest.mark.parametrize("header", ["No. Telp Kantor", "Keterangan", "Tanda Tangan", "No.", "NIK", "Alamat"])
def test_other_headers_are_not_taken_for_a_field(header):
    assert columns.recognise(header) is None


def test_the_whatsapp_column_wins_over_the_mobile_and_the_desa_code_over_the_kecamatan_code():
    header = [
        "No",
        "Nama",
        "No. HP",
        "No. WA",
        "Kode Kecamatan",
        "Kode Desa",
        "Tahap 1",
        "Tahap 3",
        "Catatan",
    ]
    assert columns.guess_mapping(header, positions=[1, 2]) == [
        "",
        "name",
        "",
        "phone",
        "",
        "org_code",
        "tahap_1",
        "",  # the programme has no third stage
        "",
    ]
    assert columns.unused_columns(header, columns.guess_mapping(header, [1, 2])) == [
        "No. HP",
        "Kode Kecamatan",
        "Tahap 3",
        "Catatan",
    ]


def test_a_row_of_column_numbers_under_the_header_is_not_a_person():
    data = b"Nama;Instansi;No HP;Mode\r\n(1);(2);(3);(4)\r\nRina;Tarutung;0812;daring\r\n"
    table = files.read_table("peserta.csv", data)
    assert (table.header_row, [number for number, _ in table.rows]) == (1, [3])


# The organiser's choice on the preview


@pytest.fixture
def orgs(session):
    tarutung = factories.organization(session, kind=OrgKind.KECAMATAN, name="Tarutung")
    factories.organization(session, kind=OrgKind.DESA, name="Hutatoruan I", parent=tarutung)
    session.commit()


@pytest.fixture
def program(session):
    program = factories.program(session, stages=2)
    session.commit()
    return program


@pytest.fixture
def organiser(session, login):
    user = factories.staff(session, Role.PANITIA)
    session.commit()
    return login(user)


def upload(client, program, data: bytes, filename: str = "peserta.csv") -> RosterImport:
    response = client.post(
        f"/admin/programs/{program.id}/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return RosterImport.query.order_by(RosterImport.id.desc()).first()


def registrations(session) -> list[tuple[str, str]]:
    return [
        (registration.person.name, registration.person.phone)
        for registration in session.scalars(select(Registration).order_by(Registration.id))
    ]


UNGUESSABLE = (
    b"Nama;Instansi;Nomor yang bisa dihubungi;Mode\r\n"
    b"Rina Simatupang;Tarutung;0812 3456 7801;daring\r\n"
    b"Jonny Hutabarat;Hutatoruan I, Kec. Tarutung;0812 3456 7802;luring\r\n"
)


def test_a_file_whose_phone_column_is_not_recognised_waits_for_the_organisers_choice(
    client, session, orgs, program, organiser
):
    client.post("/language/en")
    record = upload(client, program, UNGUESSABLE)
    assert previews.payload(record)["mapping"] == ["name", "organization", "", "mode"]

    page = client.get(f"/admin/imports/{record.id}").get_data(as_text=True)
    missing = " ".join(
        html.unescape(re.search(r'data-testid="columns-missing">(.*?)</div>', page, re.S).group(1)).split()
    )
    assert "No column holds: WhatsApp number." in missing
    assert "Columns in the file: Nama, Instansi, Nomor yang bisa dihubungi, Mode." in missing
    assert '<details class="roster-columns" open' in page

    refused = client.post(f"/admin/imports/{record.id}/confirm")
    flashed = " ".join(html.unescape(client.get(refused.headers["Location"]).get_data(as_text=True)).split())
    assert (
        "Nothing was imported: no column holds WhatsApp number. The file has the columns “Nama”, "
        "“Instansi”, “Nomor yang bisa dihubungi”, “Mode”: choose which one holds what." in flashed
    )
    assert registrations(session) == []

    chosen = client.post(
        f"/admin/imports/{record.id}/columns",
        data={"column-0": "name", "column-1": "organization", "column-2": "phone", "column-3": "mode"},
    )
    assert chosen.status_code == 303
    session.refresh(record)
    assert [row["problems"] for row in previews.payload(record)["rows"]] == [[], []]
    client.post(f"/admin/imports/{record.id}/confirm")
    assert registrations(session) == [
        ("Rina Simatupang", "+6281234567801"),
        ("Jonny Hutabarat", "+6281234567802"),
    ]


def test_a_field_chosen_for_two_columns_is_refused_naming_both(client, session, orgs, program, organiser):
    client.post("/language/en")
    record = upload(client, program, UNGUESSABLE)
    before = record.rows

    response = client.post(
        f"/admin/imports/{record.id}/columns",
        data={"column-0": "name", "column-1": "name", "column-2": "phone", "column-3": "mode"},
    )

    assert response.status_code == 400
    message = re.search(r'data-testid="column-error">(.*?)</p>', response.get_data(as_text=True)).group(1)
    assert html.unescape(message) == "“Name” is chosen for two columns, “Nama” and “Instansi”: choose one."
    session.refresh(record)
    assert record.rows == before


def test_one_mode_chosen_for_every_row_fills_the_rows_without_one(client, session, orgs, program, organiser):
    data = (
        "Nama;Instansi;No. WA;Mode\r\nRina;Tarutung;081234567801;\r\nJonny;Tarutung;081234567802;luring\r\n"
    )
    record = upload(client, program, data.encode())
    assert [[p["code"] for p in row["problems"]] for row in previews.payload(record)["rows"]] == [
        ["missing_mode"],
        [],
    ]

    client.post(
        f"/admin/imports/{record.id}/columns",
        data={
            "column-0": "name",
            "column-1": "organization",
            "column-2": "phone",
            "column-3": "mode",
            "default_mode": "daring",
        },
    )

    session.refresh(record)
    assert [row["modes"] for row in previews.payload(record)["rows"]] == [
        {"1": "daring", "2": "daring"},
        {"1": "luring", "2": "luring"},
    ]


def test_the_columns_of_an_imported_file_cannot_change(client, session, orgs, program, organiser):
    client.post("/language/en")
    record = upload(client, program, b"nama,instansi,no_hp,mode\r\nRina,Tarutung,081234567801,daring\r\n")
    client.post(f"/admin/imports/{record.id}/confirm")

    response = client.post(
        f"/admin/imports/{record.id}/columns",
        data={"column-0": "name", "column-1": "organization", "column-2": "phone", "column-3": "mode"},
    )

    assert response.status_code == 400
    assert "This file was already imported." in response.get_data(as_text=True)


def test_a_preview_stored_before_columns_could_be_chosen_still_imports(
    client, session, orgs, program, organiser
):
    tarutung = session.scalar(select(Organization).where(Organization.name == "Tarutung"))
    rows = [
        {
            "row": 2,
            "raw": {"name": "Rina", "organization": "Tarutung", "phone": "081234567801", "mode": "daring"},
            "raw_stages": {},
            "name": "Rina",
            "position": "",
            "organization_id": tarutung.id,
            "organization": "Tarutung",
            "phone": "+6281234567801",
            "email": "",
            "nip": "",
            "modes": {"1": "daring", "2": "daring"},
            "problems": [],
        }
    ]
    content = {
        "version": 1,
        "header_row": 1,
        "columns": {"name": "nama"},
        "ignored_columns": [],
        "rows": rows,
    }
    record = RosterImport(
        program_id=program.id,
        uploaded_by_id=organiser.id,
        filename="lama.csv",
        rows=json.dumps(content),
        status=ImportStatus.PREVIEWED,
    )
    session.add(record)
    session.commit()

    assert client.get(f"/admin/imports/{record.id}").status_code == 200
    client.post(f"/admin/imports/{record.id}/confirm")

    assert registrations(session) == [("Rina", "+6281234567801")]


def test_two_numbers_in_one_cell_take_the_first(client, session, orgs, program, organiser):
    data = b"nama,instansi,no_hp,mode\r\nRina,Tarutung,0812-3456-7801 / 0813-1111-2222,daring\r\n"
    record = upload(client, program, data)
    [row] = previews.payload(record)["rows"]
    assert (row["phone"], row["problems"]) == ("+6281234567801", [])


# Villages told apart by their kecamatan


@pytest.fixture
def regency(session):
    import_regions(session)
    factories.organization(session, kind=OrgKind.OPD, name="Dinas Komunikasi dan Informatika")
    session.commit()
    return organization_index.OrganizationIndex.load(session)


def label(found) -> str | None:
    org, _problem = found
    return org.label if org is not None else None


def problem(found) -> tuple[str, dict]:
    _org, found_problem = found
    return found_problem["code"], found_problem["args"]


def test_the_kecamatan_column_settles_a_village_name_that_two_kecamatan_share(regency):
    assert label(regency.match("", "", "SIBALANGA", "GAROGA")) == "Sibalanga, Kec. Garoga"
    assert label(regency.match("", "", "Sibalanga", "Kec. Adiankoting")) == "Sibalanga, Kec. Adiankoting"
    assert label(regency.match("", "Desa Hutauruk", "", "Kecamatan Sipoholon")) == "Hutauruk, Kec. Sipoholon"
    assert (
        label(regency.match("", "", "Purbatua", "Purbatua")) == "Purbatua, Kec. Purbatua"
    )  # not the kecamatan
    assert (
        label(regency.match("1205050004", "", "Hutauruk", "")) == "Hutauruk, Kec. Sipoholon"
    )  # the BPS code


def test_only_what_the_file_cannot_settle_is_reported(regency):
    assert problem(regency.match("", "", "Sibalanga", "")) == (
        "ambiguous_organization",
        {"value": "Sibalanga", "example": "Sibalanga, Kec. Adiankoting"},
    )
    assert problem(regency.match("", "", "Sibalanga", "Tarutung")) == (
        "village_not_in_district",
        {
            "value": "Sibalanga",
            "district": "Tarutung",
            "actual": "Sibalanga, Kec. Adiankoting; Sibalanga, Kec. Garoga",
        },
    )
    assert problem(regency.match("", "", "Sibalanga", "Kec. Entah")) == (
        "unknown_district",
        {"value": "Kec. Entah"},
    )
    assert problem(regency.match("", "", "", "Kec. Entah")) == ("unknown_district", {"value": "Kec. Entah"})
    # A unique name needs no kecamatan; an agency is not checked against one.
    assert label(regency.match("", "", "Parsosoran", "Kec. Entah")) == "Parsosoran, Kec. Garoga"
    assert label(regency.match("", "Dinas Komunikasi dan Informatika", "", "Tarutung")) == (
        "Dinas Komunikasi dan Informatika"
    )


def test_a_camat_row_with_only_the_kecamatan_is_the_kecamatan_office(regency):
    assert label(regency.match("", "", "", "Garoga")) == "Garoga"
    assert label(regency.match("", "Kantor Camat Tarutung", "", "")) == "Tarutung"


def test_problems_of_the_kecamatan_read_in_indonesian(regency):
    _org, found = regency.match("", "", "Sibalanga", "Tarutung")
    assert checks.problem_message(found) == (
        "“Sibalanga” tidak ada di Kec. Tarutung, melainkan di: Sibalanga, Kec. Adiankoting; Sibalanga, Kec. Garoga."
    )


def test_nothing_is_stored_for_a_refused_choice(client, session, orgs, program, organiser):
    record = upload(client, program, UNGUESSABLE)
    response = client.post(f"/admin/imports/{record.id}/columns", data={"column-0": "bogus"})
    assert response.status_code == 400
    assert session.scalar(select(func.count()).select_from(RosterImport)) == 1
