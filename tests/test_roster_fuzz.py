"""The roster import (upload, choice of columns, confirm, template) with what a careless or hostile
organiser's browser or script sends (hypothesis, a bounded number of examples): files that are not
spreadsheets, empty or damaged workbooks, CSVs in odd encodings, with BOMs and odd delimiters,
header rows as offices write them, ids no row can have, control bytes, U+202E, very long texts,
fields missing or sent twice. Never a server error: a refused file or choice is the page again
with its error in Indonesian (or a 404), and every table is as it was; a good upload right after
still becomes a preview."""

from __future__ import annotations

import codecs
import io
import itertools
import zipfile
from urllib.parse import quote

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests import factories
from tests.test_evaluation_fuzz import BAD_IDS, NOT_FOUND, snapshot
from tests.test_programme_forms_fuzz import EXAMPLES, MORE_HOSTILE
from tests.test_roster_import import HEADER, csv_bytes, xlsx_bytes
from workshop.auth.models import Role
from workshop.registration.models import ImportStatus, Registration, RosterImport

EMPTY = "Berkas kosong."
WRONG_TYPE = "Jenis berkas ini tidak dapat diimpor: unggah buku kerja Excel (.xlsx) atau berkas CSV."
UNREADABLE = "Berkas tidak dapat dibaca: apakah buku kerja Excel ini rusak?"
OLD_EXCEL = "Ini berkas Excel format lama (.xls)"
NO_ROWS = "Berkas berisi baris judul kolom tetapi tidak ada peserta."
NO_FILE = "Pilih berkas yang akan diunggah."
DOES_NOT_FIT = "Pilihan kolom tidak cocok dengan berkas ini: buka lagi pratinjaunya."
FILE_ERRORS = (EMPTY, WRONG_TYPE, UNREADABLE, OLD_EXCEL, NO_ROWS, NO_FILE)

ROWS = [
    HEADER,
    ["Rina Simatupang", "Kepala Dinas", "Dinas Kominfo", "", "0812-3456-7801", "", "", "luring", ""],
    ["Jonny Hutabarat", "Kepala Desa", "Desa Hutatoruan I", "", "081234567802", "", "", "daring", ""],
]
GOOD_CSV = csv_bytes(ROWS)
PEOPLE = itertools.count(10)


def _fresh_csv() -> bytes:
    """Two participants no earlier example registered (the world lives through every example)."""
    number = next(PEOPLE)
    rows = [HEADER]
    for row, suffix in ((ROWS[1], "1"), (ROWS[2], "2")):
        rows.append([f"{row[0]} {number}", *row[1:4], f"0813{number:06d}{suffix}", *row[5:]])
    return csv_bytes(rows)


def _empty_xlsx() -> bytes:
    import openpyxl

    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    return out.getvalue()


def _zip_of(name: str, body: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, body)
    return out.getvalue()


