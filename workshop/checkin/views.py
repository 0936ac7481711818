"""The petugas' scanner pages: the stage picker, the scanner page and its service worker. The
scanner's JSON API is api.py."""

from __future__ import annotations

from flask import current_app, make_response, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from workshop import clock, i18n, web
from workshop.auth.permissions import door_staff_required
from workshop.checkin import queries
from workshop.checkin.api import BATCH_MAX, CODE_MAX, DESK_MAX, SEARCH_MAX
from workshop.checkin.blueprint import bp
from workshop.checkin.messages import (
    MESSAGES,
    already_message,
    day_ended_message,
    stage_ended_message,
    stage_not_started_message,
    too_early_message,
)
from workshop.checkin.models import ScanResult
from workshop.db import db
from workshop.programs.models import Stage
from workshop.programs.windows import stage_window
from workshop.tickets import codes

# Where the browser has no BarcodeDetector, the scanner page decodes with ZXing's WebAssembly (from
# static/vendor): compiling it needs 'wasm-unsafe-eval' (no eval of JavaScript), on that page only.
SCANNER_CSP = web.CONTENT_SECURITY_POLICY.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'")


@bp.route("/checkin")
@door_staff_required
def index():
    now = clock.now()
    held_today, upcoming, past = queries.stages_for_picker(db.session, now)
    running = {stage.id for stage in held_today if queries.is_running(stage, now)}
    return render_template(
        "checkin/index.html", held_today=held_today, upcoming=upcoming, past=past, running=running
    )


@bp.route("/checkin/sw.js")
def service_worker():
    """The scanner's service worker (static/js/scanner-sw.js), served here so that its scope can be
    /checkin/ (a worker controls only pages under its own path). Public: it holds no data, and the
    browser re-fetches it to check for updates even after the login has ended."""
    response = send_from_directory(current_app.static_folder, "js/scanner-sw.js", max_age=0)
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/checkin/stages/<int:stage_id>")
@door_staff_required
def scanner(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    config = {
        "stageId": stage.id,
        "stage": {
            "timezone": stage.program.timezone,
            "zone": i18n.zone_abbreviation(stage.program.timezone),
            "days": [d.isoformat() for d in queries.stage_days(stage)],
            "lastDate": queries.last_date(stage).isoformat(),
            "windows": queries.check_in_windows(stage),
            # Each window's opening and closing as the page says them: 'Kamis, 24 Juni 2021, pukul 07.00 WIB'.
            "windowLabels": [
                [
                    i18n.format_datetime_long(moment, stage.program.timezone, i18n.current_language())
                    for moment in span
                ]
                for span in stage_window(stage).check_in_windows()
            ],
        },
        "csrf": generate_csrf(),
        "urls": {
            "checkin": url_for("checkin.api_check_in", stage_id=stage.id),
            "batch": url_for("checkin.api_check_in_batch", stage_id=stage.id),
            "roster": url_for("checkin.api_roster", stage_id=stage.id),
            "search": url_for("checkin.api_search", stage_id=stage.id),
            "undo": url_for("checkin.api_undo", check_in_id=0).replace("/0/", "/{id}/"),
            "barcodeDetector": url_for("static", filename="vendor/barcode-detector/ponyfill.js"),
            "barcodeDetectorCore": url_for("static", filename="vendor/barcode-detector/zxing-exported.js"),
            "zxingWasm": url_for("static", filename="vendor/barcode-detector/zxing_reader.wasm"),
            "login": url_for("auth.login", next=request.full_path.rstrip("?")),
        },
        "texts": _scanner_texts(),
        # What the server parses and accepts (workshop/tickets/codes.py, the limits of api.py).
        "tickets": {
            "qrPrefix": codes.QR_PREFIX,
            "secretAlphabet": codes.SECRET_ALPHABET,
            "secretLength": codes.SECRET_LENGTH,
            "codeLength": codes.CODE_LENGTH,
        },
        "limits": {
            "desk": DESK_MAX,
            "code": CODE_MAX,
            "search": SEARCH_MAX,
            "searchResults": queries.SEARCH_LIMIT,
            "batch": BATCH_MAX,
        },
    }
    # Whether a scan can be recorded now: the page shows the scanning controls only then (its
    # script follows the windows from there on, by the device's clock).
    check_in_state = stage_window(stage).check_in_state(clock.now())
    response = make_response(
        render_template("checkin/scanner.html", stage=stage, config=config, check_in_state=check_in_state)
    )
    response.headers["Content-Security-Policy"] = SCANNER_CSP
    return response


def _scanner_texts() -> dict[str, str]:
    """The strings static/js/scanner/ shows, translated here (the page passes them in a JSON block)."""
    return {
        "ok": str(MESSAGES[ScanResult.OK]),
        "okModeChanged": str(MESSAGES[ScanResult.OK_MODE_CHANGED]),
        "wrongDay": str(MESSAGES[ScanResult.WRONG_DAY]),
        "tooEarly": too_early_message("{time}"),
        "dayEnded": day_ended_message("{time}"),
        "stageNotStarted": stage_not_started_message("{time}"),
        "stageEnded": stage_ended_message("{time}"),
        "closedBefore": _("Check-in is not open yet: this stage has not started. Check-in opens on {time}."),
        "closedBetween": _("Today's check-in has closed. The next check-in opens on {time}."),
        "closedAfter": _("This stage ended on {time}: check-in is closed, scans are no longer recorded."),
        "unknownCode": str(MESSAGES[ScanResult.UNKNOWN_CODE]),
        "notOnDevice": _("Not on this device's list: it will be checked when the network is back"),
        "already": already_message("{time}", "{desk}"),
        "offline": _("No connection"),
        "online": _("Connected"),
        "waiting": _("{n} waiting to be sent"),
        "savedOffline": _("saved on this device, sent when the network is back"),
        "undo": _("Undo"),
        "undone": _("Check-in undone"),
        "undoFailed": _("Could not undo: no connection"),
        "cameraStart": _("Start camera"),
        "cameraStop": _("Stop camera"),
        "cameraError": _("The camera could not be started: allow camera access, or type the code."),
        "cameraNone": _("This browser cannot use the camera here: type the code or search instead."),
        "searchNone": _("No one found."),
        "searchOffline": _("Offline: searching this device's list."),
        "checkInButton": _("Check in"),
        "checkedInAt": _("checked in at {time}, {desk}"),
        "rosterCount": _("{n} participants on this device"),
        "rosterStale": _("List from {time}; could not refresh it."),
        "sessionExpired": _("Your login has expired: log in again. Scans waiting here are kept."),
        "notAllowed": _("Your account may not check people in."),
        "deskPrompt": _("Desk name (e.g. Meja 1)"),
        "deskFirst": _("Name this desk first: {codes} will be checked in as soon as you save."),
        "lastScan": _("Last scan"),
    }
