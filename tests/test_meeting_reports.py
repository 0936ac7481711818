"""Meeting reports (Zoom's participants CSV): import, matching to registrations, the organiser's
review, and the attendance they add up to. The reader and the matching rules alone are in
test_meeting_report_reader.py and test_meeting_report_matching.py."""

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests import factories
from workshop.attendance import attendance, queries, services
from workshop.attendance.models import MeetingReport, MeetingReportRow, RowMatch
from workshop.auth.models import AuditEntry, Role
from workshop.programs.windows import stage_window
from workshop.registration.models import Mode, Status
from workshop.registration.validation import display_phone

SAMPLE = Path(__file__).parent / "data" / "zoom_participants_tahap2.csv"
# The factory programme: Tahap II on 15-16 Juli 2021, each day from 09.00 to 16.00 WIB.
AFTER = datetime(2021, 8, 1, tzinfo=UTC)  # every stage of the factory programme has ended


def july(day, hour, minute=0, second=0):
    return datetime(2021, 7, day, hour, minute, second, tzinfo=UTC) - timedelta(hours=7)


@pytest.fixture
def zoom(session):
    """Tahap II with the people of tests/data/zoom_participants_tahap2.csv."""
    program = factories.program(session, stages=2)

    def person(name, **details):
        registration = factories.registration(
            session, program, status=Status.APPROVED, mode=Mode.DARING, name=name
        )
        for field, value in details.items():
            setattr(registration.person, field, value)
        return registration

    people = {
        "hotman": person("Hotman Simanjuntak", email="hotman.simanjuntak@contoh.go.id"),
        "rosmaida": person("Rosmaida Hutabarat", phone="+6281270001234"),
        "marulam": person("Marulam Sihombing"),
        "junjungan": person("Junjungan Situmorang"),
        "lamhot": person("Lamhot Panggabean"),
        "maria_1": person("Maria Simatupang"),
        "maria_2": person("Maria Simatupang"),
    }
    cancelled = factories.registration(session, program, status=Status.CANCELLED, name="Panitia Kominfo")
    organiser = factories.staff(session, Role.PANITIA)
    session.commit()
    return program, program.stages[1], people, cancelled, organiser


