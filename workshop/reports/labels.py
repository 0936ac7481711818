"""Words shown for statuses and modes in the reports, the exports and the daftar hadir."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from workshop.attendance.models import AttendanceStatus
from workshop.registration.models import Mode

ATTENDANCE_LABELS = {
    AttendanceStatus.HADIR: _l("Present"),
    AttendanceStatus.TERLAMBAT: _l("Late"),
    AttendanceStatus.IZIN: _l("Excused"),
    AttendanceStatus.TIDAK_HADIR: _l("Absent"),
    AttendanceStatus.BELUM_DIMULAI: _l("Not started"),
}
# Short words for a column: "Luring" / "Daring" in Indonesian.
MODE_SHORT = {Mode.LURING: _l("In person"), Mode.DARING: _l("Remote")}


def status_label(status: AttendanceStatus) -> str:
    return str(ATTENDANCE_LABELS[status])


def mode_label(mode: Mode | None) -> str:
    return str(MODE_SHORT[mode]) if mode is not None else ""
