"""Which column of a roster file holds what.

The headers Indonesian offices write are recognised ("No. HP/WA", "Nomor WA", "Telp/HP", "Nama
Lengkap", "Instansi/Unit Kerja", "Desa/Kelurahan", "Kecamatan", "Keikutsertaan", ...); the
organiser can change the guess, or choose a column nobody could guess, on the preview page.

A mapping is a list with one target per column of the file: a field ("name", "phone", ...), a
stage's mode ("tahap_2"), or "" for a column that is not used.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from workshop import i18n
from workshop.programs.models import ROMAN

FIELDS = (
    "name",
    "position",
    "organization",
    "village",
    "district",
    "org_code",
    "phone",
    "email",
    "nip",
    "mode",
)
ORGANISATION_FIELDS = ("organization", "village", "district", "org_code")

FIELD_LABELS = {
    "name": _l("Name"),
    "position": _l("Position"),
    "organization": _l("Organisation"),
    "village": _l("Village (desa/kelurahan)"),
    "district": _l("Sub-district (kecamatan)"),
    "org_code": _l("Organisation code"),
    "phone": _l("WhatsApp number"),
    "email": _l("Email"),
    "nip": _l("NIP"),
    "mode": _l("Mode"),
}


def _aliases(field: str, priority: int, *keys: str) -> dict[str, tuple[str, int]]:
    return {key: (field, priority) for key in keys}


# Header key (see header_key) -> (field, priority). When two columns hold the same field, the one
# with the higher priority is used: "Kode Desa" before "Kode Kecamatan".
ALIASES: dict[str, tuple[str, int]] = {
    **_aliases("name", 2, "nama", "name", "nama_lengkap", "full_name"),
    **_aliases(
        "name",
        1,
        "nama_peserta",
        "nama_lengkap_peserta",
        "nama_lengkap_dan_gelar",
        "nama_lengkap_beserta_gelar",
        "nama_dan_gelar",
        "nama_gelar",
        "nama_lengkap_gelar",
        "peserta",
        "participant",
        "participant_name",
    ),
    **_aliases("position", 1, "jabatan", "position", "jabatan_peserta", "jabatan_dalam_instansi"),
    **_aliases(
        "organization",
        1,
        "instansi",
        "nama_instansi",
        "asal_instansi",
        "instansi_asal",
        "unit_kerja",
        "instansi_unit_kerja",
        "unit_kerja_instansi",
        "nama_unit_kerja",
        "opd",
        "nama_opd",
        "asal_opd",
        "opd_instansi",
        "instansi_opd",
        "skpd",
        "satuan_kerja",
        "satker",
        "organisasi",
        "organisation",
        "organization",
        "lembaga",
        "instansi_lembaga",
        "lembaga_instansi",
        "perangkat_daerah",
        "agency",
        "kantor",
        "asal_kantor",
    ),
    **_aliases(
        "village",
        1,
        "desa",
        "kelurahan",
        "desa_kelurahan",
        "kelurahan_desa",
        "desa_kel",
        "kel_desa",
        "nama_desa",
        "nama_kelurahan",
        "nama_desa_kelurahan",
        "asal_desa",
        "asal_desa_kelurahan",
        "village",
    ),
    **_aliases(
        "district",
        1,
        "kecamatan",
        "kec",
        "nama_kecamatan",
        "asal_kecamatan",
        "district",
        "sub_district",
        "subdistrict",
    ),
    **_aliases(
        "org_code",
        2,
        "kode_instansi",
        "kode",
        "code",
        "organisation_code",
        "organization_code",
        "kode_desa",
        "kode_kelurahan",
        "kode_desa_kelurahan",
        "kode_wilayah",
        "kode_bps",
        "kode_wilayah_bps",
        "kode_desa_bps",
    ),
    **_aliases("org_code", 1, "kode_kecamatan"),
    **_aliases(
        "email",
        1,
        "email",
        "e_mail",
        "surel",
        "alamat_email",
        "alamat_e_mail",
        "email_address",
        "alamat_surel",
        "email_aktif",
        "e_mail_aktif",
        "email_peserta",
    ),
    **_aliases("nip", 1, "nip", "no_nip", "nomor_nip", "nip_baru"),
    **_aliases(
        "mode",
        1,
        "mode",
        "mode_kehadiran",
        "kehadiran",
        "attendance_mode",
        "keikutsertaan",
        "cara_keikutsertaan",
        "mode_keikutsertaan",
        "bentuk_keikutsertaan",
        "jenis_keikutsertaan",
        "bentuk_kehadiran",
        "jenis_kehadiran",
        "metode_kehadiran",
        "luring_daring",
        "daring_luring",
        "luring_atau_daring",
        "daring_atau_luring",
        "mode_luring_daring",
    ),
}
# Phone headers are any mix of these words ("No. HP/WA", "Telp/HP", "Nomor WhatsApp aktif"); a
# WhatsApp column wins over a mobile one, which wins over a plain telephone one.
PHONE_WORDS = {
    "wa": 3,
    "whatsapp": 3,
    "hp": 2,
    "handphone": 2,
    "ponsel": 2,
    "seluler": 2,
    "selular": 2,
    "mobile": 2,
    "telp": 1,
    "telepon": 1,
    "telpon": 1,
    "tlp": 1,
    "phone": 1,
    "kontak": 1,
    "contact": 1,
}
PHONE_FILLERS = {"no", "nomor", "nomer", "nmr", "nr", "number", "aktif", "peserta", "dan", "atau"}
NUMBER_KEYS = {"no", "no_urut", "nomor_urut", "nr", "urut"}  # the row number column: never used
STAGE_COLUMN = re.compile(r"^(?:(?:mode|kehadiran|keikutsertaan)_)?(?:tahap|stage)_?(\d+|[ivx]+)$")


def header_key(text: str) -> str:
    """'No. HP/WA' -> 'no_hp_wa', 'Mode Tahap 1' -> 'mode_tahap_1', 'E-mail' -> 'e_mail'."""
    text = unicodedata.normalize("NFKC", text or "").lower().replace("whats app", "whatsapp")
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


def stage_position(key: str) -> int | None:
    match = STAGE_COLUMN.match(key)
    if match is None:
        return None
    number = match.group(1)
    if number.isdigit():
        return int(number)
    roman = number.upper()
    return ROMAN.index(roman) + 1 if roman in ROMAN else None


def recognise(text: str) -> tuple[str, int] | None:
    """The field a header names and its priority, or None."""
    key = header_key(text)
    if key in ALIASES:
        return ALIASES[key]
    words = [word for word in key.split("_") if word and word not in PHONE_FILLERS]
    if words and all(word in PHONE_WORDS for word in words):
        return "phone", max(PHONE_WORDS[word] for word in words)
    return None


def looks_like_header(cells: Sequence[str]) -> bool:
    """At least two different fields are named: a header row, not a title or a person."""
    return len({found[0] for found in map(recognise, cells) if found}) >= 2


def guess_mapping(header: Sequence[str], positions: Collection[int]) -> list[str]:
    """One target per column: the recognised field or stage (the best column per target), or ""."""
    best: dict[str, tuple[int, int]] = {}  # target -> (priority, column)
    for column, text in enumerate(header):
        found = recognise(text)
        if found is None:
            position = stage_position(header_key(text))
            found = (f"tahap_{position}", 1) if position in positions else None
        if found is None:
            continue
        target, priority = found
        if target not in best or priority > best[target][0]:
            best[target] = (priority, column)
    mapping = [""] * len(header)
    for target, (_priority, column) in best.items():
        mapping[column] = target
    return mapping


def targets(positions: Sequence[int]) -> list[tuple[str, str]]:
    """(target, label) for the organiser's choice of a column."""
    return [
        ("", _("not used")),
        *((field, str(FIELD_LABELS[field])) for field in FIELDS),
        *((f"tahap_{position}", _("Mode, %(stage)s", stage=stage_label(position))) for position in positions),
    ]


