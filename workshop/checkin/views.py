"""The petugas' scanner: the stage picker, the scanner page and its JSON API.

The API answers JSON only, errors included (`{"error": code, "message": translated text}`).
Its POSTs are exempt from the app-wide CSRF hook and checked here instead, so that a missing or
stale token is answered as JSON too (the page sends the token in the X-CSRFToken header).
Each POST commits once, then tells the stage's staff screens that attendance changed.
Nothing here is rate-limited (a desk scans fast); request bodies are capped instead (the offline
batch may be larger than other bodies: workshop/bodies.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any

from flask import current_app, jsonify, make_response, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.exceptions import RequestEntityTooLarge

from workshop import i18n, web
from workshop.auth.permissions import door_staff_required
from workshop.bodies import accepts_body
from workshop.checkin import desk, services, tickets
from workshop.checkin.models import CheckIn, ScanMethod, ScanResult
from workshop.checkin.views import bp
from workshop.db import db, utcnow
from workshop.extensions import csrf
from workshop.programs.models import Stage
from workshop.realtime import notify_attendance_changed
from workshop.registration.models import Registration, Status
from workshop.text import clean_line

SCAN_BODY_LIMIT = 4 * 1024
BATCH_BODY_LIMIT = 512 * 1024
BATCH_MAX = 500
CODE_MAX = 200
DESK_MAX = 60
SEARCH_MIN, SEARCH_MAX = 2, 100
NONCE = re.compile(r"[A-Za-z0-9_-]{8,64}")
# Where the browser has no BarcodeDetector, the scanner page decodes with ZXing's WebAssembly (from
# static/vendor): compiling it needs 'wasm-unsafe-eval' (no eval of JavaScript), on that page only.
SCANNER_CSP = web.CONTENT_SECURITY_POLICY.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'")

MESSAGES = {
    ScanResult.OK: _l("Checked in"),
    ScanResult.OK_MODE_CHANGED: _l("Checked in; registered online, now recorded in the hall"),
    ScanResult.NOT_REGISTERED: _l("Not registered for this programme"),
    ScanResult.NOT_APPROVED: _l("Registration not approved"),
    ScanResult.CANCELLED: _l("Registration cancelled"),
    ScanResult.WRONG_DAY: _l("This stage is not held today"),
    ScanResult.TOO_EARLY: _l("Too early: check-in is not open yet. Nothing was recorded."),
    ScanResult.DAY_ENDED: _l("Check-in closed: today's session has ended. Nothing was recorded."),
    ScanResult.EARLIER_SCAN_KEPT: _l("Checked in by this earlier scan"),
    ScanResult.UNKNOWN_CODE: _l("Unknown code"),
}


def already_message(time: str, desk_name: str) -> str:
    return _("Already checked in at %(time)s by %(desk)s", time=time, desk=desk_name)


def too_early_message(time: str) -> str:
    return _("Too early: check-in opens at %(time)s. Nothing was recorded.", time=time)


def day_ended_message(time: str) -> str:
    return _("Check-in closed: today's session ended at %(time)s. Nothing was recorded.", time=time)


def earlier_kept_message(time: str, replaced_time: str, replaced_desk: str) -> str:
    return _(
        "Checked in at %(time)s by this scan; the ticket was also scanned at %(replaced_time)s"
        " by %(replaced_desk)s",
        time=time,
        replaced_time=replaced_time,
        replaced_desk=replaced_desk,
    )


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any):
        super().__init__(code)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def _error(status: int, code: str, message: str, **extra: Any):
    return jsonify({"error": code, "message": message, **extra}), status


def api(view: Callable) -> Callable:
    """JSON errors, and the CSRF check for POSTs (as JSON: the app-wide hook answers HTML)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        try:
            if request.method == "POST" and current_app.config.get("WTF_CSRF_ENABLED", True):
                try:
                    csrf.protect()
                except CSRFError:
                    raise ApiError(400, "csrf", _("The page has expired. Reload it and try again.")) from None
            return view(*args, **kwargs)
        except ApiError as error:
            db.session.rollback()
            return _error(error.status, error.code, error.message, **error.extra)

    return csrf.exempt(wrapped)


