"""The attendance record: statuses per stage, overrides, the dashboard (live), report and exports."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from flask import current_app
from pypdf import PdfReader
from sqlalchemy import select

from tests import factories
from workshop.attendance.models import AttendanceOverride, AttendanceStatus, OnlineEvidence, OnlineKind
from workshop.auth.models import AuditEntry, Role
from workshop.checkin import services as checkin
from workshop.checkin.models import CheckIn
from workshop.extensions import socketio
from workshop.programs.models import OrgKind
from workshop.programs.windows import stage_window
from workshop.realtime import notify_attendance_changed
from workshop.registration.models import Mode, Status
from workshop.reports import services
from workshop.tickets import codes

# Tahap I of the factory programme: Kamis 24 and Jumat 25 Juni 2021, 09.00 to 16.00 WIB each day
# (840 minutes); present from 75% (630 minutes), late when first seen after 09.15.
HADIR, TELAT, IZIN, ABSEN, BELUM = (
    AttendanceStatus.HADIR,
    AttendanceStatus.TERLAMBAT,
    AttendanceStatus.IZIN,
    AttendanceStatus.TIDAK_HADIR,
    AttendanceStatus.BELUM_DIMULAI,
)
AFTER = datetime(2021, 8, 1, tzinfo=UTC)  # both stages have ended: the final figures


def wib(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2021, 6, day, hour - 7, minute, tzinfo=UTC)


def hall_check_in(session, stage, registration, at, desk="Meja 1"):
    outcome = checkin.check_in(
        session,
        stage=stage,
        code=codes.qr_payload(registration.ticket_secret),
        desk=desk,
        actor=None,
        client_nonce=None,
        secret_key=current_app.config["SECRET_KEY"],
        scanned_at=at,
        now=at + timedelta(seconds=1),
    )
    assert outcome.colour == "green"
    return outcome.check_in


def online(session, stage, registration, start, end, kind=OnlineKind.PRESENCE):
    session.add(
        OnlineEvidence(
            registration_id=registration.id,
            stage_id=stage.id,
            kind=kind,
            started_at=start,
            ended_at=end,
            source="test",
        )
    )
    session.flush()


@pytest.fixture
def bimtek(session):
    """Seven approved participants of Tahap I with their evidence, and one pending registration."""
    program = factories.program(session, stages=2, title="Bimtek Smart City Tapanuli Utara")
    stage = program.stages[0]
    kominfo = factories.organization(session, name="Dinas Kominfo")
    bappeda = factories.organization(session, name="Bappeda")
    kesehatan = factories.organization(session, name="Dinas Kesehatan")
    tarutung = factories.organization(session, kind=OrgKind.KECAMATAN, name="Tarutung")
    hutatoruan = factories.organization(session, kind=OrgKind.DESA, name="Hutatoruan I", parent=tarutung)

    def person(name, org, mode=Mode.LURING, status=Status.APPROVED):
        return factories.registration(session, program, status=status, mode=mode, name=name, org=org)

    people = {
        "ani": person("Ani Siregar", kominfo),
        "budi": person("Budi Hutabarat", kominfo),
        "camat": person("Camat Tarutung", tarutung, Mode.DARING),
        "kades": person("Kades Hutatoruan", hutatoruan, Mode.DARING),
        "eko": person("Eko Simanjuntak", bappeda),
        "fajar": person("Fajar Lumbantobing", bappeda),
        "gita": person("Gita Nainggolan", kesehatan),
        "pending": person("Hana Pending", kominfo, status=Status.PENDING),
    }
    # On time both days.
    hall_check_in(session, stage, people["ani"], wib(24, 8, 50), desk="Meja 2")
    hall_check_in(session, stage, people["ani"], wib(25, 8, 55))
    # Late on the first day (09.20 > 09.15), present long enough.
    hall_check_in(session, stage, people["budi"], wib(24, 9, 20))
    hall_check_in(session, stage, people["budi"], wib(25, 9, 0))
    # Online both days: 420 + 415 minutes.
    online(session, stage, people["camat"], wib(24, 9, 0), wib(24, 16, 0))
    online(session, stage, people["camat"], wib(25, 9, 5), wib(25, 16, 0))
    # Clicked the join link at 08.58, online the first day only: 420 minutes < 630.
    online(session, stage, people["kades"], wib(24, 8, 58), wib(24, 8, 58), OnlineKind.JOIN_CLICK)
    online(session, stage, people["kades"], wib(24, 9, 0), wib(24, 16, 0))
    # Excused by the organiser.
    services.set_override(session, people["eko"], stage, IZIN, "Surat izin dinas luar", actor=None)
    # A check-in undone at the desk (wrong person scanned) does not count.
    wrong = hall_check_in(session, stage, people["gita"], wib(24, 9, 1))
    checkin.undo_check_in(session, wrong, actor=None, now=wib(24, 9, 2))
    session.commit()
    return program, stage, people


def test_stage_attendance_gives_each_approved_participant_exact_status_and_minutes(session, bimtek):
    _, stage, _ = bimtek

    rows = services.stage_attendance(session, stage, now=AFTER)

    got = [
        (
            row.person.name,
            row.status,
            row.mode,
            row.minutes_present,
            row.checked_in_at,
            row.desk,
            row.arrived_at,
        )
        for row in rows
    ]
    assert got == [  # sorted by organisation, then name; the pending registration is left out
        ("Eko Simanjuntak", IZIN, Mode.LURING, 0, None, "", None),
        ("Fajar Lumbantobing", ABSEN, Mode.LURING, 0, None, "", None),
        ("Gita Nainggolan", ABSEN, Mode.LURING, 0, None, "", None),
        ("Ani Siregar", HADIR, Mode.LURING, 840, wib(24, 8, 50), "Meja 2", wib(24, 8, 50)),
        ("Budi Hutabarat", TELAT, Mode.LURING, 820, wib(24, 9, 20), "Meja 1", wib(24, 9, 20)),
        ("Kades Hutatoruan", ABSEN, Mode.DARING, 420, None, "", wib(24, 8, 58)),
        ("Camat Tarutung", HADIR, Mode.DARING, 835, None, "", wib(24, 9, 0)),
    ]
    assert rows[3].first_seen == wib(24, 8, 50)
    assert rows[4].arrived_on(wib(25, 9).date(), stage_window(stage)) == wib(25, 9, 0)
    assert rows[0].override.reason == "Surat izin dinas luar"


def test_the_second_stage_ended_without_evidence_is_absence_for_all(session, bimtek):
    program, _, _ = bimtek

    rows = services.stage_attendance(session, program.stages[1], now=AFTER)

    assert [(row.status, row.minutes_present) for row in rows] == [(ABSEN, 0)] * 7


def test_the_second_stage_weeks_away_has_not_started_for_anyone(session, bimtek):
    program, _, _ = bimtek

    rows = services.stage_attendance(session, program.stages[1], now=wib(24, 10))

    assert [(row.status, row.minutes_present) for row in rows] == [(BELUM, 0)] * 7
    assert services.status_counts(rows) == {HADIR: 0, TELAT: 0, IZIN: 0, ABSEN: 0, BELUM: 7}


def test_on_the_first_day_the_second_day_not_begun_is_no_absence(session, bimtek):
    _, stage, _ = bimtek

    rows = services.stage_attendance(session, stage, now=wib(24, 16))

    got = [(row.person.name, row.status, row.minutes_present) for row in rows]
    assert got == [
        ("Eko Simanjuntak", IZIN, 0),
        ("Fajar Lumbantobing", ABSEN, 0),
        ("Gita Nainggolan", ABSEN, 0),
        ("Ani Siregar", HADIR, 420),
        ("Budi Hutabarat", TELAT, 400),
        ("Kades Hutatoruan", HADIR, 420),  # online the whole first day: the second has not begun
        ("Camat Tarutung", HADIR, 420),
    ]


def test_an_override_cannot_set_not_started(session, bimtek):
    _, stage, people = bimtek

    with pytest.raises(services.ReportError) as error:
        services.set_override(session, people["fajar"], stage, BELUM, "Belum datang", actor=None)

    assert error.value.code == "not_an_override"


def test_stage_attendance_runs_a_fixed_number_of_queries(app, session, bimtek):
    from sqlalchemy import event

    from workshop.db import db

    program, stage, _ = bimtek
    registrations = services.approved_registrations(session, program)
    services.stage_attendance(session, stage, registrations, now=AFTER)  # loads the stage and the programme
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        services.stage_attendance(session, stage, registrations, now=AFTER)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    # check-ins, overrides, online evidence, meeting-report rows: not one per participant.
    assert len(statements) == 4


def test_summary_counts_registered_checked_in_online_now_and_statuses(session, bimtek):
    _, stage, _ = bimtek

    summary = services.stage_summary(session, stage, now=wib(24, 16, 2))

    assert (
        summary.registered_luring,
        summary.registered_daring,
        summary.checked_in_today,
        summary.checked_in_total,
        summary.online_now,
    ) == (5, 2, 2, 2, 2)
    assert summary.present_now == 4
    # At the end of the first day; the second has not begun, so the Kades is present so far.
    assert summary.by_status == {HADIR: 3, TELAT: 1, IZIN: 1, ABSEN: 2, BELUM: 0}
    # Presence that ended more than 2.5 minutes ago is not "online now"; the next day has its own count.
    assert services.stage_summary(session, stage, now=wib(24, 16, 3)).online_now == 0
    next_morning = services.stage_summary(session, stage, now=wib(25, 8, 0))
    assert (next_morning.checked_in_today, next_morning.checked_in_total, next_morning.online_now) == (
        2,
        2,
        0,
    )


def test_override_requires_a_reason_and_is_audit_logged(session, bimtek):
    _, stage, people = bimtek
    panitia = factories.staff(session, Role.PANITIA)

    with pytest.raises(services.ReportError) as error:
        services.set_override(session, people["fajar"], stage, IZIN, "   ", actor=panitia)
    assert error.value.code == "reason_required"

    services.set_override(
        session, people["fajar"], stage, HADIR, "Scan gagal, hadir sejak pagi", actor=panitia
    )
    services.clear_override(session, people["eko"], stage, actor=panitia)

    statuses = {row.person.name: row.status for row in services.stage_attendance(session, stage, now=AFTER)}
    assert (statuses["Fajar Lumbantobing"], statuses["Eko Simanjuntak"]) == (HADIR, ABSEN)
    entries = session.execute(
        select(AuditEntry.actor_id, AuditEntry.action, AuditEntry.subject, AuditEntry.detail)
        .where(AuditEntry.actor_id == panitia.id)
        .order_by(AuditEntry.id)
    ).all()
    assert entries == [
        (
            panitia.id,
            "attendance.override",
            f"registration:{people['fajar'].id}",
            f"stage:{stage.id} hadir: Scan gagal, hadir sejak pagi",
        ),
        (
            panitia.id,
            "attendance.override_cleared",
            f"registration:{people['eko'].id}",
            f"stage:{stage.id} izin",
        ),
    ]


@pytest.fixture
def panitia(session, login):
    user = factories.staff(session, Role.PANITIA)
    session.commit()
    return login(user)


def test_override_form_refuses_an_empty_reason_in_indonesian(session, client, bimtek, panitia):
    _, stage, people = bimtek
    url = f"/admin/stages/{stage.id}/registrations/{people['fajar'].id}/attendance"

    response = client.post(url, data={"status": "izin", "reason": "  "})

    assert response.status_code == 400
    assert "Tuliskan alasan perubahan ini." in response.get_data(as_text=True)
    assert (
        session.scalar(
            select(AttendanceOverride).where(AttendanceOverride.registration_id == people["fajar"].id)
        )
        is None
    )


def test_override_form_sets_and_clears_izin(session, client, bimtek, panitia):
    program, stage, people = bimtek
    url = f"/admin/stages/{stage.id}/registrations/{people['fajar'].id}/attendance"

    response = client.post(url, data={"status": "izin", "reason": "Sakit, surat dokter"})

    assert response.status_code == 302
    assert response.location == f"/admin/programs/{program.id}/attendance#r{people['fajar'].id}"
    override = session.scalar(
        select(AttendanceOverride).where(AttendanceOverride.registration_id == people["fajar"].id)
    )
    assert (override.status, override.reason, override.actor_id) == (IZIN, "Sakit, surat dokter", panitia.id)
    page = client.get(url).get_data(as_text=True)
    assert "Sakit, surat dokter" in page and "Izin" in page

    assert client.post(url, data={"status": "auto", "reason": ""}).status_code == 302
    session.expire_all()
    assert (
        session.scalar(
            select(AttendanceOverride).where(AttendanceOverride.registration_id == people["fajar"].id)
        )
        is None
    )
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == panitia.id)).all()
    assert actions == ["attendance.override", "attendance.override_cleared"]


def test_override_of_a_registration_of_another_programme_is_not_found(session, client, bimtek, panitia):
    _, stage, _ = bimtek
    stranger = factories.registration(session, factories.program(session, stages=1), status=Status.APPROVED)
    session.commit()

    response = client.post(
        f"/admin/stages/{stage.id}/registrations/{stranger.id}/attendance",
        data={"status": "izin", "reason": "x"},
    )

    assert response.status_code == 404


def test_dashboard_json_has_the_exact_numbers(client, bimtek, panitia, set_now):
    _, stage, _ = bimtek
    set_now(wib(24, 16, 1))

    data = client.get(f"/admin/stages/{stage.id}/dashboard.json").get_json()

    assert data == {
        "stage_id": stage.id,
        "phase": "live",
        "registered": {"luring": 5, "daring": 2, "total": 7},
        "checked_in_today": 2,
        "checked_in_total": 2,
        "online_now": 2,
        "present_now": 4,
        "participants": 7,
        "by_status": {"hadir": 3, "terlambat": 1, "izin": 1, "tidak_hadir": 2, "belum_dimulai": 0},
        "version": int(wib(24, 16, 1).timestamp() * 1000),
        "generated_at": "2021-06-24T09:01:00+00:00",
    }


def test_dashboard_page_shows_the_numbers_for_petugas_too(session, client, login, bimtek, set_now):
    _, stage, _ = bimtek
    login(factories.staff(session, Role.PETUGAS))
    session.commit()
    set_now(wib(24, 16, 1))

    page = client.get(f"/admin/stages/{stage.id}/dashboard").get_data(as_text=True)

    assert (
        '<span class="big-value" data-value="checked_in_today" data-testid="checked-in-today">2</span>'
        in page
    )
    assert '<span class="big-value" data-value="online_now" data-testid="online-now">2</span>' in page
    assert '<span class="big-value" data-value="present_now" data-testid="present-now">4</span>' in page
    assert 'data-value="by_status.tidak_hadir" data-testid="count-tidak_hadir">2</span>' in page
    assert 'data-bar="hadir" x="0" y="0" width="42.86"' in page  # 3 of 7
    assert "Diperbarui pukul <time data-updated>16.01 WIB</time>" in page
    assert "daftar-hadir.pdf" not in page  # the exports are for organisers


def _text(page: str, testid: str) -> str:
    return page.split(f'data-testid="{testid}">')[1].split("</")[0].strip()


def test_an_ended_stages_dashboard_says_so_and_shows_the_final_figures(client, bimtek, panitia, set_now):
    """After the end, no "now" or "today" counter (all 0 by then): the hall check-ins of all days."""
    _, stage, _ = bimtek
    set_now(wib(26, 9))

    page = client.get(f"/admin/stages/{stage.id}/dashboard").get_data(as_text=True)

    assert _text(page, "dashboard-state") == (
        "Tahap ini sudah selesai pada Jumat, 25 Juni 2021, pukul 16.00 WIB. Berikut angka akhirnya."
    )
    assert _text(page, "figures-title") == "Kehadiran akhir"
    assert _text(page, "checked-in-total") == "2"
    assert _text(page, "registered") == "7"
    for live_only in ("present-now", "checked-in-today", "online-now", "data-live-badge", "data-updated"):
        assert live_only not in page
    assert "data-changes-at" not in page and 'data-phase="ended"' in page
    assert client.get(f"/admin/stages/{stage.id}/dashboard.json").get_json()["phase"] == "ended"

    client.post("/language/en")
    page = client.get(f"/admin/stages/{stage.id}/dashboard").get_data(as_text=True)
    assert _text(page, "dashboard-state") == (
        "This stage ended on Friday, 25 June 2021 at 16:00 WIB. These are its final figures."
    )
    assert _text(page, "figures-title") == "Final attendance"


def test_a_stage_not_started_has_no_live_counters_until_its_check_in_opens(client, bimtek, panitia, set_now):
    program, stage, _ = bimtek
    later = program.stages[1]
    set_now(wib(24, 10))

    opens = later.starts_at - timedelta(minutes=later.check_in_opens_before_minutes)

    page = client.get(f"/admin/stages/{later.id}/dashboard").get_data(as_text=True)

    assert _text(page, "dashboard-state") == (
        f"Tahap ini belum dimulai: check-in dibuka Kamis, 15 Juli 2021, pukul {opens.astimezone(ZoneInfo('Asia/Jakarta')):%H.%M} WIB."
    )
    assert _text(page, "figures-title") == "Kehadiran"
    assert _text(page, "registered") == "7"
    for live_only in ("present-now", "checked-in-today", "online-now", "checked-in-total", "data-live-badge"):
        assert live_only not in page
    # The page asks again from the check-in's opening to turn live.
    assert 'data-phase="upcoming"' in page
    assert datetime.fromisoformat(page.split('data-changes-at="')[1].split('"')[0]) == opens

    running = client.get(f"/admin/stages/{stage.id}/dashboard").get_data(as_text=True)
    assert _text(running, "figures-title") == "Kehadiran sejauh ini"
    assert 'data-phase="live"' in running and 'data-changes-at="2021-06-25T09:00:00+00:00"' in running


def test_a_scan_notifies_the_dashboards_of_that_stage_live(app, session, client, bimtek, panitia):
    program, stage, people = bimtek
    watcher = socketio.test_client(app, flask_test_client=client)
    other_stage = socketio.test_client(app, flask_test_client=client)
    assert watcher.emit("join_stage", {"stage_id": stage.id}, callback=True) == {
        "ok": True,
        "staff": True,
        "version": 1,  # the stage's live Q&A and polls (workshop/live/events.py)
        "results_version": None,
    }
    assert other_stage.emit("join_stage", {"stage_id": program.stages[1].id}, callback=True)["ok"] is True
    watcher.get_received()
    other_stage.get_received()

    response = client.post(
        f"/api/stages/{stage.id}/checkin",
        json={
            "code": people["fajar"].ticket_code,
            "desk": "Meja 3",
            "nonce": "nonce-live-0001",
            "method": "typed",
            "scanned_at": "2021-06-24T08:59:00+07:00",
        },
    )

    assert response.status_code == 200 and response.get_json()["colour"] == "green"
    assert watcher.get_received() == [
        {"name": "attendance_changed", "args": [{"stage_id": stage.id}], "namespace": "/"}
    ]
    assert other_stage.get_received() == []
    watcher.disconnect()
    other_stage.disconnect()


def test_an_override_notifies_the_dashboards_too(app, session, client, bimtek, panitia):
    _, stage, people = bimtek
    watcher = socketio.test_client(app, flask_test_client=client)
    watcher.emit("join_stage", {"stage_id": stage.id}, callback=True)
    watcher.get_received()

    client.post(
        f"/admin/stages/{stage.id}/registrations/{people['fajar'].id}/attendance",
        data={"status": "izin", "reason": "Sakit"},
    )

    assert [message["name"] for message in watcher.get_received()] == ["attendance_changed"]
    notify_attendance_changed(stage.id)
    assert len(watcher.get_received()) == 1
    watcher.disconnect()


def test_report_matrix_shows_status_and_minutes_and_filters_by_sub_district(session, client, bimtek, panitia):
    program, stage, people = bimtek

    page = client.get(f"/admin/programs/{program.id}/attendance").get_data(as_text=True)

    assert "7 peserta disetujui" in page
    cell = page.split(f'data-testid="cell-{people["budi"].id}-{stage.id}">')[1].split("</td>")[0]
    assert 'class="att att-terlambat"' in cell and ">Terlambat</a>" in cell and "820 mnt · Luring" in cell
    assert f'data-testid="summary-{stage.id}-hadir">2<' in page
    assert f'data-testid="summary-{stage.id}-tidak_hadir">3<' in page

    tarutung = people["camat"].person.organization_id
    page = client.get(f"/admin/programs/{program.id}/attendance?kecamatan={tarutung}").get_data(as_text=True)
    assert "2 peserta disetujui" in page
    assert "Camat Tarutung" in page and "Kades Hutatoruan" in page and "Ani Siregar" not in page
    assert f'data-testid="summary-{stage.id}-hadir">1<' in page
    assert f"attendance.xlsx?kecamatan={tarutung}" in page


def test_xlsx_export_has_the_matrix_and_summary_and_is_audit_logged(session, client, bimtek, panitia):
    program, _, _ = bimtek

    response = client.get(f"/admin/programs/{program.id}/attendance.xlsx")

    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f"attachment; filename=kehadiran-{program.slug}.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Kehadiran", "Ringkasan"]
    rows = [list(row) for row in book["Kehadiran"].iter_rows(values_only=True)]
    assert rows[0] == [
        "No",
        "Nama",
        "Jabatan",
        "Instansi",
        "Kecamatan",
        "Status Tahap I",
        "Menit Tahap I",
        "Status Tahap II",
        "Menit Tahap II",
    ]
    assert rows[1:] == [
        [1, "Eko Simanjuntak", "Kepala Bidang", "Bappeda", None, "Izin", 0, "Tidak hadir", 0],
        [2, "Fajar Lumbantobing", "Kepala Bidang", "Bappeda", None, "Tidak hadir", 0, "Tidak hadir", 0],
        [3, "Gita Nainggolan", "Kepala Bidang", "Dinas Kesehatan", None, "Tidak hadir", 0, "Tidak hadir", 0],
        [4, "Ani Siregar", "Kepala Bidang", "Dinas Kominfo", None, "Hadir", 840, "Tidak hadir", 0],
        [5, "Budi Hutabarat", "Kepala Bidang", "Dinas Kominfo", None, "Terlambat", 820, "Tidak hadir", 0],
        [
            6,
            "Kades Hutatoruan",
            "Kepala Bidang",
            "Hutatoruan I, Kec. Tarutung",
            "Tarutung",
            "Tidak hadir",
            420,
            "Tidak hadir",
            0,
        ],
        [7, "Camat Tarutung", "Kepala Bidang", "Tarutung", "Tarutung", "Hadir", 835, "Tidak hadir", 0],
    ]
    summary = [list(row) for row in book["Ringkasan"].iter_rows(values_only=True)]
    assert summary[0] == [
        "Tahap",
        "Judul",
        "Terdaftar luring",
        "Terdaftar daring",
        "Hadir",
        "Terlambat",
        "Izin",
        "Tidak hadir",
        "Belum dimulai",
        "Peserta",
    ]
    assert summary[1] == ["Tahap I", "Tahap ke-1", 5, 2, 2, 1, 1, 3, 0, 7]
    assert summary[2] == ["Tahap II", "Tahap ke-2", 5, 2, 0, 0, 0, 7, 0, 7]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "attendance.export"))
    assert (entry.actor_id, entry.subject, entry.detail) == (
        panitia.id,
        f"program:{program.id}",
        "xlsx, 7 participants",
    )


def test_a_stage_weeks_away_shows_no_absence_in_report_matrix_xlsx_and_dashboard(
    session, client, bimtek, panitia, set_now
):
    """During Tahap I, Tahap II (three weeks later) is "Belum dimulai" everywhere, never absence."""
    program, _, people = bimtek
    later = program.stages[1]
    set_now(wib(24, 10))

    page = client.get(f"/admin/programs/{program.id}/attendance").get_data(as_text=True)
    assert f'data-testid="summary-{later.id}-tidak_hadir">0<' in page
    assert f'data-testid="summary-{later.id}-belum_dimulai">7<' in page
    assert (
        f'<span class="att att-belum_dimulai" data-testid="summary-{later.id}-state">Belum dimulai</span>'
        in page
    )
    assert '<rect class="bar-fill bar-belum_dimulai" x="0.0" y="0" width="100.0" height="8">' in page
    assert "bar-tidak_hadir" not in page.split(f'data-testid="summary-{later.id}"')[1].split("</article>")[0]
    cell = page.split(f'data-testid="cell-{people["fajar"].id}-{later.id}">')[1].split("</td>")[0]
    assert 'class="att att-belum_dimulai"' in cell and ">Belum dimulai</a>" in cell
    assert '<small class="minutes">Luring</small>' in cell  # no "0 mnt" for a stage not begun

    book = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/admin/programs/{program.id}/attendance.xlsx").data)
    )
    rows = [list(row) for row in book["Kehadiran"].iter_rows(values_only=True)]
    assert [row[7:9] for row in rows[1:]] == [["Belum dimulai", None]] * 7
    summary = [list(row) for row in book["Ringkasan"].iter_rows(values_only=True)]
    assert summary[2] == ["Tahap II", "Tahap ke-2", 5, 2, 0, 0, 0, 0, 7, 7]
    # Tahap I at 10.00 on its first day: whoever has not come yet is absent so far.
    assert summary[1] == ["Tahap I", "Tahap ke-1", 5, 2, 3, 1, 1, 2, 0, 7]

    data = client.get(f"/admin/stages/{later.id}/dashboard.json").get_json()
    assert (data["by_status"], data["participants"]) == (
        {"hadir": 0, "terlambat": 0, "izin": 0, "tidak_hadir": 0, "belum_dimulai": 7},
        7,
    )
    dashboard = client.get(f"/admin/stages/{later.id}/dashboard").get_data(as_text=True)
    assert 'data-testid="count-tidak_hadir">0</span>' in dashboard
    assert 'data-testid="count-belum_dimulai">7</span>' in dashboard
    assert "Tahap ini dimulai Kamis, 15 Juli 2021, pukul 09.00 WIB." in dashboard


def test_xlsx_export_keeps_a_formula_looking_name_as_text(session, client, bimtek, panitia):
    program, _, _ = bimtek
    factories.registration(session, program, status=Status.APPROVED, name="=HYPERLINK(1)")
    session.commit()

    book = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/admin/programs/{program.id}/attendance.xlsx").data)
    )

    (cell,) = [row[1] for row in book["Kehadiran"].iter_rows(min_row=2) if row[1].value == "=HYPERLINK(1)"]
    assert cell.data_type == "s"


def test_csv_export_parses_with_semicolons_and_a_byte_order_mark(session, client, bimtek, panitia):
    program, _, _ = bimtek

    response = client.get(f"/admin/programs/{program.id}/attendance.csv?mode=daring")

    assert response.status_code == 200
    assert response.headers.getlist("Content-Type") == ["text/csv; charset=utf-8"]  # one charset
    assert response.headers["Content-Disposition"] == f"attachment; filename=kehadiran-{program.slug}.csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    stages = ["Status Tahap I", "Menit Tahap I", "Status Tahap II", "Menit Tahap II"]
    kades = ["Tidak hadir", "420", "Tidak hadir", "0"]
    assert rows == [
        ["No", "Nama", "Jabatan", "Instansi", "Kecamatan", *stages],
        ["1", "Kades Hutatoruan", "Kepala Bidang", "Hutatoruan I, Kec. Tarutung", "Tarutung", *kades],
        ["2", "Camat Tarutung", "Kepala Bidang", "Tarutung", "Tarutung", "Hadir", "835", "Tidak hadir", "0"],
    ]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "attendance.export"))
    assert entry.detail == "csv, 2 participants mode=daring"


def _pdf_pages(data: bytes) -> list[list[str]]:
    """Each page's lines as laid out, trailing spaces and empty lines dropped."""
    pages = []
    for page in PdfReader(io.BytesIO(data)).pages:
        text = page.extract_text(extraction_mode="layout")
        pages.append([line.rstrip() for line in text.splitlines() if line.strip()])
    return pages


