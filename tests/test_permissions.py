"""Every route and every Socket.IO event x every role: allowed, or refused (403 or a redirect to\nlog in; a refusal code in the ack, or no connection at all)."""

import pytest
from flask import url_for
from sqlalchemy import select

from tests import factories
from workshop.auth.models import Role
from workshop.db import db, utcnow
from workshop.extensions import socketio
from workshop.live import services as live_services
from workshop.programs.models import AgendaItem
from workshop.registration import links, services
from workshop.registration.models import Mode, Status
from workshop.reminders.models import SchedulerHeartbeat

PUBLIC = "public"
STAFF = "staff"
ORGANISER = "organiser"
PARTICIPANT = "participant"
DOOR = "door"  # check-in staff: petugas, panitia, admin
LIVE = "live"  # who runs Q&A and polls: narasumber, panitia, admin
LIVE_OR_PARTICIPANT = "live_or_participant"
REVIEWER = "reviewer"  # assignments: organisers, and a narasumber (the ones named for, past this check)
NARASUMBER = "narasumber"
GATEWAY = "gateway"  # a WhatsApp gateway's webhook: its secret (token, signature), never a role

# endpoint -> who may use it. A new route must be added here, or test_every_route_is_listed fails.
ACCESS = {
    "static": PUBLIC,
    "health.healthz": PUBLIC,
    "auth.home": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,
    "auth.personal_link": PUBLIC,
    "auth.link_needed": PUBLIC,
    "auth.set_language": PUBLIC,
    "registration.register": PUBLIC,
    "registration.registered": PUBLIC,
    "programs.index": STAFF,
    "programs.new_program": ORGANISER,
    "programs.detail": ORGANISER,
    "programs.edit_program": ORGANISER,
    "programs.new_stage": ORGANISER,
    "programs.edit_stage": ORGANISER,
    "programs.move_stage": ORGANISER,
    "programs.add_agenda_item": ORGANISER,
    "programs.delete_agenda_item": ORGANISER,
    "programs.organizations": ORGANISER,
    "programs.edit_organization": ORGANISER,
    "registration.review": ORGANISER,
    "registration.change_status": ORGANISER,
    "registration.registration_detail": ORGANISER,
    "registration.manage_link": ORGANISER,
    "registration.approve_online": ORGANISER,
    "registration.send_link": ORGANISER,
    "registration.send_links": ORGANISER,
    "registration.roster_upload": ORGANISER,
    "registration.roster_preview": ORGANISER,
    "registration.roster_columns_choice": ORGANISER,
    "registration.roster_confirm": ORGANISER,
    "registration.roster_template": ORGANISER,
    "registration.my_programs": PARTICIPANT,
    "registration.participant_page": PARTICIPANT,
    "registration.participant_calendar": PARTICIPANT,
    "tickets.my_ticket_svg": PARTICIPANT,
    "tickets.my_ticket_png": PARTICIPANT,
    "tickets.registration_ticket_png": DOOR,
    "tickets.registration_badge_pdf": DOOR,
    "tickets.stage_badges_pdf": DOOR,
    "attendance.join": PARTICIPANT,
    "attendance.presence": PARTICIPANT,
    "attendance.meeting_reports": ORGANISER,
    "attendance.meeting_report": ORGANISER,
    "attendance.meeting_report_review": ORGANISER,
    "attendance.meeting_report_row_match": ORGANISER,
    "attendance.meeting_report_row_ignore": ORGANISER,
    "checkin.index": DOOR,
    "checkin.scanner": DOOR,
    "checkin.service_worker": PUBLIC,
    "checkin.api_check_in": DOOR,
    "checkin.api_check_in_batch": DOOR,
    "checkin.api_roster": DOOR,
    "checkin.api_search": DOOR,
    "checkin.api_undo": DOOR,
    "reports.dashboard": DOOR,
    "reports.dashboard_json": DOOR,
    "reports.attendance_report": ORGANISER,
    "reports.attendance_xlsx": ORGANISER,
    "reports.attendance_csv": ORGANISER,
    "reports.daftar_hadir": ORGANISER,
    "reports.attendance_detail": ORGANISER,
    "reminders.rules": ORGANISER,
    "reminders.set_up": ORGANISER,
    "reminders.new_rule": ORGANISER,
    "reminders.edit_rule": ORGANISER,
    "reminders.delete_rule": ORGANISER,
    "reminders.rule_for_stage": ORGANISER,
    "reminders.stage_log": ORGANISER,
    "reminders.stage_log_json": ORGANISER,
    "reminders.retry": ORGANISER,
    "reminders.announce": ORGANISER,
    "reminders.preview": ORGANISER,
    "reminders.send_test": ORGANISER,
    "reminders.my_contact": ORGANISER,
    "reminders.participant_messages": ORGANISER,
    "reminders.outbox": ORGANISER,
    "reminders.outbox_message": ORGANISER,
    "reminders.outbox_message_html": ORGANISER,
    "evaluation.participant_form": PARTICIPANT,
    "evaluation.questionnaire": ORGANISER,
    "evaluation.create_default": ORGANISER,
    "evaluation.add_item": ORGANISER,
    "evaluation.edit_item": ORGANISER,
    "evaluation.remove_item": ORGANISER,
    "evaluation.set_deadline": ORGANISER,
    "evaluation.results": ORGANISER,
    "evaluation.results_xlsx": ORGANISER,  # participants' names and answers
    "evaluation.results_csv": ORGANISER,
    "live.participant": PARTICIPANT,
    "live.state": LIVE_OR_PARTICIPANT,
    "live.ask": PARTICIPANT,
    "live.upvote": PARTICIPANT,
    "live.vote": PARTICIPANT,
    "live.moderate": LIVE,
    "live.control": LIVE,
    "live.projector": LIVE,
    "live.settings": LIVE,
    "live.new_poll": LIVE,
    "live.edit_poll": LIVE,
    "live.delete_poll": LIVE,
    "live.poll_action": LIVE,
    "live.hall_count": STAFF,  # the facilitator, or a petugas in the hall
    "live.hall_count_page": STAFF,
    "live.results_csv": ORGANISER,  # voters' names and agencies
    "live.results_xlsx": ORGANISER,
    "live.hall_csv": ORGANISER,  # the hall count of a poll (no names, but an export as the others)
    "certificates.index": ORGANISER,
    "certificates.save_settings": ORGANISER,
    "certificates.upload_logo": ORGANISER,
    "certificates.logo": ORGANISER,
    "certificates.generate": ORGANISER,
    "certificates.progress": ORGANISER,
    "certificates.download_zip": ORGANISER,
    "certificates.certificate_pdf": ORGANISER,
    "certificates.revoke": ORGANISER,
    "certificates.announce": ORGANISER,
    "certificates.own_certificate": PARTICIPANT,
    "certificates.verify": PUBLIC,
    "assignments.index": ORGANISER,
    "assignments.new": ORGANISER,
    "assignments.edit": ORGANISER,
    "assignments.matrix_xlsx": ORGANISER,
    "assignments.matrix_csv": ORGANISER,
    "assignments.my_reviews": NARASUMBER,
    "assignments.detail": REVIEWER,
    "assignments.submission": REVIEWER,
    "assignments.file": REVIEWER,
    "assignments.participant_assignment": PARTICIPANT,
    "assignments.participant_upload": PARTICIPANT,
    "assignments.participant_file": PARTICIPANT,
    "groups.admin": ORGANISER,
    "groups.set_up": ORGANISER,
    "groups.edit_group": ORGANISER,
    "groups.assign": ORGANISER,
    "groups.spread": ORGANISER,
    "groups.export": ORGANISER,  # members' names
    "groups.presentation": LIVE,  # the projector
    "groups.stage_state": LIVE,
    "groups.participant": PARTICIPANT,
    "groups.join": PARTICIPANT,
    "groups.participant_state": PARTICIPANT,
    "groups.live_parts": PARTICIPANT,
    "groups.save_output": PARTICIPANT,
    "laporan.index": ORGANISER,
    "laporan.save_texts": ORGANISER,
    "laporan.upload_photo": ORGANISER,
    "laporan.photo": ORGANISER,
    "laporan.delete_photo": ORGANISER,
    "laporan.download": ORGANISER,  # participants' names, attendance and answers
    "whatsapp.fonnte_webhook": GATEWAY,
    "whatsapp.meta_handshake": GATEWAY,
    "whatsapp.meta_webhook": GATEWAY,
    "whatsapp.stage_polls": LIVE,
    "whatsapp.participant_polls": PARTICIPANT,
}
ROLES = ["anonymous", *[role.value for role in Role]]


