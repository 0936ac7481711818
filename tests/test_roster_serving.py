"""A 5 MB roster read by the real server (`python app.py`, gevent, SQLite) while a check-in desk
scans: the file is read and checked in gevent's thread pool with no transaction open, so each scan
(a write: every scan is logged) is answered meanwhile (issue 12); bench/roster_upload.py measures
how fast."""

from __future__ import annotations

import io
import json
import random
import re
import string
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl.utils import get_column_letter

from tests import factories, serving
from workshop import create_app, offload
from workshop.db import db
from workshop.programs import organization_index
from workshop.programs.models import OrgKind
from workshop.registration.models import RosterImport
from workshop.registration.roster import checks, columns, files, service

ROWS = 5000
NOTE_COLUMNS = 36  # long free-text columns, as a "keterangan" sheet has: they make the file 5 MB


def big_roster() -> bytes:
    """An XLSX of 5,000 participants with long notes (~4.6 MB), written as Excel writes a sheet
    of inline strings (openpyxl would take a minute to write it)."""
    rng = random.Random(12)
    header = ["No", "Nama", "Instansi", "No. HP/WA", "Mode", *(f"Catatan {n}" for n in range(NOTE_COLUMNS))]

    def row(number: int, values: list[str]) -> str:
        cells = "".join(
            f'<c r="{get_column_letter(index + 1)}{number}" t="inlineStr"><is><t>{value}</t></is></c>'
            for index, value in enumerate(values)
        )
        return f'<row r="{number}">{cells}</row>'

    rows = [row(1, header)]
    for n in range(ROWS):
        notes = ["".join(rng.choices(string.ascii_letters, k=26)) for _ in range(NOTE_COLUMNS)]
        rows.append(
            row(n + 2, [str(n + 1), f"Peserta {n:04d}", "Tarutung", f"0812{30000000 + n}", "daring", *notes])
        )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + "".join(rows)
        + "</sheetData></worksheet>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<sheets><sheet name="Peserta" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def _multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@dataclass
class DeskDuringUpload:
    """What a check-in desk saw while the organiser's 5 MB roster was read by the server."""

    before: list[float]  # latencies (s) of 20 scans before the upload
    scans: list[tuple[float, float, int]]  # (sent, answered, HTTP status) of each scan during it
    upload_started: float
    upload_ended: float
    upload_status: int
    upload_location: str
    rows_stored: int

    @property
    def answered_while_reading(self) -> list[tuple[float, float, int]]:
        return [scan for scan in self.scans if self.upload_started <= scan[0] and scan[1] < self.upload_ended]

    @property
    def latencies(self) -> list[float]:
        return [answered - sent for sent, answered, _status in self.scans if sent >= self.upload_started]