def _stage(stage_id: int) -> Stage:
    stage = db.session.get(Stage, stage_id)
    if stage is None:
        raise ApiError(404, "unknown_stage", _("This stage does not exist."))
    return stage


def _json_body(limit: int) -> Any:
    too_large = ApiError(413, "too_large", _("The request is too large."))
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    request.max_content_length = limit
    try:
        body = request.get_data(cache=True)  # usually already read by the app's before-request hook
    except RequestEntityTooLarge:
        raise too_large from None
    if len(body) > limit:
        raise too_large
    data = request.get_json(force=True, silent=True)
    if data is None:
        raise ApiError(400, "bad_json", _("The request is not valid JSON."))
    return data


@dataclass(frozen=True)
class ScanInput:
    code: str
    desk: str
    nonce: str
    method: ScanMethod
    scanned_at: datetime | None


def _scan_input(data: Any) -> ScanInput:
    if not isinstance(data, dict):
        raise ApiError(400, "bad_scan", _("A scan must be a JSON object."))
    code = clean_line(data.get("code")) if isinstance(data.get("code"), str) else None
    if not code:
        raise ApiError(400, "missing_code", _("Scan or type a ticket code."))
    if len(code) > CODE_MAX:
        raise ApiError(400, "bad_code", _("The code is too long."))
    desk_name = clean_line(data.get("desk")) if isinstance(data.get("desk"), str) else None
    if not desk_name:
        raise ApiError(400, "missing_desk", _("Choose the desk name first."))
    if len(desk_name) > DESK_MAX:
        raise ApiError(
            400, "bad_desk", _("The desk name is too long (at most %(max)d characters).", max=DESK_MAX)
        )
    nonce = data.get("nonce")
    if not isinstance(nonce, str) or not NONCE.fullmatch(nonce):
        raise ApiError(400, "bad_nonce", _("The scan has no valid identifier (nonce)."))
    method = data.get("method")
    if method not in {m.value for m in ScanMethod}:
        raise ApiError(400, "bad_method", _("Unknown scan method."))
    return ScanInput(code, desk_name, nonce, ScanMethod(method), _scan_time(data.get("scanned_at")))