def _allowed(access: str, role: str) -> bool:
    return {
        PUBLIC: True,
        STAFF: role in {"admin", "panitia", "narasumber", "petugas"},
        ORGANISER: role in {"admin", "panitia"},
        PARTICIPANT: role == "participant",
        DOOR: role in {"admin", "panitia", "petugas"},
        LIVE: role in {"admin", "panitia", "narasumber"},
        LIVE_OR_PARTICIPANT: role in {"admin", "panitia", "narasumber", "participant"},
        REVIEWER: role in {"admin", "panitia", "narasumber"},
        NARASUMBER: role == "narasumber",
        GATEWAY: False,
    }[access]


def test_every_route_is_listed(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(ACCESS)


@pytest.fixture
def world(app, session):
    program = factories.program(session, stages=2)
    registration = factories.registration(session, program)
    services.change_status(session, registration, Status.APPROVED, actor=None, secret_key="test-secret-key")
    agenda_item = AgendaItem(
        stage=program.stages[0], starts_at=program.stages[0].starts_at, title="Pembukaan"
    )
    session.add(agenda_item)
    now = utcnow()  # a scheduler beating, so that /healthz answers 200
    session.add(
        SchedulerHeartbeat(
            name="embedded:test:1", mode="embedded", pid=1, host="test", started_at=now, beat_at=now
        )
    )
    session.commit()
    return {
        "program_id": program.id,
        "stage_id": program.stages[0].id,
        "registration_id": registration.id,
        "organization_id": registration.person.organization_id,
        "item_id": agenda_item.id,
        "slug": program.slug,
        "token": links.token_for(registration, "test-secret-key"),
        "filename": "css/app.css",
        "code": "en",
        "import_id": 1,  # no such import: an organiser gets 404 (allowed past the role check)
        "position": 1,
        "report_id": 1,  # no such meeting report or row: 404 past the role check
        "row_id": 1,
        "check_in_id": 1,  # no such check-in: 404 past the role check
        "rule_id": 1,  # no such reminder rule or outbox message: 404 past the role check
        "message_id": 1,
        "poll_id": 1,  # no such poll or question: 404 past the role check
        "question_id": 1,
        "action": "open",
        "certificate_id": 1,  # no such certificate: 404 past the role check
        "assignment_id": 1,  # no such assignment or revision: 404 past the role check
        "revision_id": 1,
        "photo_id": 1,  # no such laporan photo: 404 past the role check
        "kind": "docx",
        "group_id": 1,  # no such group: 404 past the role check
        "extension": "csv",
    }


def _urls(app, world):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        values = {name: world[name] for name in rule.arguments}
        with app.test_request_context():
            url = url_for(rule.endpoint, **values)
        method = "GET" if "GET" in rule.methods else "POST"
        yield rule.endpoint, method, url


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(app, session, client, login, world, role):
    if role == "participant":
        client.post(f"/p/{world['token']}")
    elif role != "anonymous":
        login(factories.staff(session, Role(role)))
        session.commit()

    outcomes = {}
    for endpoint, method, url in _urls(app, world):
        if endpoint in {"auth.logout", "auth.personal_link"}:
            continue  # would end or replace the session under test; covered in test_personal_link
        response = client.open(url, method=method)
        refused = response.status_code == 403 or (
            response.status_code == 302 and response.location.split("?")[0] in {"/login", "/masuk"}
        )
        outcomes[endpoint] = "allowed" if not refused else "refused"
        assert response.status_code < 500, (endpoint, response.status_code)

    expected = {
        endpoint: "allowed" if _allowed(ACCESS[endpoint], role) else "refused" for endpoint in outcomes
    }
    assert outcomes == expected


# Socket.IO events x every role, as the routes above: accepted, or refused with a refusal code
# (anonymous sockets are refused at connect, so none of their events reaches a handler), and a
# refused event changes nothing in the database.

SIGNED_IN = "signed_in"  # any logged-in user: staff, or a participant through the personal link
LIFECYCLE = "lifecycle"  # sent by the server when a socket goes, not by a client

# (namespace, event) -> who may send it. A new handler must be added here (and to _socket_events'
# payloads), or test_every_socket_event_is_listed fails.
SOCKET_ACCESS = {
    ("/", "connect"): SIGNED_IN,
    ("/", "disconnect"): LIFECYCLE,
    ("/", "join_stage"): SIGNED_IN,  # staff to the staff rooms; a participant of the programme
    ("/", "presence"): PARTICIPANT,
    ("/", "ask"): PARTICIPANT,
    ("/", "upvote"): PARTICIPANT,
    ("/", "vote"): PARTICIPANT,
    ("/", "moderate"): LIVE,
}
REFUSALS = {"login_required", "forbidden", "moderators_only", "participants_only"}


def _socket_allowed(access: str, role: str) -> bool:
    if access == SIGNED_IN:
        return role != "anonymous"
    return _allowed(access, role)


def test_every_socket_event_is_listed(app):
    handlers = {
        (namespace, event) for namespace, events in socketio.server.handlers.items() for event in events
    }
    assert handlers == set(SOCKET_ACCESS)


@pytest.fixture
def live_world(app, session, set_now):
    from tests.test_live import NOW, make_poll, open_now

    set_now(NOW)  # Tahap I runs
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    asker = factories.registration(session, program, status=Status.APPROVED, mode=Mode.LURING)
    participant = factories.registration(session, program, status=Status.APPROVED, mode=Mode.DARING)
    moderator = factories.staff(session, Role.NARASUMBER)
    session.flush()
    shown, pending = (
        live_services.ask(session, stage, asker, text, anonymous=False, now=NOW, per_minute=10)
        for text in ("Kapan Tahap II?", "Apakah ada sertifikat?")
    )
    live_services.moderate(session, stage, shown.id, "approve", None, actor=moderator, now=NOW)
    session.commit()
    poll = make_poll(session, stage, moderator)
    open_now(session, poll, moderator)
    return {
        "stage": stage,
        "participant": participant,
        "shown_question_id": shown.id,
        "pending_question_id": pending.id,
        "poll_id": poll.id,
        "option_id": poll.options[0].id,
    }


def _socket_events(world) -> dict[str, dict]:
    """Each client event with a payload it is accepted with, join_stage first."""
    stage_id = world["stage"].id
    return {
        "join_stage": {"stage_id": stage_id},
        "presence": {"stage_id": stage_id, "nonce": "n1"},
        "ask": {"stage_id": stage_id, "client_id": "ask-0123456789abcdef", "text": "Kapan mulai?"},
        "upvote": {
            "stage_id": stage_id,
            "client_id": "upvote-0123456789abcdef",
            "question_id": world["shown_question_id"],
        },
        "vote": {
            "stage_id": stage_id,
            "client_id": "vote-0123456789abcdef",
            "poll_id": world["poll_id"],
            "answer": {"option_ids": [world["option_id"]]},
        },
        "moderate": {
            "stage_id": stage_id,
            "client_id": "moderate-0123456789abcdef",
            "question_id": world["pending_question_id"],
            "action": "approve",
        },
    }


def _database_rows(session) -> dict[str, list]:
    session.expire_all()
    return {
        table.name: sorted(session.execute(select(table)).all(), key=repr)
        for table in db.metadata.sorted_tables
    }


@pytest.mark.parametrize("role", ROLES)
def test_socket_role_matrix(app, session, live_world, role):
    from tests.test_live import participant_client, staff_client

    if role == "participant":
        client = participant_client(app, session, live_world["participant"])
    elif role == "anonymous":
        client = app.test_client()
    else:
        user = factories.staff(session, Role(role))
        session.commit()
        client = staff_client(app, user)
    socket = socketio.test_client(app, flask_test_client=client)

    outcomes = {"connect": "allowed" if socket.is_connected() else "refused"}
    for event, payload in _socket_events(live_world).items():
        if not socket.is_connected():
            outcomes[event] = "refused"  # nothing reaches the handler
            continue
        before = _database_rows(session)
        ack = socket.emit(event, payload, callback=True)
        if ack.get("ok") is True:
            outcomes[event] = "allowed"
        elif ack.get("error") in REFUSALS:
            outcomes[event] = "refused"
            assert _database_rows(session) == before, (event, ack)
        else:
            outcomes[event] = ack  # neither: shown by the comparison below
    if socket.is_connected():
        socket.disconnect()

    expected = {
        event: "allowed" if _socket_allowed(SOCKET_ACCESS[("/", event)], role) else "refused"
        for event in outcomes
    }
    assert outcomes == expected
