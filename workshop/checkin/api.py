"""The scanner's JSON API: check in (one scan, or an offline desk's queue), the stage's roster,
search, undo.

It answers JSON only, errors included (`{"error": code, "message": translated text}`).
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
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge

from workshop import clock, i18n
from workshop.auth.permissions import door_staff_required
from workshop.bodies import accepts_body
from workshop.checkin import queries, services
from workshop.checkin.blueprint import bp
from workshop.checkin.messages import (
    MESSAGES,
    already_message,
    day_ended_message,
    earlier_kept_message,
    result_message,
    stage_ended_message,
    stage_not_started_message,
    too_early_message,
)
from workshop.checkin.models import CheckIn, ScanMethod, ScanResult
from workshop.db import db
from workshop.extensions import csrf
from workshop.programs.models import Stage
from workshop.programs.windows import stage_window
from workshop.realtime import notify_attendance_changed
from workshop.registration.models import Registration, Status
from workshop.text import clean_line
from workshop.tickets import codes

SCAN_BODY_LIMIT = 4 * 1024
BATCH_BODY_LIMIT = 512 * 1024
BATCH_MAX = 500
CODE_MAX = 200
DESK_MAX = 60
SEARCH_MIN, SEARCH_MAX = 2, 100
NONCE = re.compile(r"[A-Za-z0-9_-]{8,64}")
SCAN_METHODS = frozenset(method.value for method in ScanMethod)
# The refusals whose message names a moment of the stage's check-in windows.
OUTSIDE_WINDOW = frozenset(
    {ScanResult.TOO_EARLY, ScanResult.DAY_ENDED, ScanResult.STAGE_NOT_STARTED, ScanResult.STAGE_ENDED}
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


def _unknown_stage() -> ApiError:
    return ApiError(404, "unknown_stage", _("This stage does not exist."))


def _stage(stage_id: int) -> Stage:
    stage = queries.stage(db.session, stage_id)
    if stage is None:
        raise _unknown_stage()
    return stage


def _scan_stage(stage_id: int) -> queries.ScanStage:
    stage = queries.scan_stage(db.session, stage_id)
    if stage is None:
        raise _unknown_stage()
    return stage


def _too_large() -> ApiError:
    return ApiError(413, "too_large", _("The request is too large."))


def _json_body(limit: int) -> Any:
    if request.content_length is not None and request.content_length > limit:
        raise _too_large()
    request.max_content_length = limit
    try:
        body = request.get_data(cache=True)  # usually already read by the app's before-request hook
    except RequestEntityTooLarge:
        raise _too_large() from None
    if len(body) > limit:
        raise _too_large()
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
    if not isinstance(method, str) or method not in SCAN_METHODS:  # a list or an object is unhashable
        raise ApiError(400, "bad_method", _("Unknown scan method."))
    return ScanInput(code, desk_name, nonce, ScanMethod(method), _scan_time(data.get("scanned_at")))


def _scan_time(value: Any) -> datetime | None:
    """The scan time in UTC; refused without its UTC offset, or when UTC has no such moment
    ("0001-01-01T00:00+14:00" is in the year 0)."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) <= 40:
        try:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                return moment.astimezone(UTC)
        except (ValueError, OverflowError):
            pass
    raise ApiError(
        400, "bad_scanned_at", _("The scan time must be an ISO 8601 date and time with its UTC offset.")
    )


def _clock(moment: datetime, stage: services.AnyStage) -> str:
    return i18n.format_clock(moment, stage.program.timezone)


def _person(registration: Registration) -> dict:
    person = registration.person
    return {"name": person.name, "position": person.position, "organization": person.organization.label}


def _ticket_person(ticket: services.Ticket) -> dict:
    return {"name": ticket.name, "position": ticket.position, "organization": ticket.organization}


def _message(outcome: services.ScanOutcome) -> str:
    stage, first, attempt = outcome.stage, outcome.first, outcome.attempt
    if outcome.result == ScanResult.ALREADY_CHECKED_IN and first is not None:
        return already_message(_clock(first.scanned_at, stage), first.desk)
    if outcome.result == ScanResult.EARLIER_SCAN_KEPT and attempt.replaced_scanned_at is not None:
        return earlier_kept_message(
            _clock(attempt.scanned_at, stage),
            _clock(attempt.replaced_scanned_at, stage),
            attempt.replaced_desk or "",
        )
    if outcome.result in OUTSIDE_WINDOW:
        _result, moment = services.outside_window(stage_window(stage), attempt.scanned_at)
        if moment is not None:
            return _outside_window_message(stage, outcome.result, moment)
    return result_message(outcome.result)


