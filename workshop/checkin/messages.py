"""What a scan's result says to the desk, translated (the JSON API's messages and the scanner
page's texts)."""

from __future__ import annotations

import functools

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from workshop import i18n
from workshop.checkin.models import ScanResult

MESSAGES = {
    ScanResult.OK: _l("Checked in"),
    ScanResult.OK_MODE_CHANGED: _l("Checked in; registered online, now recorded in the hall"),
    ScanResult.NOT_REGISTERED: _l("Not registered for this programme"),
    ScanResult.NOT_APPROVED: _l("Registration not approved"),
    ScanResult.CANCELLED: _l("Registration cancelled"),
    ScanResult.WRONG_DAY: _l("This stage is not held today"),
    ScanResult.TOO_EARLY: _l("Too early: check-in is not open yet. Nothing was recorded."),
    ScanResult.DAY_ENDED: _l("Check-in closed: today's session has ended. Nothing was recorded."),
    ScanResult.STAGE_NOT_STARTED: _l(
        "This stage has not started: check-in is not open yet. Nothing was recorded."
    ),
    ScanResult.STAGE_ENDED: _l("This stage has ended: check-in is closed. Nothing was recorded."),
    ScanResult.EARLIER_SCAN_KEPT: _l("Checked in by this earlier scan"),
    ScanResult.UNKNOWN_CODE: _l("Unknown code"),
}


def result_message(result: ScanResult) -> str:
    """The result's message (the unknown code's for one without its own) in the current language."""
    return _translated(result if result in MESSAGES else ScanResult.UNKNOWN_CODE, i18n.current_language())


@functools.cache
def _translated(result: ScanResult, language: str) -> str:
    """Translated once per language and process (each scan's answer translating it again cost
    about 0.08 M instructions): the catalogs do not change while the app runs."""
    with force_locale(language):
        return str(MESSAGES[result])


def already_message(time: str, desk_name: str) -> str:
    return _("Already checked in at %(time)s by %(desk)s", time=time, desk=desk_name)


def too_early_message(time: str) -> str:
    return _("Too early: check-in opens at %(time)s. Nothing was recorded.", time=time)


def day_ended_message(time: str) -> str:
    return _("Check-in closed: today's session ended at %(time)s. Nothing was recorded.", time=time)


def stage_not_started_message(moment: str) -> str:
    """`moment`: when the stage's first check-in opens, as 'Kamis, 24 Juni 2021, pukul 07.00 WIB'."""
    return _("This stage has not started: check-in opens on %(moment)s. Nothing was recorded.", moment=moment)


def stage_ended_message(moment: str) -> str:
    """`moment`: when the stage's last check-in closed (its end), in the long form."""
    return _("This stage ended on %(moment)s: check-in is closed. Nothing was recorded.", moment=moment)


def earlier_kept_message(time: str, replaced_time: str, replaced_desk: str) -> str:
    return _(
        "Checked in at %(time)s by this scan; the ticket was also scanned at %(replaced_time)s"
        " by %(replaced_desk)s",
        time=time,
        replaced_time=replaced_time,
        replaced_desk=replaced_desk,
    )