def upload(client, stage, data: bytes, filename="participants_81200002.csv"):
    return client.post(
        f"/admin/stages/{stage.id}/meeting-reports",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def report_rows(session):
    return session.execute(
        select(
            MeetingReportRow.row_number,
            MeetingReportRow.name,
            MeetingReportRow.registration_id,
            MeetingReportRow.match,
            MeetingReportRow.matched_by,
        ).order_by(MeetingReportRow.row_number)
    ).all()


def test_zoom_import_matches_by_email_phone_and_name_and_lists_the_rest_for_review(
    app, session, client, login, zoom
):
    _program, stage, people, _, organiser = zoom
    login(organiser)

    response = upload(client, stage, SAMPLE.read_bytes())

    report = session.scalars(select(MeetingReport)).one()
    assert response.status_code == 303
    assert response.location == f"/admin/meeting-reports/{report.id}"
    ids = {key: registration.id for key, registration in people.items()}
    assert report_rows(session) == [
        (5, "Panitia Kominfo", None, RowMatch.HOST, ""),  # the host's account: not to review
        (6, "Camat Siatas Barita", ids["hotman"], RowMatch.AUTO, "email"),
        (7, "0812 7000 1234 Rosmaida", ids["rosmaida"], RowMatch.AUTO, "phone"),
        (8, "Kades Hutatoruan V (Marulam Sihombing)", ids["marulam"], RowMatch.AUTO, "name"),
        (9, "iPhone Kantor Desa", None, RowMatch.UNMATCHED, ""),
        (10, "Drs. Junjungan Situmorang, M.Si", ids["junjungan"], RowMatch.AUTO, "name"),
        (11, "Camat Siatas Barita", ids["hotman"], RowMatch.AUTO, "email"),
        (12, "Ibu Maria Simatupang", None, RowMatch.UNMATCHED, ""),  # two participants of that name
        (13, "iPhone Kantor Desa", None, RowMatch.UNMATCHED, ""),
        (14, "Camat Siatas Barita", ids["hotman"], RowMatch.AUTO, "email"),
        (15, "Camat Siatas Barita", ids["hotman"], RowMatch.AUTO, "email"),
    ]
    page = client.get(response.location).get_data(as_text=True)
    assert re.search(
        r"Cocok: 7</strong> ·\s+Perlu ditinjau: 3 ·\s+Diabaikan: 0\s+· Tuan rumah rapat \(tidak dihitung\): 1",
        page,
    )
    review = client.get(f"/admin/stages/{stage.id}/meeting-reports/review").get_data(as_text=True)
    assert review.count('data-testid="review-group"') == 2
    assert "Panitia Kominfo" not in review
    text = " ".join(review.split())
    assert "2 kali bergabung: 15/7 09.05 WIB–11.00 WIB, 15/7 11.10 WIB–15.30 WIB · 375 menit" in text
    assert "Lamhot Panggabean — Kepala Bidang" in review


def test_organiser_matches_one_name_ignores_another_and_a_reimport_counts_nothing_twice(
    app, session, client, login, zoom
):
    _program, stage, people, _, organiser = zoom
    login(organiser)
    upload(client, stage, SAMPLE.read_bytes())
    iphone_row = session.scalar(select(MeetingReportRow).where(MeetingReportRow.row_number == 9))
    maria_row = session.scalar(select(MeetingReportRow).where(MeetingReportRow.row_number == 12))
    lamhot = people["lamhot"]
    person = lamhot.person
    choice = f"Lamhot Panggabean — Kepala Bidang, {person.organization.label} ({display_phone(person.phone)})"

    bad = client.post(f"/admin/meeting-report-rows/{iphone_row.id}/match", data={"registration": "Lamhot"})
    matched = client.post(f"/admin/meeting-report-rows/{iphone_row.id}/match", data={"registration": choice})
    ignored = client.post(f"/admin/meeting-report-rows/{maria_row.id}/ignore")
    again = client.post(f"/admin/meeting-report-rows/{maria_row.id}/ignore")

    assert bad.status_code == matched.status_code == ignored.status_code == again.status_code == 303
    review = client.get(f"/admin/stages/{stage.id}/meeting-reports/review").get_data(as_text=True)
    assert "Pilih peserta dari daftar." in review
    assert "2 baris “iPhone Kantor Desa” kini dihitung untuk Lamhot Panggabean." in review
    assert "1 baris “Ibu Maria Simatupang” diabaikan." in review
    assert "Baris ini sudah ditinjau." in review
    assert review.count('data-testid="review-group"') == 0
    rows = {row: (registration, match) for row, _, registration, match, _ in report_rows(session)}
    assert rows[9] == rows[13] == (lamhot.id, RowMatch.MANUAL)
    assert rows[12] == (None, RowMatch.IGNORED)
    assert rows[5] == (None, RowMatch.HOST)
    audit = session.execute(
        select(AuditEntry.action, AuditEntry.subject, AuditEntry.actor_id)
        .where(AuditEntry.action.in_(["meeting_report.match", "meeting_report.ignore"]))
        .order_by(AuditEntry.id)
    ).all()
    assert audit == [
        ("meeting_report.match", f"registration:{lamhot.id}", organiser.id),
        ("meeting_report.ignore", f"stage:{stage.id}", organiser.id),
    ]

    # The same file again adds nothing; a later export with one more row adds that row only.
    same = upload(client, stage, SAMPLE.read_bytes())
    later_export = SAMPLE.read_bytes() + (
        b"0812 7000 1234 Rosmaida,,07/16/2021 09:00:00 AM,07/16/2021 04:00:00 PM,420,Yes,Y,\r\n"
    )
    later = upload(client, stage, later_export, filename="participants_later.csv")

    assert same.status_code == 303 and same.location == f"/admin/stages/{stage.id}/meeting-reports"
    assert "11 baris sudah diimpor dari berkas sebelumnya dan dilewati." in client.get(
        same.location
    ).get_data(as_text=True)
    assert later.status_code == 303
    assert session.scalar(select(func.count()).select_from(MeetingReport)) == 2
    assert session.scalar(select(func.count()).select_from(MeetingReportRow)) == 12
    assert report_rows(session)[-1] == (
        16,
        "0812 7000 1234 Rosmaida",
        people["rosmaida"].id,
        RowMatch.AUTO,
        "phone",
    )
    assert rows == {
        row: (registration, match) for row, _, registration, match, _ in report_rows(session)[:11]
    }


def test_intervals_of_a_rejoining_participant_add_up_to_the_attendance(session, zoom):
    program, stage, people, cancelled, organiser = zoom
    hotman, lamhot = people["hotman"], people["lamhot"]
    services.import_report(session, stage, filename="a.csv", data=SAMPLE.read_bytes(), actor=organiser)
    services.import_report(session, stage, filename="again.csv", data=SAMPLE.read_bytes(), actor=organiser)
    iphone_row = session.scalar(select(MeetingReportRow).where(MeetingReportRow.row_number == 9))
    services.match_row(session, iphone_row, lamhot, actor=organiser)
    services.record_join_click(session, hotman, stage, july(15, 8, 50))
    for minute in range(46):  # the participant page open from 10.00 to 10.45, over the rejoin gap
        services.record_presence(session, hotman, stage, july(15, 10, minute))

    intervals = queries.online_intervals(session, [hotman.id, lamhot.id, cancelled.id], stage)

    assert intervals == {
        hotman.id: [
            (july(15, 8, 50), july(15, 8, 50)),
            (july(15, 8, 52, 10), july(15, 16, 2, 30)),
            (july(16, 8, 57), july(16, 12)),
            (july(16, 12, 55), july(16, 16, 10)),
        ],
        lamhot.id: [(july(15, 9, 5), july(15, 11)), (july(15, 11, 10), july(15, 15, 30))],
        cancelled.id: [],
    }
    rules = attendance.Rules(program.attendance_threshold_percent, program.late_after_minutes)
    result = attendance.compute(
        stage_window(stage), rules, attendance.Evidence(online=tuple(intervals[hotman.id])), AFTER
    )
    # Day 1: 09.00-16.00 (420 min, the 10.31-10.35 gap covered by presence); day 2: 180 + 185 min.
    assert result == attendance.Attendance(
        status=attendance.AttendanceStatus.HADIR,
        mode=Mode.DARING,
        minutes_present=785,
        first_seen=july(15, 8, 50),
    )
    lamhot_result = attendance.compute(
        stage_window(stage), rules, attendance.Evidence(online=tuple(intervals[lamhot.id])), AFTER
    )
    assert (lamhot_result.status, lamhot_result.minutes_present) == (
        attendance.AttendanceStatus.TIDAK_HADIR,
        375,
    )


def test_a_report_of_another_meeting_or_with_unreadable_rows_imports_nothing(
    app, session, client, login, zoom
):
    program, stage, _, _, organiser = zoom
    login(organiser)

    wrong_stage = upload(client, program.stages[0], SAMPLE.read_bytes())
    broken = upload(
        client,
        stage,
        SAMPLE.read_bytes().replace(b"07/15/2021 09:20:00 AM", b"kemarin pagi"),
    )
    not_zoom = upload(client, stage, b"nama,no_hp\nBudi,0812\n")

    assert wrong_stage.status_code == broken.status_code == not_zoom.status_code == 400
    assert "Tidak ada baris laporan ini yang berada dalam hari-hari tahap ini" in wrong_stage.get_data(
        as_text=True
    )
    assert "Baris 10: waktu bergabung “kemarin pagi” bukan tanggal dan jam." in broken.get_data(as_text=True)
    assert "Tabel peserta tidak ditemukan" in not_zoom.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(MeetingReportRow)) == 0