def _outside_window_message(stage: services.AnyStage, result: ScanResult, moment: datetime) -> str:
    """Between two days of the stage, the time of day ('07.00 WIB'); before or after the stage,
    the day as well ('Kamis, 24 Juni 2021, pukul 07.00 WIB')."""
    if result == ScanResult.TOO_EARLY:
        return too_early_message(_clock(moment, stage))
    if result == ScanResult.DAY_ENDED:
        return day_ended_message(_clock(moment, stage))
    long = i18n.format_datetime_long(moment, stage.program.timezone, i18n.current_language())
    return (
        stage_not_started_message(long)
        if result == ScanResult.STAGE_NOT_STARTED
        else stage_ended_message(long)
    )


def _outcome_json(outcome: services.ScanOutcome) -> dict:
    stage, first = outcome.stage, outcome.first
    message = _message(outcome)
    undo_until = None
    if outcome.colour == "green" and first is not None and first.undone_at is None:
        undo_until = (first.received_at + services.UNDO_WINDOW).isoformat()
    return {
        "result": outcome.result.value,
        "colour": outcome.colour,
        "message": message,
        "person": _ticket_person(outcome.ticket) if outcome.ticket is not None else None,
        "first": {"time": _clock(first.scanned_at, stage), "desk": first.desk} if first is not None else None,
        "check_in_id": first.id if first is not None else None,
        "undo_until": undo_until,
    }


def _check_in(stage: services.AnyStage | int, scan: ScanInput, now: datetime) -> services.ScanOutcome:
    """The scan's outcome; a stage given by its id is read with the ticket (404 if there is none)."""
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
    except services.CheckInError as error:
        if error.code == "unknown_stage":
            raise _unknown_stage() from None
        # nonce_reused: a client bug, never a retry
        raise ApiError(409, error.code, _("This scan id was already used for another scan.")) from None


@bp.route("/api/stages/<int:stage_id>/checkin", methods=["POST"])
@door_staff_required
@api
def api_check_in(stage_id: int):
    try:
        scan = _scan_input(_json_body(SCAN_BODY_LIMIT))
    except ApiError:
        _scan_stage(stage_id)  # an unknown stage is answered first, as the batch's
        raise
    outcome = _check_in(stage_id, scan, clock.now())  # the stage read with the ticket
    answer = _outcome_json(outcome)
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
    stage = _scan_stage(stage_id)
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
            raise _of_scan(error, index) from None
    now = clock.now()
    answers, recorded = [], False  # each answer as the single endpoint would have given it at its turn
    for index, scan in enumerate(scans):
        try:
            outcome = _check_in(stage, scan, now)
        except ApiError as error:  # nonce_reused: the desk drops that scan and sends the rest again
            raise _of_scan(error, index) from None
        answers.append(_outcome_json(outcome))
        recorded = recorded or outcome.result in services.RECORDED
    db.session.commit()
    if recorded:
        notify_attendance_changed(stage_id)
    return jsonify({"results": answers})


def _of_scan(error: ApiError, index: int) -> ApiError:
    """A batch's refusal for one of its scans, naming it: the desk's queue drops the scan at
    `index` and sends the others again (static/js/scanner/queue.js)."""
    message = _("Scan %(number)d: %(message)s", number=index + 1, message=error.message)
    return ApiError(error.status, error.code, message, index=index)


@bp.route("/api/stages/<int:stage_id>/roster")
@door_staff_required
@api
def api_roster(stage_id: int):
    """Everything a desk needs to validate scans while offline. No ticket secret: per ticket the
    HMAC of its secret under the stage's roster key (`mac`), which the device computes of a scan."""
    stage = _stage(stage_id)
    now = clock.now()
    day = queries.today(stage, now)
    entries = queries.roster(db.session, stage)
    secret_key = current_app.config["SECRET_KEY"]
    key = codes.roster_key(stage.id, secret_key)
    registrations = [
        {
            "id": entry.registration.id,
            "mac": codes.roster_mac(key, entry.registration.ticket_secret_with(secret_key)),
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
        for row in queries.day_check_ins(db.session, stage, day)
    }
    content = {
        "stage": {
            "id": stage.id,
            "number": stage.number,
            "title": stage.title,
            "timezone": stage.program.timezone,
            "days": [d.isoformat() for d in queries.stage_days(stage)],
        },
        "day": day.isoformat(),
        "key": key,
        "registrations": registrations,
        "check_ins": check_ins,
    }
    response = jsonify(
        {**content, "version": queries.roster_version(content), "generated_at": now.isoformat()}
    )
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
    found = queries.search(db.session, stage, query)
    checked = {
        row.registration_id: row
        for row in queries.day_check_ins(db.session, stage, queries.today(stage, clock.now()))
    }
    results = []
    for registration in found:
        row = checked.get(registration.id)
        mode = registration.mode_for(stage)
        results.append(
            {
                "registration_id": registration.id,
                **_person(registration),
                "code": codes.format_short_code(registration.ticket_code),
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
        services.undo_check_in(
            db.session, check_in, actor=current_user._get_current_object(), now=clock.now()
        )
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
