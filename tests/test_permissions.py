"""Every route x every role: allowed, or refused (403, or a redirect to log in)."""

import pytest
from flask import url_for

from tests import factories
from workshop.auth.models import Role
from workshop.db import utcnow
from workshop.programs.models import AgendaItem
from workshop.registration import links, services
from workshop.registration.models import Status
from workshop.reminders.models import SchedulerHeartbeat

PUBLIC = "public"
STAFF = "staff"
ORGANISER = "organiser"
PARTICIPANT = "participant"
DOOR = "door"  # check-in staff: petugas, panitia, admin
LIVE = "live"  # who runs Q&A and polls: narasumber, panitia, admin
LIVE_OR_PARTICIPANT = "live_or_participant"

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
    "live.results_csv": ORGANISER,  # voters' names and agencies
    "live.results_xlsx": ORGANISER,
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