def target_label(target: str) -> str:
    if target.startswith("tahap_"):
        return _("Mode, %(stage)s", stage=stage_label(int(target.removeprefix("tahap_"))))
    return str(FIELD_LABELS[target])


def stage_label(position: int) -> str:
    return i18n.stage_label(ROMAN[position - 1] if 0 < position <= len(ROMAN) else str(position))


MISSING_LABELS = {
    "name": FIELD_LABELS["name"],
    "organisation": _l("Organisation, or village and sub-district"),
    "phone": FIELD_LABELS["phone"],
    "mode": _l("Mode (or choose one mode for every row)"),
}


def missing(mapping: Sequence[str], positions: Collection[int], default_mode: str) -> list[str]:
    """What the import still needs a column for (keys of MISSING_LABELS), in the order of the form."""
    chosen = set(mapping)
    needed = []
    if "name" not in chosen:
        needed.append("name")
    if not chosen & set(ORGANISATION_FIELDS):
        needed.append("organisation")
    if "phone" not in chosen:
        needed.append("phone")
    stages_covered = all(f"tahap_{position}" in chosen for position in positions)
    if "mode" not in chosen and not stages_covered and not default_mode:
        needed.append("mode")
    return needed


def unused_columns(header: Sequence[str], mapping: Sequence[str]) -> list[str]:
    """Headers of the columns that are not used (the row-number column left out)."""
    return [
        text
        for text, target in zip(header, mapping, strict=True)
        if text and not target and header_key(text) not in NUMBER_KEYS
    ]


