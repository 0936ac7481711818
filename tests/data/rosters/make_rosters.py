"""Writes the roster files of this folder, shaped like the ones kecamatan and OPD offices send.

    .venv/bin/python tests/data/rosters/make_rosters.py

The files are committed; tests/test_roster_files.py imports them. People's names are made up; the
villages and sub-districts are the regency's real ones (workshop/data/tapanuli-utara-villages.csv),
including names that two sub-districts share (Sibalanga, Sibaganding, Hutauruk, Purbatua).
"""

from __future__ import annotations

import codecs
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Border, Font, Side

HERE = Path(__file__).resolve().parent
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def _table(sheet, first_row: int, rows: list[list]) -> None:
    for offset, row in enumerate(rows):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=first_row + offset, column=column, value=value)
            cell.border = BOX


def kecamatan_garoga() -> None:
    """The kecamatan office's list of its village heads: a merged title, "No.", "No. HP/WA", a row
    of column numbers, phones typed as numbers (the leading 0 lost), trailing spaces, village
    names in capitals (two of them also exist in other kecamatan), an empty numbered row, a
    totals row and the camat's signature block below the table."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Kades Garoga"
    sheet["A1"] = "DAFTAR NAMA KEPALA DESA SE-KECAMATAN GAROGA"
    sheet["A2"] = "PESERTA BIMTEK PENYUSUNAN MASTERPLAN SMART CITY TAHUN 2021"
    for row in (1, 2):
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=7)
        sheet.cell(row=row, column=1).font = Font(bold=True, size=12)
        sheet.cell(row=row, column=1).alignment = Alignment(horizontal="center")
    header = ["No.", "Nama", "Jabatan", "Desa/Kelurahan", "Kecamatan", "No. HP/WA", "Keikutsertaan"]
    _table(sheet, 4, [header, ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)"]])
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    people = [
        [1, "Parulian Simanjuntak, S.Sos ", "Camat", None, "Garoga", 81260001001, "Daring"],
        [2, "Marulam Sihombing", "Kepala Desa", "SIBAGANDING", "GAROGA", 81260001002, "daring "],
        [3, "Tiurma br. Simatupang ", "Kepala Desa", "PADANG SIANDOMANG", "GAROGA", 81260001003, "Daring"],
        [4, "Hotben Lumbantobing", "Kepala Desa", "SIBALANGA ", "GAROGA", 81260001004, "Daring"],
        [5, "Jamaluddin Situmeang", "Kepala Desa", "AEK TANGGA", "GAROGA", 81260001005, "Daring"],
        [6, "Rosmaida Panjaitan", "Kepala Desa", "SIMPANG BOLON", "GAROGA", 81260001006, "Luring"],
        [7, "Sahat Pasaribu", "Pj. Kepala Desa", "GAROGA SIBARGOT", "GAROGA", 6281260001007, "Daring"],
        [8, "Lambok Sinaga", "Kepala Desa", "GONTING GAROGA", "GAROGA", "0812-6000-1008", "Daring"],
        [9, "Darwin Hutasoit", "Kepala Desa", "PARSOSORAN", "GAROGA", 81260001009, "Daring"],
        [10, None, None, None, None, None, None],
    ]
    _table(sheet, 6, people)
    for row in range(6, 6 + len(people)):
        sheet.cell(row=row, column=6).number_format = "0"
    totals = 6 + len(people)
    sheet.cell(row=totals, column=1, value="JUMLAH")
    sheet.merge_cells(start_row=totals, start_column=1, end_row=totals, end_column=5)
    sheet.cell(row=totals, column=6, value="9 orang")
    signature = totals + 2
    for offset, text in enumerate(
        [
            "Garoga, 10 Juni 2021",
            "CAMAT GAROGA",
            None,
            None,
            "PARULIAN SIMANJUNTAK, S.Sos",
            "NIP. 19700101 199003 1 009",
        ]
    ):
        sheet.cell(row=signature + offset, column=7, value=text)
    for letter, width in zip("ABCDEFG", (5, 30, 18, 22, 14, 16, 14), strict=True):
        sheet.column_dimensions[letter].width = width
    workbook.save(HERE / "kecamatan-garoga-kades.xlsx")


def kecamatan_tarutung() -> None:
    """A sub-district's list in capitals with other header spellings ("NAMA LENGKAP", "INSTANSI /
    UNIT KERJA", "NOMOR WA", "MODE TAHAP I"), a village name that Sipoholon has too (Hutauruk),
    numbers written every way (with dashes, +62, 62 as a number, two numbers in one cell) and a
    blank row in the middle."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    sheet["A1"] = "Peserta Bimtek Smart City dari Kecamatan Tarutung"
    sheet.merge_cells("A1:I1")
    header = [
        "NO",
        "NAMA LENGKAP",
        "JABATAN",
        "INSTANSI / UNIT KERJA",
        "KECAMATAN",
        "NOMOR WA",
        "EMAIL",
        "MODE TAHAP I",
        "MODE TAHAP II",
    ]
    rows = [
        header,
        [
            1,
            "HOTMAN SIMANJUNTAK",
            "CAMAT",
            "KANTOR CAMAT TARUTUNG",
            "TARUTUNG",
            "0812-6100-2001",
            "camat.tarutung@contoh.go.id",
            "LURING",
            "DARING",
        ],
        [
            2,
            "BONAR HUTAURUK",
            "KEPALA DESA",
            "DESA HUTAURUK",
            "TARUTUNG",
            "+62 812 6100 2002",
            None,
            "luring",
            "daring",
        ],
        [
            3,
            "SONDANG SITOMPUL",
            "LURAH",
            "KELURAHAN HUTATORUAN I",
            "TARUTUNG",
            6281261002003,
            None,
            "luring",
            "luring",
        ],
        [None, None, None, None, None, None, None, None, None],
        [
            4,
            "RUDOLF SITUMORANG ",
            "KEPALA DESA",
            "DESA SITAMPURUNG",
            "TARUTUNG",
            "0812 6100 2004 / 0813 7000 2004",
            "",
            "DARING",
            "DARING",
        ],
        [
            5,
            "ERIKA HUTABARAT",
            "SEKRETARIS DESA",
            "DESA SIANDOR ANDOR",
            "TARUTUNG",
            81261002005,
            "erika.h@contoh.id ",
            "daring",
            "daring",
        ],
    ]
    _table(sheet, 3, rows)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    workbook.save(HERE / "kecamatan-tarutung.xlsx")