def desk_during_a_roster_upload(workdir: Path) -> DeskDuringUpload:
    """Serve the app as `python app.py` does (gevent, SQLite), upload the 5 MB roster and scan at
    the desk meanwhile, every 50 ms. Also bench/roster_upload.py's scenario (the latencies)."""
    roster = big_roster()
    assert 4_000_000 < len(roster) <= 5 * 1024 * 1024

    database_url = f"sqlite:///{workdir / 'bimtek.sqlite3'}"
    serving.prepare_database(database_url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": serving.SECRET_KEY})
    with app.app_context():
        factories.organization(db.session, kind=OrgKind.KECAMATAN, name="Tarutung")
        program = factories.program(db.session, stages=1)
        program_id, stage_id = program.id, program.stages[0].id
        db.session.commit()
        db.engine.dispose()

    port = serving.free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = (workdir / "app.log").open("wb")
    server = serving.start(
        [sys.executable, "app.py"],
        cwd=serving.PROJECT_ROOT,
        env=serving.environment(database_url, HOST="127.0.0.1", PORT=str(port), RATELIMIT_ENABLED="0"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        serving.wait_for(base_url + "/healthz", server)
        organiser, desk = serving.Browser(base_url), serving.Browser(base_url)
        organiser.log_in()
        desk.log_in()
        page = organiser.get(f"/admin/programs/{program_id}/import").read().decode()
        upload_token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        desk_page = desk.get(f"/checkin/stages/{stage_id}").read().decode()
        desk_token = re.search(r'<meta name="csrf-token" content="([^"]+)">', desk_page).group(1)

        def scan() -> tuple[float, float, int]:
            body = json.dumps(
                {
                    "code": f"BIMTEK-{uuid.uuid4().hex[:12]}",
                    "desk": "Meja 1",
                    "nonce": uuid.uuid4().hex,
                    "method": "typed",
                }
            )
            request = urllib.request.Request(
                base_url + f"/api/stages/{stage_id}/checkin",
                data=body.encode(),
                headers={
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                    "X-CSRFToken": desk_token,
                },
            )
            sent = time.monotonic()
            try:
                with desk.opener.open(request, timeout=10) as response:
                    status = response.status
                    response.read()
            except urllib.error.HTTPError as error:
                status = error.code
            return sent, time.monotonic(), status

        assert scan()[2] == 200  # the desk works before the upload
        before = [answered - sent for sent, answered, _status in (scan() for _ in range(20))]

        body, content_type = _multipart({"csrf_token": upload_token}, "peserta-besar.xlsx", roster)
        upload_result: dict = {}

        def upload() -> None:
            request = urllib.request.Request(
                base_url + f"/admin/programs/{program_id}/import",
                data=body,
                headers={"Content-Type": content_type, "Accept": "application/json", "Origin": base_url},
            )
            upload_result["started"] = time.monotonic()
            with organiser.opener.open(request, timeout=300) as response:
                upload_result["status"] = response.status
                upload_result["body"] = json.loads(response.read())
            upload_result["ended"] = time.monotonic()

        uploader = threading.Thread(target=upload)
        uploader.start()
        scans = []
        while uploader.is_alive():
            scans.append(scan())
            time.sleep(0.05)
        uploader.join()
    finally:
        serving.stop(server)
        log.close()

    with app.app_context():
        record = db.session.scalars(db.select(RosterImport)).one()
        rows_stored = len(json.loads(record.rows)["rows"])
        db.engine.dispose()
    return DeskDuringUpload(
        before=before,
        scans=scans,
        upload_started=upload_result["started"],
        upload_ended=upload_result["ended"],
        upload_status=upload_result["status"],
        upload_location=upload_result["body"]["location"],
        rows_stored=rows_stored,
    )


def test_a_check_in_desk_is_served_while_a_5_mb_roster_is_read(tmp_path):
    """Not how fast (bench/roster_upload.py measures that): that the desk's scans are answered
    while the roster is being read, not queued behind it, and the roster is read whole."""
    seen = desk_during_a_roster_upload(tmp_path)

    assert (seen.upload_status, seen.upload_location.startswith("/admin/imports/")) == (200, True)
    assert seen.rows_stored == ROWS
    assert {status for _sent, _answered, status in seen.scans} == {200}
    # Each scan waits for its answer: ten answered before the upload's own answer mean the server
    # went on serving the desk while it read the file (with the read on the loop: at most one).
    assert len(seen.answered_while_reading) >= 10, (
        f"{len(seen.answered_while_reading)} of {len(seen.scans)} scans answered during the "
        f"{seen.upload_ended - seen.upload_started:.1f} s upload"
    )


def run_in_worker(function, *args):
    """What off_the_loop does on gevent: the job through `python -m workshop.offload`; (succeeded,
    result or exception)."""
    try:
        return True, offload.in_child_process(function, *args)
    except Exception as error:
        return False, error


def test_the_worker_process_hands_back_results_and_refusals_with_their_details():
    rules = checks.CheckRules(organization_index.OrganizationIndex([], {}), frozenset(), (1, 2))
    rows = "nama,instansi,no_hp,mode\r\n" + "".join(
        f"P{n},X,0812{30000000 + n},daring\r\n" for n in range(5001)
    )

    succeeded, error = run_in_worker(service.read_preview, "peserta.csv", rows.encode(), rules)
    assert (succeeded, type(error), error.code, error.args_) == (
        False,
        files.RosterFileError,
        "too_many_rows",
        {"max": 5000},
    )

    succeeded, stored = run_in_worker(
        service.read_preview, "peserta.csv", b"Nama;HP\r\nRina;0812 3456 7801\r\n", rules
    )
    assert succeeded and json.loads(stored)["mapping"] == ["name", "phone"]

    succeeded, error = run_in_worker(service.with_columns, stored, ["name", "name"], "", rules)
    assert (succeeded, type(error), error.code, error.args_) == (
        False,
        columns.MappingError,
        "chosen_twice",
        {"target": "name", "first": "Nama", "second": "HP"},
    )
