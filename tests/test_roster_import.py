"""Roster import from XLSX and CSV: upload, preview with every row's problems, confirm."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile

import openpyxl
import openpyxl.xml
import pytest
from sqlalchemy import func, select

from tests import factories
from workshop.auth.models import AuditEntry, Role
from workshop.programs import organization_index
from workshop.programs.models import Organization, OrgKind
from workshop.registration import services
from workshop.registration.models import ImportStatus, Mode, Person, Registration, RosterImport, Status
from workshop.registration.roster import checks, columns, files, previews

HEADER = ["nama", "jabatan", "instansi", "kode_instansi", "no_hp", "email", "nip", "mode", "mode_tahap_2"]


@pytest.fixture
def orgs(session):
    """An agency, a sub-district with its code and two villages in it."""
    agency = factories.organization(session, kind=OrgKind.OPD, name="Dinas Komunikasi dan Informatika")
    tarutung = factories.organization(session, kind=OrgKind.KECAMATAN, name="Tarutung")
    tarutung.code = "1205030"
    hutatoruan = factories.organization(session, kind=OrgKind.DESA, name="Hutatoruan I", parent=tarutung)
    hutatoruan.code = "1205030001"
    hutapea = factories.organization(session, kind=OrgKind.DESA, name="Hutapea Banuarea", parent=tarutung)
    session.flush()
    return {"agency": agency, "tarutung": tarutung, "hutatoruan": hutatoruan, "hutapea": hutapea}


@pytest.fixture
def program(session):
    return factories.program(session, stages=2)


@pytest.fixture
def organiser(session, login):
    user = factories.staff(session, Role.PANITIA)
    session.commit()
    return login(user)


def csv_bytes(
    rows: list[list[str]], *, delimiter: str = ",", bom: bool = False, encoding: str = "utf-8"
) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("Catatan").append(["this sheet is not read"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(client, program, filename: str, data: bytes, **headers):
    return client.post(
        f"/admin/programs/{program.id}/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        headers=headers,
    )


def uploaded(client, program, filename: str, data: bytes) -> RosterImport:
    response = upload(client, program, filename, data)
    assert response.status_code == 303, response.get_data(as_text=True)
    record = RosterImport.query.order_by(RosterImport.id.desc()).first()
    assert response.headers["Location"] == f"/admin/imports/{record.id}"
    return record


def confirm(client, record: RosterImport, *, skip: bool = False):
    return client.post(f"/admin/imports/{record.id}/confirm", data={"skip_bad_rows": "1"} if skip else {})


def problems_by_row(record: RosterImport) -> dict[int, list[str]]:
    return {row["row"]: [p["code"] for p in row["problems"]] for row in previews.payload(record)["rows"]}


def english(client) -> None:
    """Switch the UI to English for the following requests."""
    client.post("/language/en")


def preview_rows(page: str) -> dict[int, tuple[str, list[str]]]:
    """Row number -> (row class, problem messages) as the preview page shows them."""
    rows = {}
    for css, number, body in re.findall(
        r'<tr class="([^"]+)" data-testid="row-(\d+)">(.*?)</tr>', page, re.S
    ):
        messages = [html.unescape(m) for m in re.findall(r'<li data-code="[a-z_]+">(.*?)</li>', body, re.S)]
        rows[int(number)] = (css, messages)
    return rows


def people(session) -> list[tuple]:
    """(name, position, organisation, phone, email, nip, source, status, modes by stage position)."""
    result = []
    for registration in session.scalars(select(Registration).order_by(Registration.id)):
        person = registration.person
        result.append(
            (
                person.name,
                person.position,
                person.organization.name,
                person.phone,
                person.email,
                person.nip,
                registration.source,
                registration.status,
                {choice.stage.position: choice.mode for choice in registration.stage_modes},
            )
        )
    return result


def audit_actions(session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# Importing


def test_valid_csv_imports_every_row_with_e164_phones_and_modes_per_stage(
    client, session, orgs, program, organiser
):
    data = csv_bytes(
        [
            HEADER,
            [
                "Rina  Simatupang",
                "Kepala Dinas",
                "dinas komunikasi dan informatika",
                "",
                "0812-3456-7801",
                "Rina@Contoh.go.id",
                "",
                "luring",
                "",
            ],
            [
                "Jonny Hutabarat",
                "Kepala Desa",
                "Desa Hutatoruan I",
                "",
                "081234567802",
                "",
                "",
                "Daring",
                "luring",
            ],
            [
                "Tio Sihombing",
                "Camat",
                "",
                "1205030",
                "+62 812 3456 7803",
                "",
                "19800101 200501 1 001",
                "online",
                "",
            ],
            [
                "Maria Lumbantobing",
                "Kepala Desa",
                "Hutapea Banuarea, Kec. Tarutung",
                "",
                "6281234567804",
                "",
                "",
                "daring",
                "",
            ],
        ]
    )
    record = uploaded(client, program, "peserta.csv", data)

    assert record.status == ImportStatus.PREVIEWED
    assert record.filename == "peserta.csv"
    assert record.uploaded_by_id == organiser.id
    assert problems_by_row(record) == {2: [], 3: [], 4: [], 5: []}
    assert session.scalar(select(func.count()).select_from(Registration)) == 0  # preview imports nothing

    response = confirm(client, record)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/programs/{program.id}/registrations"

    assert people(session) == [
        (
            "Rina Simatupang",
            "Kepala Dinas",
            "Dinas Komunikasi dan Informatika",
            "+6281234567801",
            "rina@contoh.go.id",
            "",
            "import",
            Status.PENDING,
            {1: Mode.LURING, 2: Mode.LURING},
        ),
        (
            "Jonny Hutabarat",
            "Kepala Desa",
            "Hutatoruan I",
            "+6281234567802",
            "",
            "",
            "import",
            Status.PENDING,
            {1: Mode.DARING, 2: Mode.LURING},
        ),
        (
            "Tio Sihombing",
            "Camat",
            "Tarutung",
            "+6281234567803",
            "",
            "198001012005011001",
            "import",
            Status.PENDING,
            {1: Mode.DARING, 2: Mode.DARING},
        ),
        (
            "Maria Lumbantobing",
            "Kepala Desa",
            "Hutapea Banuarea",
            "+6281234567804",
            "",
            "",
            "import",
            Status.PENDING,
            {1: Mode.DARING, 2: Mode.DARING},
        ),
    ]
    session.refresh(record)
    assert record.status == ImportStatus.IMPORTED
    assert record.imported_count == 4
    entries = audit_actions(session, "roster.import")
    assert [(e.actor_id, e.subject, e.detail) for e in entries] == [
        (
            organiser.id,
            f"program:{program.id}",
            f"roster_import:{record.id} peserta.csv: 4 imported, 0 skipped",
        )
    ]


def test_valid_xlsx_imports_every_row(client, session, orgs, program, organiser):
    data = xlsx_bytes(
        [
            ["Name", "Position", "Organisation", "WhatsApp", "E-mail", "Mode", "Tahap 1", "Catatan"],
            [
                "Rina Simatupang",
                "Kepala Dinas",
                "Dinas Komunikasi dan Informatika",
                81234567801,
                None,
                "offline",
                None,
                "hadir",
            ],
            [
                "Jonny Hutabarat",
                "Kepala Desa",
                "hutatoruan i, kec. tarutung",
                6281234567802.0,
                "jonny@desa.id",
                "online",
                "luring",
                None,
            ],
        ]
    )
    record = uploaded(client, program, "Daftar Peserta.xlsx", data)
    assert problems_by_row(record) == {2: [], 3: []}
    content = previews.payload(record)
    assert columns.unused_columns(content["header"], content["mapping"]) == ["Catatan"]

    confirm(client, record)

    assert people(session) == [
        (
            "Rina Simatupang",
            "Kepala Dinas",
            "Dinas Komunikasi dan Informatika",
            "+6281234567801",
            "",
            "",
            "import",
            Status.PENDING,
            {1: Mode.LURING, 2: Mode.LURING},
        ),
        (
            "Jonny Hutabarat",
            "Kepala Desa",
            "Hutatoruan I",
            "+6281234567802",
            "jonny@desa.id",
            "",
            "import",
            Status.PENDING,
            {1: Mode.LURING, 2: Mode.DARING},
        ),
    ]


def bad_file(session, program) -> bytes:
    existing = factories.registration(session, program)  # already registered for this programme
    session.commit()
    return csv_bytes(
        [
            HEADER,
            [
                "Rina Simatupang",
                "Kepala Dinas",
                "Dinas Komunikasi dan Informatika",
                "",
                "081234567801",
                "",
                "",
                "luring",
                "",
            ],
            ["", "Kepala Desa", "Desa Hutatoruan I", "", "081234567802", "", "", "daring", ""],
            ["Tio Sihombing", "Camat", "Kecamatan Tarutung", "", "0812", "", "", "daring", ""],
            ["Ani Pardede", "Staf", "Dinas Antah Berantah", "", "081234567804", "", "", "daring", ""],
            [
                "Rina Kembar",
                "Staf",
                "Dinas Komunikasi dan Informatika",
                "",
                "+62 812-3456-7801",
                "",
                "",
                "daring",
                "",
            ],
            [
                "Sudah Terdaftar",
                "Staf",
                "Dinas Komunikasi dan Informatika",
                "",
                existing.person.phone,
                "",
                "",
                "luring",
                "",
            ],
            ["Tanpa Mode", "Staf", "Dinas Komunikasi dan Informatika", "", "081234567807", "", "", "", ""],
            [
                "Mode Salah",
                "Staf",
                "Dinas Komunikasi dan Informatika",
                "",
                "081234567808",
                "bukan@email",
                "123",
                "hybrid",
                "luring",
            ],
        ]
    )


def test_file_with_bad_rows_imports_nothing_and_names_each_bad_row_and_why(
    client, session, orgs, program, organiser
):
    english(client)
    record = uploaded(client, program, "peserta.csv", bad_file(session, program))
    assert problems_by_row(record) == {
        2: [],
        3: ["missing_name"],
        4: ["bad_phone"],
        5: ["unknown_organization"],
        6: ["duplicate_phone"],
        7: ["already_registered"],
        8: ["missing_mode"],
        9: ["bad_email", "bad_nip", "bad_mode"],
    }

    page = client.get(f"/admin/imports/{record.id}").get_data(as_text=True)
    assert "Rows: 8" in page
    assert "ready to import: 1" in page
    assert "with problems: 7" in page
    assert preview_rows(page) == {
        2: ("roster-good", []),
        3: ("roster-bad", ["The name is empty."]),
        4: ("roster-bad", ["“0812” is not an Indonesian mobile number (e.g. 0812 3456 7890)."]),
        5: (
            "roster-bad",
            [
                "Unknown organisation “Dinas Antah Berantah”: use a name or a code from the sheet “Instansi” "
                "of the template."
            ],
        ),
        6: ("roster-bad", ["The same WhatsApp number as row 2."]),
        7: ("roster-bad", ["This WhatsApp number is already registered for this programme."]),
        8: ("roster-bad", ["No attendance mode for Stage I, Stage II: write luring or daring."]),
        9: (
            "roster-bad",
            [
                "“bukan@email” is not a valid email address.",
                "The NIP “123” must have 18 digits (in Excel, format the NIP column as Text).",
                "“hybrid” is not an attendance mode (Stage I): write luring or daring.",
            ],
        ),
    }

    before = session.scalar(select(func.count()).select_from(Registration))
    response = confirm(client, record)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/imports/{record.id}"
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert (
        "Nothing was imported: 7 rows have problems. Correct the file and upload it again, "
        "or choose to skip the rows with problems." in follow
    )
    assert session.scalar(select(func.count()).select_from(Registration)) == before == 1
    session.refresh(record)
    assert record.status == ImportStatus.PREVIEWED
    assert audit_actions(session, "roster.import") == []


def test_problems_are_shown_in_indonesian_by_default(client, session, orgs, program, organiser):
    record = uploaded(client, program, "peserta.csv", bad_file(session, program))
    page = client.get(f"/admin/imports/{record.id}").get_data(as_text=True)
    assert "Nama kosong." in page
    assert "Nomor WhatsApp ini sudah terdaftar untuk kegiatan ini." in page


def test_skipping_bad_rows_imports_the_rest(client, session, orgs, program, organiser):
    record = uploaded(client, program, "peserta.csv", bad_file(session, program))

    response = confirm(client, record, skip=True)

    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/programs/{program.id}/registrations"
    imported = [row for row in people(session) if row[6] == "import"]
    assert imported == [
        (
            "Rina Simatupang",
            "Kepala Dinas",
            "Dinas Komunikasi dan Informatika",
            "+6281234567801",
            "",
            "",
            "import",
            Status.PENDING,
            {1: Mode.LURING, 2: Mode.LURING},
        ),
    ]
    session.refresh(record)
    assert (record.status, record.imported_count) == (ImportStatus.IMPORTED, 1)
    assert [e.detail for e in audit_actions(session, "roster.import")] == [
        f"roster_import:{record.id} peserta.csv: 1 imported, 7 skipped"
    ]


def test_semicolon_csv_with_bom_and_sep_line_is_read(client, session, orgs, program, organiser):
    data = b"sep=;\r\n" + csv_bytes(
        [
            ["Nama", "Jabatan", "Instansi", "No. HP", "Mode"],
            [
                "Rina Simatupang",
                "Kepala Dinas",
                "Dinas Komunikasi dan Informatika, Kab. Taput",
                "0812 3456 7801",
                "tatap muka",
            ],
            ["Jonny Hutabarat", "Kepala Desa", "Desa Hutatoruan I", "0812 3456 7802", "daring"],
        ],
        delimiter=";",
    )
    record = uploaded(client, program, "peserta.csv", b"\xef\xbb\xbf" + data)
    # The first row names an organisation that does not exist under that spelling.
    assert problems_by_row(record) == {2: ["unknown_organization"], 3: []}
    assert previews.payload(record)["rows"][1]["organization"] == "Hutatoruan I, Kec. Tarutung"


def test_semicolon_csv_from_indonesian_excel_imports(client, session, orgs, program, organiser):
    data = csv_bytes(
        [
            ["nama", "jabatan", "instansi", "no_wa", "mode_tahap_1", "mode_tahap_2"],
            [
                "Rina Simatupang",
                "Kepala Dinas",
                "Dinas Komunikasi dan Informatika",
                "081234567801",
                "luring",
                "daring",
            ],
            ["Jonny Hutabarat", "Kepala Desa", "Hutatoruan I", "081234567802", "daring", "daring"],
        ],
        delimiter=";",
        bom=True,
    )
    record = uploaded(client, program, "peserta.csv", data)
    confirm(client, record)
    assert [(p[0], p[3], p[8]) for p in people(session)] == [
        ("Rina Simatupang", "+6281234567801", {1: Mode.LURING, 2: Mode.DARING}),
        ("Jonny Hutabarat", "+6281234567802", {1: Mode.DARING, 2: Mode.DARING}),
    ]


def test_windows_ansi_csv_is_read(client, session, orgs, program, organiser):
    data = csv_bytes(
        [
            ["nama", "instansi", "no_hp", "mode"],
            ["José Sitompul", "Dinas Komunikasi dan Informatika", "081234567801", "luring"],
        ],
        encoding="cp1252",
    )
    record = uploaded(client, program, "peserta.csv", data)
    assert previews.payload(record)["rows"][0]["name"] == "José Sitompul"


def thousand_rows(villages: list[Organization]) -> bytes:
    rows = [["nama", "jabatan", "instansi", "no_hp", "mode", "mode_tahap_1"]]
    for number in range(1000):
        village = villages[number % len(villages)]
        rows.append(
            [
                f"Peserta {number:04d}",
                "Kepala Desa",
                village.label,
                f"0812{30000000 + number}",
                "daring",
                "luring" if number % 2 else "",
            ]
        )
    return csv_bytes(rows)


def test_a_thousand_row_file_imports(client, session, orgs, program, organiser):
    record = uploaded(client, program, "seribu.csv", thousand_rows([orgs["hutatoruan"], orgs["hutapea"]]))
    assert len(previews.payload(record)["rows"]) == 1000
    assert previews.bad_rows(previews.payload(record)["rows"]) == []

    confirm(client, record)

    assert session.scalar(select(func.count()).select_from(Registration)) == 1000
    assert session.scalar(select(func.count()).select_from(Person)) == 1000
    last = session.scalar(select(Person).where(Person.name == "Peserta 0999"))
    assert (last.phone, last.organization_id) == ("+6281230000999", orgs["hutapea"].id)
    registration = session.scalar(select(Registration).where(Registration.person_id == last.id))
    assert {c.stage.position: c.mode for c in registration.stage_modes} == {1: Mode.LURING, 2: Mode.DARING}
    session.refresh(record)
    assert record.imported_count == 1000


# Template


def test_template_download_opens_with_openpyxl_and_has_the_expected_header(
    client, session, orgs, program, organiser
):
    english(client)
    response = client.get(f"/admin/programs/{program.id}/import/template.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"] == f"attachment; filename=peserta-{program.slug}.xlsx"

    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["Peserta", "Instansi"]
    rows = list(workbook["Peserta"].iter_rows(values_only=True))
    assert list(rows[0]) == [
        "nama",
        "jabatan",
        "instansi",
        "kode_instansi",
        "no_hp",
        "email",
        "nip",
        "mode",
        "mode_tahap_1",
        "mode_tahap_2",
    ]
    assert len(rows) == 3
    assert rows[1][:3] == ("Rina Simanjuntak", "Kepala Bidang", "Dinas Komunikasi dan Informatika")
    assert rows[2][2:5] == ("Hutatoruan I, Kec. Tarutung", "1205030001", "0812-0000-0002")
    assert list(workbook["Instansi"].iter_rows(values_only=True)) == [
        ("kode_instansi", "instansi", "jenis"),
        (None, "Dinas Komunikasi dan Informatika", "Regional agency (OPD)"),
        ("1205030", "Tarutung", "Sub-district (Kecamatan)"),
        (None, "Hutapea Banuarea, Kec. Tarutung", "Village (Desa/Kelurahan)"),
        ("1205030001", "Hutatoruan I, Kec. Tarutung", "Village (Desa/Kelurahan)"),
    ]


def test_the_template_uploaded_unchanged_flags_its_example_rows(client, session, orgs, program, organiser):
    template = client.get(f"/admin/programs/{program.id}/import/template.xlsx").data
    record = uploaded(client, program, "template.xlsx", template)
    assert problems_by_row(record) == {2: ["example_row"], 3: ["example_row"]}


# File-level errors


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("peserta.csv", b"", "The file is empty."),
        ("peserta.csv", b"\r\n ,,\r\n", "The file is empty."),
        (
            "peserta.pdf",
            b"%PDF-1.4",
            "This kind of file cannot be imported: upload an Excel workbook (.xlsx) or a CSV file.",
        ),
        (
            "peserta.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
            "This is an old Excel file (.xls): open it in Excel and save it as .xlsx or .csv.",
        ),
        (
            "peserta.xlsx",
            b"PK\x03\x04 not really a zip",
            "The file could not be read: is it a damaged Excel workbook?",
        ),
        (
            "peserta.xlsx",
            b"nama,no_hp\nRina,0812",
            "The file could not be read: is it a damaged Excel workbook?",
        ),
        ("peserta.csv", b"nama,instansi,no_hp,mode\r\n", "The file has a header row but no participants."),
    ],
)
def test_unusable_files_are_refused_with_a_clear_message(
    client, session, orgs, program, organiser, filename, data, message
):
    english(client)
    response = upload(client, program, filename, data)
    assert response.status_code == 400
    assert [
        html.unescape(m)
        for m in re.findall(r'data-testid="upload-error">(.*?)</p>', response.get_data(as_text=True))
    ] == [message]
    assert session.scalar(select(func.count()).select_from(RosterImport)) == 0


def test_more_than_5000_rows_is_refused(client, session, orgs, program, organiser):
    rows = [["nama", "instansi", "no_hp", "mode"]] + [
        [f"P{n}", "Tarutung", f"0812{30000000 + n}", "daring"] for n in range(5001)
    ]
    english(client)
    response = upload(client, program, "besar.csv", csv_bytes(rows))
    assert response.status_code == 400
    assert "The file has more than 5000 participant rows: split it into several files." in response.get_data(
        as_text=True
    )


def test_exactly_5000_rows_are_accepted(client, session, orgs, program, organiser):
    rows = [["nama", "instansi", "no_hp", "mode"]] + [
        [f"P{n}", "Tarutung", f"0812{30000000 + n}", "daring"] for n in range(5000)
    ]
    record = uploaded(client, program, "besar.csv", csv_bytes(rows))
    assert len(previews.payload(record)["rows"]) == 5000


def test_file_errors_are_answered_in_indonesian_by_default(client, session, orgs, program, organiser):
    response = upload(client, program, "peserta.csv", b"")
    assert response.status_code == 400
    assert "Berkas kosong." in response.get_data(as_text=True)


def test_missing_file_is_reported(client, session, orgs, program, organiser):
    english(client)
    response = client.post(
        f"/admin/programs/{program.id}/import", data={}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert "Choose a file to upload." in response.get_data(as_text=True)


def test_a_file_over_the_limit_is_answered_on_the_upload_page_with_the_limit(
    app, client, session, orgs, program, organiser
):
    app.config["MAX_UPLOAD_BYTES"] = 1000
    english(client)
    response = upload(client, program, "peserta.csv", b"nama,instansi,no_hp,mode\r\n" + b"x" * 2000)
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert errors_on(page) == ["The file is too large: at most 1 KB."]
    assert 'data-testid="upload-limit">Excel workbook (.xlsx) or CSV, at most 1 KB and 5,000 rows.<' in page
    assert 'enctype="multipart/form-data"' in page  # the form, to choose another file
    assert session.scalar(select(func.count()).select_from(RosterImport)) == 0


def test_a_file_far_over_the_limit_is_refused_before_its_body_is_parsed(
    app, client, session, orgs, program, organiser
):
    app.config["MAX_UPLOAD_BYTES"] = 1000
    english(client)
    body = b"x" * 200_000
    response = client.post(
        f"/admin/programs/{program.id}/import",
        data=body,
        content_type="multipart/form-data; boundary=b",
        headers={"Accept": "application/json"},
    )
    assert (response.status_code, response.json) == (
        413,
        {"errors": ["The file is too large: at most 1 KB."]},
    )


def test_the_upload_page_states_the_limit_in_indonesian(app, client, program, organiser):
    page = client.get(f"/admin/programs/{program.id}/import").get_data(as_text=True)
    assert (
        'data-testid="upload-limit">Buku kerja Excel (.xlsx) atau CSV, paling besar 5 MB dan 5.000 baris.<'
        in page
    )


def errors_on(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'data-testid="upload-error">(.*?)</p>', page)]


# The script's JSON answers


def test_script_upload_gets_the_preview_location_as_json(client, session, orgs, program, organiser):
    data = csv_bytes([["nama", "instansi", "no_hp", "mode"], ["Rina", "Tarutung", "081234567801", "daring"]])
    response = upload(client, program, "peserta.csv", data, Accept="application/json")
    record = session.scalar(select(RosterImport))
    assert (response.status_code, response.json) == (200, {"location": f"/admin/imports/{record.id}"})


def test_script_upload_gets_file_errors_as_json(client, session, orgs, program, organiser):
    english(client)
    response = upload(client, program, "peserta.csv", b"", Accept="application/json")
    assert (response.status_code, response.json) == (400, {"errors": ["The file is empty."]})


def test_upload_page_offers_the_template_and_the_progress_script(client, program, organiser):
    page = client.get(f"/admin/programs/{program.id}/import").get_data(as_text=True)
    assert f'href="/admin/programs/{program.id}/import/template.xlsx"' in page
    assert f'src="/static/{client.application.extensions["static_manifest"]["js/roster.js"]}"' in page
    assert "<progress" in page
    assert 'enctype="multipart/form-data"' in page


def test_review_page_links_to_the_import(client, program, organiser):
    english(client)
    page = client.get(f"/admin/programs/{program.id}/registrations").get_data(as_text=True)
    assert f'href="/admin/programs/{program.id}/import"' in page
    assert "Import roster (XLSX/CSV)" in page


# Consistency between preview and import


def test_a_change_since_the_preview_refreshes_it_and_imports_nothing(
    client, session, orgs, program, organiser
):
    english(client)
    data = csv_bytes(
        [
            ["nama", "instansi", "no_hp", "mode"],
            ["Rina", "Tarutung", "081234567801", "daring"],
            ["Jonny", "Tarutung", "081234567802", "daring"],
        ]
    )
    record = uploaded(client, program, "peserta.csv", data)
    services.register(
        session,
        program,
        services.ParticipantDetails(
            name="Rina",
            position="",
            organization_id=orgs["tarutung"].id,
            phone="+6281234567801",
            email="",
            modes={stage.id: Mode.DARING for stage in program.stages},
        ),
    )
    session.commit()

    response = confirm(client, record, skip=True)
    assert response.headers["Location"] == f"/admin/imports/{record.id}"
    assert "the data changed since this preview" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert session.scalar(select(func.count()).select_from(Registration)) == 1
    session.refresh(record)
    assert problems_by_row(record) == {2: ["already_registered"], 3: []}

    confirm(client, record, skip=True)  # now the organiser has seen it
    assert session.scalar(select(func.count()).select_from(Registration)) == 2


def test_confirming_twice_imports_once(client, session, orgs, program, organiser):
    data = csv_bytes([["nama", "instansi", "no_hp", "mode"], ["Rina", "Tarutung", "081234567801", "daring"]])
    english(client)
    record = uploaded(client, program, "peserta.csv", data)
    confirm(client, record)
    response = confirm(client, record)
    assert "This file was already imported." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert session.scalar(select(func.count()).select_from(Registration)) == 1
    assert len(audit_actions(session, "roster.import")) == 1


def test_a_failure_during_the_import_leaves_nothing_imported(
    client, session, orgs, program, organiser, monkeypatch
):
    english(client)
    data = csv_bytes(
        [["nama", "instansi", "no_hp", "mode"]]
        + [[f"P{n}", "Tarutung", f"08123456780{n}", "daring"] for n in range(1, 4)]
    )
    record = uploaded(client, program, "peserta.csv", data)
    real_register = services.register
    calls = []

    def failing_register(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise services.RegistrationError("already_registered", "phone")
        return real_register(*args, **kwargs)

    monkeypatch.setattr(services, "register", failing_register)
    response = confirm(client, record)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing was imported: row 4 failed (the WhatsApp number was registered meanwhile)." in page
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Registration)) == 0
    assert session.scalar(select(func.count()).select_from(Person)) == 0
    assert audit_actions(session, "roster.import") == []
    assert audit_actions(session, "registration.create") == []
    assert session.get(RosterImport, record.id).status == ImportStatus.PREVIEWED


# Permissions


@pytest.mark.parametrize("role", [Role.PETUGAS, Role.NARASUMBER])
def test_non_organisers_get_403(client, session, orgs, program, login, role):
    owner = factories.staff(session, Role.PANITIA)
    record = RosterImport(
        program_id=program.id, uploaded_by_id=owner.id, filename="x.csv", rows=json.dumps({"rows": []})
    )
    session.add(record)
    session.commit()
    login(factories.staff(session, role))
    session.commit()
    data = csv_bytes([["nama", "instansi", "no_hp", "mode"], ["Rina", "Tarutung", "081234567801", "daring"]])
    assert client.get(f"/admin/programs/{program.id}/import").status_code == 403
    assert upload(client, program, "peserta.csv", data).status_code == 403
    assert client.get(f"/admin/imports/{record.id}").status_code == 403
    assert confirm(client, record).status_code == 403
    assert client.get(f"/admin/programs/{program.id}/import/template.xlsx").status_code == 403
    assert session.scalar(select(func.count()).select_from(RosterImport)) == 1


def test_anonymous_users_are_sent_to_the_login(client, program):
    response = client.get(f"/admin/programs/{program.id}/import")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_another_organisers_import_is_404(client, session, orgs, program, login):
    uploader = login(factories.staff(session, Role.PANITIA))
    session.commit()
    data = csv_bytes([["nama", "instansi", "no_hp", "mode"], ["Rina", "Tarutung", "081234567801", "daring"]])
    record = uploaded(client, program, "peserta.csv", data)
    assert record.uploaded_by_id == uploader.id
    client.post("/logout")

    login(factories.staff(session, Role.PANITIA))
    session.commit()
    assert client.get(f"/admin/imports/{record.id}").status_code == 404
    assert confirm(client, record).status_code == 404
    assert client.get(f"/admin/imports/{record.id + 1}").status_code == 404
    assert session.scalar(select(func.count()).select_from(Registration)) == 0

    client.post("/logout")
    login(factories.staff(session, Role.ADMIN))
    session.commit()
    assert client.get(f"/admin/imports/{record.id}").status_code == 200


def test_upload_to_an_unknown_programme_is_404(client, program, organiser):
    assert client.get(f"/admin/programs/{program.id + 1}/import").status_code == 404
    assert client.get(f"/admin/programs/{program.id + 1}/import/template.xlsx").status_code == 404


# Reading and matching, directly


def ref(org: Organization) -> organization_index.OrgRef:
    return organization_index.OrgRef(
        org.id, org.name, org.label, org.kind, org.parent_id, org.parent.name if org.parent else ""
    )


def test_organisation_spellings_people_use_are_matched(session, orgs):
    index = organization_index.OrganizationIndex.load(session)
    hutatoruan, tarutung = ref(orgs["hutatoruan"]), ref(orgs["tarutung"])
    for text in [
        "Hutatoruan I",
        "hutatoruan  i",
        "Hutatoruan I, Kec. Tarutung",
        "Desa Hutatoruan I",
        "Kelurahan Hutatoruan I",
        "Desa Hutatoruan I Kecamatan Tarutung",
        "HUTATORUAN I - KEC. TARUTUNG",
    ]:
        assert index.match("", text) == (hutatoruan, None), text
    assert index.match("1205030001", "") == (hutatoruan, None)
    assert index.match("1205030001", "Dinas Komunikasi dan Informatika") == (hutatoruan, None)  # code first
    assert index.match("9999", "Hutatoruan I") == (hutatoruan, None)  # unknown code: the name decides
    assert index.match("", "Kecamatan Tarutung") == (tarutung, None)
    assert index.match("", "Kec. Tarutung") == (tarutung, None)
    assert index.match("9999", "") == (
        None,
        {"code": "unknown_organization_code", "field": "org_code", "args": {"value": "9999"}},
    )
    assert index.match("", "") == (
        None,
        {"code": "missing_organization", "field": "organization", "args": {}},
    )


def test_a_name_shared_by_two_villages_asks_for_the_sub_district(session, orgs):
    sipoholon = factories.organization(session, kind=OrgKind.KECAMATAN, name="Sipoholon")
    other = ref(factories.organization(session, kind=OrgKind.DESA, name="Hutatoruan I", parent=sipoholon))
    index = organization_index.OrganizationIndex.load(session)
    assert index.match("", "Desa Hutatoruan I") == (
        None,
        {
            "code": "ambiguous_organization",
            "field": "organization",
            "args": {"value": "Desa Hutatoruan I", "example": "Hutatoruan I, Kec. Tarutung"},
        },
    )
    assert index.match("", "Hutatoruan I, Kec. Sipoholon") == (other, None)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("No. HP", "no_hp"),
        ("  NAMA ", "nama"),
        ("Kode Instansi", "kode_instansi"),
        ("Mode Tahap 1", "mode_tahap_1"),
        ("E-mail", "e_mail"),
    ],
)
def test_header_names_are_matched_ignoring_case_spaces_and_punctuation(header, expected):
    assert columns.header_key(header) == expected


def test_stage_columns_accept_numbers_and_roman_numerals():
    assert [
        columns.stage_position(k) for k in ["mode_tahap_1", "tahap_2", "tahap_iv", "stage_3", "tahapan"]
    ] == [
        1,
        2,
        4,
        3,
        None,
    ]


def test_values_longer_than_the_database_allows_are_reported(session, orgs, program):
    rows = [
        {
            "row": 2,
            "raw": {
                "name": "N" * 201,
                "position": "P" * 200,
                "organization": "Tarutung",
                "phone": "081234567801",
                "mode": "daring",
            },
            "raw_stages": {},
        }
    ]
    [row] = checks.check_rows(checks.CheckRules.load(session, program), rows)
    assert row["problems"] == [{"code": "too_long", "field": "name", "args": {"column": "name", "max": 200}}]
    assert (
        checks.problem_message(row["problems"][0]) == "Nama lebih dari 200 karakter."
    )  # default: Indonesian


def test_row_numbers_follow_the_sheet_when_a_title_sits_above_the_header(program):
    data = xlsx_bytes(
        [
            ["Daftar Peserta Bimtek"],
            [],
            ["nama", "instansi", "no_hp", "mode"],
            ["Rina", "X", "0812", "luring"],
            [],
            ["Jonny", "Y", "0813", "daring"],
        ]
    )
    table = files.read_table("peserta.xlsx", data)
    assert (table.header_row, [number for number, _ in table.rows]) == (3, [4, 6])


# Hostile workbooks


def workbook_with(member: str, content: bytes) -> bytes:
    """A real workbook with one member of its zip archive replaced (or added)."""
    source = zipfile.ZipFile(
        io.BytesIO(xlsx_bytes([["nama", "instansi", "no_hp", "mode"], ["Rina", "X", "0812", "daring"]]))
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != member:
                target.writestr(info, source.read(info.filename))
        target.writestr(member, content)
    return out.getvalue()


def test_a_workbook_that_unpacks_to_far_more_than_a_roster_is_refused_before_openpyxl_opens_it(
    client, session, orgs, program, organiser, monkeypatch
):
    bomb = workbook_with(
        "xl/sharedStrings.xml",
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
        + b"A" * (20 * 1024 * 1024)
        + b"</t></si></sst>",
    )
    assert len(bomb) < 100_000  # a tiny file

    def never(*args, **kwargs):
        raise AssertionError("openpyxl opened the workbook")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    english(client)
    response = upload(client, program, "peserta.xlsx", bomb)

    assert response.status_code == 400
    assert errors_on(response.get_data(as_text=True)) == [
        "This workbook unpacks to far more data than a participant list holds: copy the participants "
        "into a new workbook and upload that one."
    ]
    assert session.scalar(select(func.count()).select_from(RosterImport)) == 0


def test_a_workbook_with_xml_entities_is_refused_by_defusedxml(client, session, orgs, program, organiser):
    assert openpyxl.xml.DEFUSEDXML is True, "defusedxml is missing: pip install -r requirements.txt"
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>nama</t></is></c><c r="B1" t="inlineStr"><is><t>no_hp</t></is></c></row>'
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>&c;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    english(client)
    response = upload(client, program, "peserta.xlsx", workbook_with("xl/worksheets/sheet1.xml", laughs))

    assert response.status_code == 400
    assert errors_on(response.get_data(as_text=True)) == [
        "The file could not be read: is it a damaged Excel workbook?"
    ]