def _table_rows(lines: list[str]) -> list[list[str]]:
    """The rows of the table: lines that start with a row number, split at runs of spaces."""
    rows = [re.split(r"\s{2,}", line.strip()) for line in lines]
    return [row for row in rows if row[0].isdigit() and len(row) >= 5]


HEADER = ["No", "Nama", "Jabatan", "Instansi", "Moda", "Jam Hadir", "Tanda Tangan"]


def test_daftar_hadir_lists_exactly_the_approved_participants_with_their_time(
    session, client, bimtek, panitia
):
    program, stage, _ = bimtek

    response = client.get(f"/admin/stages/{stage.id}/daftar-hadir.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    (lines,) = _pdf_pages(response.data)
    assert [line.strip() for line in lines[:5]] == [
        "DAFTAR HADIR",
        "Bimtek Smart City Tapanuli Utara",
        "Tahap I: Tahap ke-1",
        "Kamis, 24 Juni 2021 s.d. Jumat, 25 Juni 2021 (WIB)",
        "Aula Martua, Kantor Bupati, Tarutung",
    ]
    assert re.split(r"\s{2,}", lines[5].strip()) == HEADER
    sign = "." * 20  # in-person participants sign on a numbered line; online ones do not sign
    assert _table_rows(lines) == [  # by organisation, then name; the pending registration is not listed
        ["1", "Eko Simanjuntak", "Kepala Bidang", "Bappeda", "Luring", f"1. {sign}"],
        ["2", "Fajar Lumbantobing", "Kepala Bidang", "Bappeda", "Luring", f"2. {sign}"],
        ["3", "Gita Nainggolan", "Kepala Bidang", "Dinas Kesehatan", "Luring", f"3. {sign}"],
        ["4", "Ani Siregar", "Kepala Bidang", "Dinas Kominfo", "Luring", "08.50", f"4. {sign}"],
        ["5", "Budi Hutabarat", "Kepala Bidang", "Dinas Kominfo", "Luring", "09.20", f"5. {sign}"],
        ["6", "Kades Hutatoruan", "Kepala Bidang", "Hutatoruan I, Kec.", "Daring", "08.58"],
        ["7", "Camat Tarutung", "Kepala Bidang", "Tarutung", "Daring", "09.00"],
    ]
    assert lines[-1].split() == [*program.title.split(), "·", "Tahap", "I", "Halaman", "1", "dari", "1"]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "attendance.export"))
    assert (entry.actor_id, entry.subject, entry.detail) == (
        panitia.id,
        f"stage:{stage.id}",
        "daftar hadir pdf, 7 participants",
    )


