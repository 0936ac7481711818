"""The reader of Zoom's participants CSV: the meeting summary, the participant table, the time zone,
waiting-room rows. Files that cannot be read are in test_meeting_reports.py (answered on the page)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from workshop.attendance import reader

SAMPLE = Path(__file__).parent / "data" / "zoom_participants_tahap2.csv"


def july(day, hour, minute=0, second=0):
    return datetime(2021, 7, day, hour, minute, second, tzinfo=UTC) - timedelta(hours=7)


def test_the_sample_report_is_read_after_its_meeting_header_in_the_programme_time_zone():
    report = reader.parse_report(SAMPLE.read_bytes(), "Asia/Jakarta")
    rows = report.rows

    assert report.host_email == "kominfo@contoh.go.id"  # the summary's User Email
    assert len(rows) == 11
    assert rows[1] == reader.ReportRow(
        row_number=6,
        name="Camat Siatas Barita",
        email="hotman.simanjuntak@contoh.go.id",
        joined_at=july(15, 8, 52, 10),
        left_at=july(15, 10, 31, 40),
    )
    assert rows[5].name == "Drs. Junjungan Situmorang, M.Si"


def test_newer_zoom_columns_and_waiting_room_rows():
    data = (
        b"Name (original name),Email,Join time,Leave time,Duration (minutes),Guest,In waiting room\n"
        b"Rosmaida,,07/15/2021 08:50:00 AM,07/15/2021 08:58:00 AM,8,Yes,Yes\n"
        b"Rosmaida,,07/15/2021 08:58:00 AM,07/15/2021 04:00:00 PM,422,Yes,No\n"
    )

    report = reader.parse_report(data, "Asia/Makassar")
    (row,) = report.rows

    assert report.host_email == ""  # no meeting summary: no host known
    assert (row.row_number, row.joined_at, row.left_at) == (3, july(15, 7, 58), july(15, 15))