def opd_csv_windows_1252() -> None:
    """Agencies' list saved by Excel with an Indonesian locale as "CSV (Comma delimited)": ";"
    between cells, Windows-1252 (the en dash), a title line, header "No. Telp/HP", "Unit Kerja"
    and "Kehadiran"."""
    lines = [
        "DAFTAR PESERTA DARI OPD;;;;;;",
        "No;Nama;Jabatan;Unit Kerja;No. Telp/HP;E-mail;Kehadiran",
        "1;Rina Simatupang;Kepala Dinas;DINAS KOMUNIKASI DAN INFORMATIKA ;081262003001;rina.s@contoh.go.id;Luring",
        "2;Jonny Hutabarat;Kepala Bidang – Aplikasi Informatika;Dinas Komunikasi dan Informatika;0812 6200 3002;;luring",
        "3;Melva Sianturi;Sekretaris;Bappelitbangda;+6281262003003;melva@contoh.go.id;Tatap muka",
        "4;Poltak Nababan;Kepala Seksi;Dinas PUPR;0812-6200-3004;;Online",
        ";;;;;;",
        "Jumlah;4 orang;;;;;",
    ]
    (HERE / "opd-excel-ansi.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def villages_csv_utf8_bom() -> None:
    """A list typed in Google Sheets and downloaded as CSV with ";" and a UTF-8 BOM: "Nama
    Peserta", "Desa", "Kecamatan", "Kode Desa" (BPS, given for one row only), "Nomor WhatsApp",
    no mode column at all; villages of the same name in two kecamatan (Sibalanga, Purbatua,
    Sibaganding, Hutauruk)."""
    lines = [
        "Nama Peserta;Jabatan;Desa;Kecamatan;Kode Desa;Nomor WhatsApp",
        "Benget Sitorus;Kepala Desa;Sibalanga;Adiankoting;;081263004001",
        "Lasma Simanungkalit;Kepala Desa;Purbatua;Kec. Purbatua;;081263004002",
        "Gomgom Hutapea;Kepala Desa;Purbatua;Pangaribuan;;081263004003",
        "Ronald Aritonang;Kepala Desa;Sibaganding;Pahae Julu;;081263004004",
        "Ucok Nainggolan;Kepala Desa;Hutauruk;;1205050004;081263004005",
        "Debora Manalu;Kepala Desa;Simanampang;Siatas Barita;;081263004006",
    ]
    (HERE / "desa-utf8-bom.csv").write_bytes(codecs.BOM_UTF8 + ("\n".join(lines) + "\n").encode("utf-8"))


if __name__ == "__main__":
    kecamatan_garoga()
    kecamatan_tarutung()
    opd_csv_windows_1252()
    villages_csv_utf8_bom()