def test_daftar_hadir_of_one_day_has_that_days_times(session, client, bimtek, panitia):
    _, stage, _ = bimtek

    (lines,) = _pdf_pages(client.get(f"/admin/stages/{stage.id}/daftar-hadir.pdf?hari=2021-06-25").data)

    assert lines[3].strip() == "Jumat, 25 Juni 2021 (WIB)"
    times = [[field for field in row if re.fullmatch(r"\d\d\.\d\d", field)] for row in _table_rows(lines)]
    assert [time[0] if time else "" for time in times] == [
        "",
        "",
        "",
        "08.55",
        "09.00",
        "",  # online only on the first day
        "09.05",
    ]
    assert client.get(f"/admin/stages/{stage.id}/daftar-hadir.pdf?hari=2021-06-26").status_code == 404
    assert client.get(f"/admin/stages/{stage.id}/daftar-hadir.pdf?hari=besok").status_code == 404


def test_daftar_hadir_repeats_its_header_on_every_page(session, client, panitia):
    program = factories.program(session, stages=1)
    office = factories.organization(session, name="Dinas Kominfo")
    for number in range(1, 41):
        factories.registration(
            session, program, status=Status.APPROVED, name=f"Peserta {number:02d}", org=office
        )
    session.commit()

    pages = _pdf_pages(client.get(f"/admin/stages/{program.stages[0].id}/daftar-hadir.pdf").data)

    assert len(pages) == 2
    listed = []
    for number, lines in enumerate(pages, start=1):
        assert HEADER in [re.split(r"\s{2,}", line.strip()) for line in lines]
        assert lines[-1].endswith(f"Halaman {number} dari {len(pages)}")
        listed += [(row[0], row[1]) for row in _table_rows(lines)]
    assert listed == [(str(number), f"Peserta {number:02d}") for number in range(1, 41)]


def test_check_ins_count_once_across_both_scans_in_the_matrix(session, bimtek):
    program, stage, people = bimtek

    matrix = services.program_matrix(
        session, program, services.approved_registrations(session, program), now=AFTER
    )

    assert matrix.cell(people["ani"], stage).minutes_present == 840
    assert session.query(CheckIn).filter_by(registration_id=people["ani"].id).count() == 2
    assert matrix.summaries[stage.id] == {HADIR: 2, TELAT: 1, IZIN: 1, ABSEN: 3, BELUM: 0}