# Files as they arrive: (name, bytes). Some import (a real roster, in any encoding a spreadsheet
# program writes), the others are refused with a message.
OFFICE_HEADERS = [
    ["DAFTAR PESERTA BIMTEK SMART CITY"],
    [],
    ["No", "Nama Lengkap", "Jabatan", "Unit Kerja / OPD", "No. HP / WA", "Alamat E-mail", "Mode"],
    ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)"],
    ["1", "Drs. Rina Simatupang, M.Si", "Kepala Dinas", "Dinas Kominfo", "0812 3456 7801", "", "Luring"],
]
FILES = [
    ("peserta.csv", b""),
    ("peserta.csv", b"\r\n\r\n   \r\n"),
    ("peserta.csv", codecs.BOM_UTF8),
    ("peserta.csv", codecs.BOM_UTF16_LE),
    ("peserta.csv", codecs.BOM_UTF16_LE + b"n\x00a\x00m"),  # odd length: cut in half a character
    ("peserta.csv", codecs.BOM_UTF16_BE + b"\xd8\x00\x00a"),  # a lone surrogate
    ("peserta.csv", "nama;no_hp\n".encode("utf-16")),
    ("peserta.csv", csv_bytes(ROWS, bom=True)),
    ("peserta.csv", csv_bytes(ROWS, delimiter=";", encoding="cp1252")),
    ("peserta.csv", csv_bytes(ROWS, delimiter="\t", encoding="utf-16")),
    ("peserta.csv", csv_bytes(ROWS, delimiter="|")),
    ("peserta.csv", b"sep=;\n" + csv_bytes(ROWS, delimiter=";")),
    ("peserta.csv", b'"sep=\x00"\n' + GOOD_CSV),
    ("peserta.csv", b"sep=\n"),
    ("peserta.csv", b'"nama,no_hp\n"Rina'),
    ("peserta.csv", b"nama,no_hp\r\n\x00\x00\x00"),
    ("peserta.csv", "nama,no_hp\nRina \u202eSimatupang,0812\x1b34567801\n".encode()),
    ("peserta.csv", b"nama,no_hp\n" + b"x" * 300_000 + b",1\n"),
    ("peserta.csv", b"nama,no_hp\n" + b",".join([b"x"] * 5000) + b"\n"),
    ("peserta.csv", b"\xff\xfe\xfd\x80\x81 nama"),
    ("peserta.csv", csv_bytes([HEADER])),
    ("peserta.csv", csv_bytes(OFFICE_HEADERS)),
    ("peserta.csv", csv_bytes(OFFICE_HEADERS, delimiter=";", encoding="cp1252", bom=False)),
    ("peserta.xlsx", xlsx_bytes(OFFICE_HEADERS)),
    ("peserta.xlsx", xlsx_bytes(ROWS)),
    ("peserta.xlsx", xlsx_bytes([HEADER])),
    ("peserta.xlsx", _empty_xlsx()),
    ("peserta.xlsx", b"PK\x03\x04" + b"\x00" * 200),
    ("peserta.xlsx", _zip_of("hello.txt", b"not a workbook")),
    ("peserta.xlsx", _zip_of("[Content_Types].xml", b"<?xml version='1.0'?><x")),
    ("peserta.xlsx", GOOD_CSV),
    ("peserta.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100),
    ("peserta.xls", b"<table><tr><td>nama</td></tr></table>"),
    ("peserta.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"),
    ("peserta.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50),
    ("peserta", GOOD_CSV),
    (".csv", GOOD_CSV),
    ("peserta.csv.exe", GOOD_CSV),
    ("peserta.CSV", GOOD_CSV),
    ("\u202evsc.exe.csv", GOOD_CSV),
    ("pes\x00erta.csv", GOOD_CSV),
    ("pes\x1b[31merta.csv", GOOD_CSV),
    ("..\\..\\etc\\passwd.csv", GOOD_CSV),
    ("x" * 5000 + ".csv", GOOD_CSV),
    ("peserta.txt", GOOD_CSV),
]


@pytest.fixture
def world(app, session, login):
    program = factories.program(session, title="Bimtek Smart City", stages=2)
    factories.organization(session, name="Dinas Kominfo")
    organiser = factories.staff(session, Role.PANITIA)
    other = factories.staff(session, Role.PANITIA)
    session.commit()
    return {"program": program, "organiser": organiser, "other": other}


@pytest.fixture
def organiser(client, world, login):
    login(world["organiser"])
    return client


def _upload(client, program_id, name: str, data: bytes, **options):
    return client.post(
        f"/admin/programs/{program_id}/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        **options,
    )


def _previews(session) -> list[RosterImport]:
    session.expire_all()
    found = list(session.scalars(select(RosterImport).order_by(RosterImport.id)))
    session.commit()
    return found


def _assert_good_upload_still_works(client, session, program) -> None:
    count = len(_previews(session))
    response = _upload(client, program.id, "peserta.csv", GOOD_CSV)
    assert response.status_code == 303
    assert len(_previews(session)) == count + 1


def _text(response) -> str:
    return response.get_data(as_text=True)


# -- upload ------------------------------------------------------------------------------------


@given(file=st.sampled_from(FILES), as_json=st.booleans())
@example(file=("peserta.csv", codecs.BOM_UTF16_LE + b"n\x00a\x00m"), as_json=False)
@example(file=("pes\x00erta.csv", GOOD_CSV), as_json=False)
@example(file=("x" * 5000 + ".csv", GOOD_CSV), as_json=False)
@EXAMPLES
def test_any_file_is_a_preview_or_refused_in_indonesian_leaving_every_table_as_it_was(
    session, world, organiser, file, as_json
):
    name, data = file
    program = world["program"]
    before = snapshot()
    headers = {"Accept": "application/json"} if as_json else {}
    response = _upload(organiser, program.id, name, data, headers=headers)
    assert response.status_code in (303, 200, 400, 413), response.status_code
    location = response.headers.get("Location") or (response.get_json() or {}).get("location")
    if location:
        [record] = _previews(session)[-1:]
        assert location == f"/admin/imports/{record.id}"
        assert record.status == ImportStatus.PREVIEWED
        assert record.filename and len(record.filename) <= 255
        assert all(ord(char) >= 32 and char not in "\x7f\u202e" for char in record.filename)
        page = organiser.get(location)
        assert page.status_code == 200
        organiser.post(f"/admin/imports/{record.id}/confirm")  # whatever the rows, never a 5xx
        session.rollback()
    else:
        body = response.get_json()["errors"][0] if as_json else _text(response)
        assert any(error in body for error in FILE_ERRORS), body[:3000]
        assert snapshot() == before
    assert session.scalar(select(func.count()).select_from(Registration)) >= 0
    _assert_good_upload_still_works(organiser, session, program)


@given(
    field=st.sampled_from(["file", "other"]),
    value=st.sampled_from([*MORE_HOSTILE, ""]),
    twice=st.booleans(),
)
@EXAMPLES
def test_an_upload_without_a_file_or_with_a_text_for_it_is_refused_in_indonesian(
    session, world, organiser, field, value, twice
):
    program = world["program"]
    before = snapshot()
    data: dict[str, object] = {field: [value, value] if twice else value}
    response = organiser.post(
        f"/admin/programs/{program.id}/import", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert NO_FILE in _text(response)
    assert snapshot() == before
    _assert_good_upload_still_works(organiser, session, program)


def test_two_files_in_one_upload_make_one_preview_of_the_first(session, world, organiser):
    program = world["program"]
    response = organiser.post(
        f"/admin/programs/{program.id}/import",
        data={"file": [(io.BytesIO(GOOD_CSV), "satu.csv"), (io.BytesIO(b"%PDF-1.4"), "dua.pdf")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    assert [record.filename for record in _previews(session)] == ["satu.csv"]


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("pes\x00erta.csv", "peserta.csv"),
        ("\u202evsc.exe.csv", "vsc.exe.csv"),
        ("pes\x1b[31merta.csv", "pes[31merta.csv"),
        ("../../etc/passwd.csv", "passwd.csv"),
    ],
)
def test_the_stored_file_name_keeps_no_control_character(session, world, organiser, name, stored):
    response = _upload(organiser, world["program"].id, name, GOOD_CSV)
    assert response.status_code == 303
    assert [record.filename for record in _previews(session)] == [stored]


def test_a_utf16_file_cut_in_half_a_character_is_read_not_a_server_error(session, world, organiser):
    data = csv_bytes(ROWS, delimiter="\t", encoding="utf-16")[:-1]
    response = _upload(organiser, world["program"].id, "peserta.csv", data)
    assert response.status_code == 303
    [record] = _previews(session)
    assert record.status == ImportStatus.PREVIEWED


# -- ids ---------------------------------------------------------------------------------------


@given(bad_id=st.sampled_from([*BAD_IDS, str(2**70), "9223372036854775807"]), data=st.data())
@EXAMPLES
def test_any_id_no_import_has_is_404_in_indonesian_and_changes_nothing(
    session, world, organiser, bad_id, data
):
    program = world["program"]
    record = _upload(organiser, program.id, "peserta.csv", GOOD_CSV)
    assert record.status_code == 303
    method, path = data.draw(
        st.sampled_from(
            [
                ("get", "/admin/programs/{}/import"),
                ("post", "/admin/programs/{}/import"),
                ("get", "/admin/programs/{}/import/template.xlsx"),
                ("get", "/admin/imports/{}"),
                ("post", "/admin/imports/{}/columns"),
                ("post", "/admin/imports/{}/confirm"),
            ]
        )
    )
    before = snapshot()
    url = path.format(bad_id)
    if method == "post" and path.endswith("/import"):
        response = _upload(organiser, bad_id, "peserta.csv", GOOD_CSV)
    else:
        response = getattr(organiser, method)(url)
    assert response.status_code == 404, (url, response.status_code)
    assert NOT_FOUND in _text(response)
    assert snapshot() == before


def test_another_organisers_import_is_404_and_stays_as_it_was(app, session, world, organiser):
    from tests.test_live import staff_client

    program = world["program"]
    assert _upload(organiser, program.id, "peserta.csv", GOOD_CSV).status_code == 303
    [record] = _previews(session)
    other = staff_client(app, world["other"])
    before = snapshot()
    for method, path in (
        ("get", f"/admin/imports/{record.id}"),
        ("post", f"/admin/imports/{record.id}/columns"),
        ("post", f"/admin/imports/{record.id}/confirm"),
    ):
        response = getattr(other, method)(path, data={"column-0": "name", "skip_bad_rows": "1"})
        assert response.status_code == 404, path
    assert snapshot() == before


# -- the choice of columns and the confirmation -----------------------------------------------

MAPPING_VALUES = [
    *MORE_HOSTILE,
    "",
    "name",
    "phone",
    "mode",
    "tahap_1",
    "tahap_2",
    "tahap_3",
    "tahap_0",
    "tahap_-1",
    f"tahap_{2**70}",
    "organization",
    "__class__",
    "luring",
    "daring",
]


@given(
    field=st.sampled_from(
        [f"column-{index}" for index in range(len(HEADER))]
        + ["column-9", "column-99", f"column-{2**70}", "column--1", "column-", "column-x", "default_mode"]
    ),
    value=st.sampled_from(MAPPING_VALUES),
    twice=st.booleans(),
    drop=st.sampled_from([None, "column-0", f"column-{len(HEADER) - 1}"]),
)
@example(field="column-1", value="name", twice=False, drop=None)
@example(field="column-99", value="name", twice=False, drop=None)
@example(field=f"column-{2**70}", value="", twice=False, drop="column-0")
@example(field="default_mode", value="x" * 50_000, twice=True, drop=None)
@EXAMPLES
def test_any_choice_of_columns_is_saved_or_refused_in_indonesian_and_the_preview_stays_whole(
    session, world, organiser, field, value, twice, drop
):
    program = world["program"]
    assert _upload(organiser, program.id, "peserta.csv", _fresh_csv()).status_code == 303
    [record] = _previews(session)[-1:]
    targets = ["name", "position", "organization", "org_code", "phone", "email", "nip", "mode", "tahap_2"]
    good = {f"column-{index}": target for index, target in enumerate(targets)} | {"default_mode": ""}
    data: dict[str, object] = dict(good)
    data[field] = [good.get(field, ""), value] if twice else value
    if drop:
        data.pop(drop, None)
    before = snapshot()
    response = organiser.post(f"/admin/imports/{record.id}/columns", data=data)
    assert response.status_code in (303, 400), response.status_code
    if response.status_code == 400:
        page = _text(response)
        assert DOES_NOT_FIT in page or "dipilih untuk dua kolom" in page, page[:3000]
        assert snapshot() == before
    assert organiser.get(f"/admin/imports/{record.id}").status_code == 200
    assert organiser.get(f"/admin/imports/{record.id}?show=problems").status_code == 200
    assert organiser.post(f"/admin/imports/{record.id}/columns", data=good).status_code == 303
    confirmed = organiser.post(f"/admin/imports/{record.id}/confirm", data={"skip_bad_rows": "1"})
    assert confirmed.status_code == 303
    session.expire_all()
    assert session.get(RosterImport, record.id).status == ImportStatus.IMPORTED
    session.commit()


@given(value=st.sampled_from([*MORE_HOSTILE, "1", "", "0", "true"]), twice=st.booleans())
@EXAMPLES
def test_any_skip_value_at_confirm_imports_or_refuses_and_a_second_confirm_adds_nobody(
    session, world, organiser, value, twice
):
    program = world["program"]
    assert _upload(organiser, program.id, "peserta.csv", _fresh_csv()).status_code == 303
    [record] = _previews(session)[-1:]
    count = session.scalar(select(func.count()).select_from(Registration))
    session.commit()
    data = {"skip_bad_rows": [value, value] if twice else value}
    before = snapshot()
    response = organiser.post(f"/admin/imports/{record.id}/confirm", data=data)
    if response.status_code == 413:  # a form body past MAX_FORM_MEMORY_SIZE: nothing read
        assert snapshot() == before
        return
    assert response.status_code == 303
    session.expire_all()
    imported = session.scalar(select(func.count()).select_from(Registration)) - count
    session.commit()
    assert imported == (1 if value == "1" else 0)  # Jonny's village is not in the list: a bad row
    if not imported:
        assert snapshot() == before
    before = snapshot()
    again = organiser.post(f"/admin/imports/{record.id}/confirm", data=data)
    assert again.status_code == 303
    assert snapshot() == before
    if imported:
        page = _text(organiser.get(again.headers["Location"]))
        assert "Berkas ini sudah diimpor." in page


@given(show=st.sampled_from([*MORE_HOSTILE, "problems"]))
@EXAMPLES
def test_any_show_parameter_of_the_preview_is_the_page(session, world, organiser, show):
    assert _upload(organiser, world["program"].id, "peserta.csv", GOOD_CSV).status_code == 303
    [record] = _previews(session)[-1:]
    response = organiser.get(f"/admin/imports/{record.id}?show={quote(show)}")
    assert response.status_code == 200
    assert "Rina Simatupang" in _text(response)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "peserta.pdf",
            b"%PDF-1.4",
            "This kind of file cannot be imported: upload an Excel workbook (.xlsx) or a CSV file.",
        ),
        (
            "peserta.xlsx",
            b"PK\x03\x04" + b"\x00" * 200,
            "The file could not be read: is it a damaged Excel workbook?",
        ),
        ("peserta.csv", csv_bytes([HEADER]), "The file has a header row but no participants."),
    ],
)
def test_a_refused_file_is_told_in_english_to_an_english_organiser(
    session, world, organiser, name, data, message
):
    organiser.post("/language/en")
    before = snapshot()
    response = _upload(organiser, world["program"].id, name, data)
    assert response.status_code == 400
    assert message in _text(response)
    assert snapshot() == before