def _scan_time(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = None
    if isinstance(value, str) and len(value) <= 40:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
    if moment is None or moment.tzinfo is None:
        raise ApiError(
            400, "bad_scanned_at", _("The scan time must be an ISO 8601 date and time with its UTC offset.")
        )
    return moment


def _clock(moment: datetime, stage: Stage) -> str:
    return i18n.format_clock(moment, stage.program.timezone)


def _person(registration: Registration) -> dict:
    person = registration.person
    return {"name": person.name, "position": person.position, "organization": person.organization.label}


def _message(stage: Stage, outcome: services.ScanOutcome) -> str:
    first, attempt = outcome.check_in, outcome.attempt
    if outcome.result == ScanResult.ALREADY_CHECKED_IN and first is not None:
        return already_message(_clock(first.scanned_at, stage), first.desk)
    if outcome.result == ScanResult.EARLIER_SCAN_KEPT and attempt.replaced_scanned_at is not None:
        return earlier_kept_message(
            _clock(attempt.scanned_at, stage),
            _clock(attempt.replaced_scanned_at, stage),
            attempt.replaced_desk,
        )
    if outcome.result in (ScanResult.TOO_EARLY, ScanResult.DAY_ENDED):
        _result, moment = services.outside_window(services.stage_window(stage), attempt.scanned_at)
        if moment is not None:
            as_text = too_early_message if outcome.result == ScanResult.TOO_EARLY else day_ended_message
            return as_text(_clock(moment, stage))
    return str(MESSAGES.get(outcome.result, MESSAGES[ScanResult.UNKNOWN_CODE]))


def _outcome_json(stage: Stage, outcome: services.ScanOutcome) -> dict:
    first = outcome.check_in
    message = _message(stage, outcome)
    undo_until = None
    if outcome.colour == "green" and first is not None and first.undone_at is None:
        undo_until = (first.received_at + services.UNDO_WINDOW).isoformat()
    return {
        "result": outcome.result.value,
        "colour": outcome.colour,
        "message": message,
        "person": _person(outcome.registration) if outcome.registration is not None else None,
        "first": {"time": _clock(first.scanned_at, stage), "desk": first.desk} if first is not None else None,
        "check_in_id": first.id if first is not None else None,
        "undo_until": undo_until,
    }


def _check_in(stage: Stage, scan: ScanInput, now: datetime) -> services.ScanOutcome:
    try:
        return services.check_in(
            db.session,
            stage=stage,
            code=scan.code,
            desk=scan.desk,
            actor=current_user._get_current_object(),
            client_nonce=scan.nonce,
            secret_key=current_app.config["SECRET_KEY"],
            scanned_at=scan.scanned_at,
            method=scan.method,
            now=now,
        )
    except services.CheckInError as error:  # nonce_reused: a client bug, never a retry
        raise ApiError(409, error.code, _("This scan id was already used for another scan.")) from None


@bp.route("/api/stages/<int:stage_id>/checkin", methods=["POST"])
@door_staff_required
@api
def api_check_in(stage_id: int):
    stage = _stage(stage_id)
    scan = _scan_input(_json_body(SCAN_BODY_LIMIT))
    outcome = _check_in(stage, scan, utcnow())
    answer = _outcome_json(stage, outcome)
    db.session.commit()
    if outcome.result in services.RECORDED:
        notify_attendance_changed(stage_id)
    return jsonify(answer)


@bp.route("/api/stages/<int:stage_id>/checkin/batch", methods=["POST"])
@accepts_body(BATCH_BODY_LIMIT)
@door_staff_required
@api
def api_check_in_batch(stage_id: int):
    """An offline desk's queue: each scan with its own nonce and scan time; answers in order."""
    stage = _stage(stage_id)
    data = _json_body(BATCH_BODY_LIMIT)
    items = data.get("scans") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ApiError(400, "bad_batch", _("Send the scans as a list."))
    if len(items) > BATCH_MAX:
        raise ApiError(400, "too_many", _("At most %(max)d scans at a time.", max=BATCH_MAX))
    scans = []
    for index, item in enumerate(items):
        try:
            scans.append(_scan_input(item))
        except ApiError as error:
            message = _("Scan %(number)d: %(message)s", number=index + 1, message=error.message)
            raise ApiError(400, error.code, message, index=index) from None
    now = utcnow()
    answers, recorded = [], False  # each answer as the single endpoint would have given it at its turn
    for scan in scans:
        outcome = _check_in(stage, scan, now)
        answers.append(_outcome_json(stage, outcome))
        recorded = recorded or outcome.result in services.RECORDED
    db.session.commit()
    if recorded:
        notify_attendance_changed(stage_id)
    return jsonify({"results": answers})


@bp.route("/api/stages/<int:stage_id>/roster")
@door_staff_required
@api
def api_roster(stage_id: int):
    """Everything a desk needs to validate scans while offline. No ticket secret: per ticket the
    HMAC of its secret under the stage's roster key (`mac`), which the device computes of a scan."""
    stage = _stage(stage_id)
    now = utcnow()
    day = desk.today(stage, now)
    entries = desk.roster(db.session, stage)
    secret_key = current_app.config["SECRET_KEY"]
    key = tickets.roster_key(stage.id, secret_key)
    registrations = [
        {
            "id": entry.registration.id,
            "mac": tickets.roster_mac(key, entry.registration.ticket_secret_with(secret_key)),
            "code": entry.registration.ticket_code,
            **_person(entry.registration),
            "mode": entry.mode,
        }
        for entry in entries
    ]
    check_ins = {
        str(row.registration_id): {
            "time": _clock(row.scanned_at, stage),
            "desk": row.desk,
            "check_in_id": row.id,
        }
        for row in desk.day_check_ins(db.session, stage, day)
    }
    content = {
        "stage": {
            "id": stage.id,
            "number": stage.number,
            "title": stage.title,
            "timezone": stage.program.timezone,
            "days": [d.isoformat() for d in desk.stage_days(stage)],
        },
        "day": day.isoformat(),
        "key": key,
        "registrations": registrations,
        "check_ins": check_ins,
    }
    response = jsonify({**content, "version": desk.roster_version(content), "generated_at": now.isoformat()})
    response.headers["Cache-Control"] = "no-store"  # names, positions and short codes of the stage
    return response


@bp.route("/api/stages/<int:stage_id>/search")
@door_staff_required
@api
def api_search(stage_id: int):
    stage = _stage(stage_id)
    query = clean_line(request.args.get("q"))
    if len(query) < SEARCH_MIN:
        raise ApiError(400, "query_too_short", _("Type at least %(min)d letters.", min=SEARCH_MIN))
    if len(query) > SEARCH_MAX:
        raise ApiError(400, "query_too_long", _("The search is too long."))
    found = desk.search(db.session, stage, query)
    checked = {
        row.registration_id: row for row in desk.day_check_ins(db.session, stage, desk.today(stage, utcnow()))
    }
    results = []
    for registration in found:
        row = checked.get(registration.id)
        mode = registration.mode_for(stage)
        results.append(
            {
                "registration_id": registration.id,
                **_person(registration),
                "code": tickets.format_short_code(registration.ticket_code),
                "status": registration.status.value,
                "note": _status_note(registration.status),
                "mode": mode.value if mode else None,
                "checked_in": {"time": _clock(row.scanned_at, stage), "desk": row.desk} if row else None,
            }
        )
    return jsonify({"results": results})


def _status_note(status: Status) -> str | None:
    if status == Status.APPROVED:
        return None
    if status == Status.CANCELLED:
        return str(MESSAGES[ScanResult.CANCELLED])
    return str(MESSAGES[ScanResult.NOT_APPROVED])


@bp.route("/api/checkins/<int:check_in_id>/undo", methods=["POST"])
@door_staff_required
@api
def api_undo(check_in_id: int):
    check_in = db.session.get(CheckIn, check_in_id)
    if check_in is None:
        raise ApiError(404, "unknown_check_in", _("This check-in does not exist."))
    try:
        services.undo_check_in(db.session, check_in, actor=current_user._get_current_object(), now=utcnow())
    except services.CheckInError as error:
        if error.code == "already_undone":
            raise ApiError(409, error.code, _("This check-in was already undone.")) from None
        raise ApiError(
            409,
            error.code,
            _(
                "Too late to undo: a check-in can be undone within %(minutes)d minutes.",
                minutes=int(services.UNDO_WINDOW.total_seconds() // 60),
            ),
        ) from None
    stage_id = check_in.stage_id
    db.session.commit()
    notify_attendance_changed(stage_id)
    return jsonify({"ok": True, "message": _("Check-in undone")})


@bp.route("/checkin")
@door_staff_required
def index():
    now = utcnow()
    held_today, upcoming, past = desk.stages_for_picker(db.session, now)
    running = {stage.id for stage in held_today if desk.is_running(stage, now)}
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
            "days": [d.isoformat() for d in desk.stage_days(stage)],
            "windows": desk.check_in_windows(stage),
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
        # What the server parses and accepts (workshop/checkin/tickets.py, the limits above).
        "tickets": {
            "qrPrefix": tickets.QR_PREFIX,
            "secretAlphabet": tickets.SECRET_ALPHABET,
            "secretLength": tickets.SECRET_LENGTH,
            "codeLength": tickets.CODE_LENGTH,
        },
        "limits": {
            "desk": DESK_MAX,
            "code": CODE_MAX,
            "search": SEARCH_MAX,
            "searchResults": desk.SEARCH_LIMIT,
            "batch": BATCH_MAX,
        },
    }
    response = make_response(render_template("checkin/scanner.html", stage=stage, config=config))
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