MAPPING_ERRORS = {
    "does_not_fit": _l("The choice of columns does not fit this file: open the preview again."),
    "chosen_twice": _l("“%(field)s” is chosen for two columns, “%(first)s” and “%(second)s”: choose one."),
    "already_imported": _l("This file was already imported."),
    "changed": _l("The preview changed meanwhile: check the columns again."),
}


class CodedError(Exception):
    """An error told by a code and its arguments, put into words (in the user's language) only when
    shown; it survives pickling, since the checks may run in another process (workshop/offload.py)."""

    MESSAGES: dict = {}

    def __init__(self, code: str, **args):
        super().__init__(code)
        self.code = code
        self.args_ = args

    def __reduce__(self):
        return _rebuild, (type(self), self.code, self.args_)

    @property
    def message(self) -> str:
        return str(self.MESSAGES[self.code]) % self.args_


def _rebuild(cls: type[CodedError], code: str, args: dict) -> CodedError:
    return cls(code, **args)


class MappingError(CodedError):
    """The organiser's choice of columns cannot be used."""

    MESSAGES = MAPPING_ERRORS

    @property
    def message(self) -> str:
        args = dict(self.args_)
        if "target" in args:
            args["field"] = target_label(args.pop("target"))
        return str(self.MESSAGES[self.code]) % args


def validate(mapping: Sequence[str], header: Sequence[str], positions: Collection[int]) -> list[str]:
    """The organiser's choice, checked: one target per column, each target at most once."""
    allowed = {"", *FIELDS, *(f"tahap_{position}" for position in positions)}
    if len(mapping) != len(header) or any(target not in allowed for target in mapping):
        raise MappingError("does_not_fit")
    seen: dict[str, int] = {}
    for column, target in enumerate(mapping):
        if not target:
            continue
        if target in seen:
            from openpyxl.utils import get_column_letter  # here, not at start-up: workshop/spreadsheets.py

            raise MappingError(
                "chosen_twice",
                target=target,
                first=header[seen[target]] or get_column_letter(seen[target] + 1),
                second=header[column] or get_column_letter(column + 1),
            )
        seen[target] = column
    return list(mapping)