def test_a_row_is_matched_only_to_an_approved_participant_of_the_programme(session, zoom):
    _program, stage, _, cancelled, organiser = zoom
    services.import_report(session, stage, filename="a.csv", data=SAMPLE.read_bytes(), actor=organiser)
    maria_row = session.scalar(select(MeetingReportRow).where(MeetingReportRow.row_number == 12))
    stranger = factories.registration(session, factories.program(session, stages=1), status=Status.APPROVED)

    for registration in (cancelled, stranger):
        with pytest.raises(services.ReviewError) as refused:
            services.match_row(session, maria_row, registration, actor=organiser)
        assert refused.value.code == "not_in_programme"
    assert (maria_row.match, maria_row.registration_id) == (RowMatch.UNMATCHED, None)


def test_a_report_over_the_upload_limit_is_answered_on_the_upload_page_with_the_limit(
    app, session, client, login, zoom
):
    _program, stage, _, _, organiser = zoom
    login(organiser)
    page = client.get(f"/admin/stages/{stage.id}/meeting-reports").get_data(as_text=True)
    assert 'data-testid="upload-limit">CSV, paling besar 5 MB.<' in page

    app.config["MAX_UPLOAD_BYTES"] = 1000
    response = upload(client, stage, SAMPLE.read_bytes())

    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert 'data-testid="upload-error">Berkas terlalu besar: paling besar 1 KB.</p>' in page
    assert 'data-testid="upload-limit">CSV, paling besar 1 KB.<' in page
    assert session.scalar(select(func.count()).select_from(MeetingReportRow)) == 0
