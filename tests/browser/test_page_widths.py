"""Every page fits a 360 px phone, as every role sees it (issue 11): no sideways scrolling.

One programme holds a stage that has ended (its Zoom report imported), one running now (polls
closed, open and in draft, questions asked and moderated, a hall check-in) and one still to come;
its participants are in the hall, online, pending and waitlisted; a roster preview and a long dev
outbox message wait. Each page is opened at 360x740 in Chromium as its role and measured:
`document.documentElement.scrollWidth <= 360`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import current_app
from playwright.sync_api import Browser, BrowserContext
from sqlalchemy import select

from tests import factories
from tests.browser.conftest import ACTION_TIMEOUT_MS, LiveServer
from tests.browser.test_attendance_dashboard import log_in
from workshop.assignments import services as assignments
from workshop.assignments.models import LatePolicy, SubmissionStatus
from workshop.attendance import services as online
from workshop.auth.models import Role
from workshop.certificates import issuing
from workshop.certificates import services as certificates
from workshop.certificates.eligibility import Standing
from workshop.checkin.services import check_in
from workshop.evaluation import services as evaluation_services
from workshop.groups import services as group_services
from workshop.groups.models import GroupMode
from workshop.live import services as live_services
from workshop.live.models import PollKind
from workshop.programs.dimensions import DIMENSIONS
from workshop.programs.models import OrgKind
from workshop.registration import links
from workshop.registration.models import Mode, Status
from workshop.registration.roster import checks, service
from workshop.registration.services import ensure_participant_user
from workshop.reminders.models import OutboxMessage, ReminderRule
from workshop.reminders.services import ensure_default_rules

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
ZOOM_REPORT = Path(__file__).resolve().parent.parent / "data" / "zoom_participants_tahap2.csv"
LONG_POSITION = "Kepala Bidang Infrastruktur Teknologi Informasi dan Komunikasi Pemerintahan"
LONG_LINK = "https://bimtek.tapanuliutarakab.go.id/p/" + "k7m2" * 12
POLLS = [
    live_services.PollDraft(
        kind=PollKind.SINGLE,
        question="Apakah kantor Anda sudah terhubung internet yang stabil?",
        options=["Ya, stabil", "Ada, tetapi sering putus", "Belum ada"],
    ),
    live_services.PollDraft(
        kind=PollKind.WORDCLOUD, question="Satu kata: apa yang paling dibutuhkan desa Anda?"
    ),
    live_services.PollDraft(
        kind=PollKind.RATING, question="Seberapa siap OPD Anda menjalankan smart city?", scale=5
    ),
]


@dataclass
class Seeded:
    values: dict[str, int | str]  # ids, the programme's slug, a personal-link token: what page paths need
    usernames: dict[str, str]  # staff role -> username
    tokens: dict[str, str]  # "peserta-luring" / "peserta-daring" -> personal-link token


def _seed(live_server: LiveServer) -> Seeded:
    now = datetime.now(UTC)
    with live_server.session() as session:
        program = factories.program(
            session, stages=3, title="Bimtek Penyusunan Masterplan Smart City Kabupaten"
        )
        ended, running, upcoming = program.stages
        # The ended stage falls on the days of the Zoom report in tests/data (15-16 July 2021).
        ended.starts_at = datetime(2021, 7, 15, 2, tzinfo=UTC)
        ended.ends_at = datetime(2021, 7, 16, 9, tzinfo=UTC)
        running.starts_at, running.ends_at = now - timedelta(hours=1), now + timedelta(days=1, hours=6)
        upcoming.starts_at, upcoming.ends_at = now + timedelta(weeks=3), now + timedelta(weeks=3, days=1)
        running.title = "Penyusunan Masterplan Smart Governance dan Smart Branding"

        kecamatan = factories.organization(session, kind=OrgKind.KECAMATAN, name="Siatas Barita")
        desa = factories.organization(session, kind=OrgKind.DESA, name="Lumban Siagian Jae", parent=kecamatan)
        agency = factories.organization(session, kind=OrgKind.OPD, name="Dinas Komunikasi dan Informatika")
        hall = factories.registration(
            session, program, status=Status.APPROVED, mode=Mode.LURING, name="Marulam Hutabarat", org=agency
        )
        hall.person.position = LONG_POSITION
        remote = factories.registration(
            session, program, status=Status.APPROVED, mode=Mode.DARING, name="Rosmaida Sihombing", org=desa
        )
        pending = factories.registration(session, program, status=Status.PENDING, org=agency)
        factories.registration(session, program, status=Status.WAITLISTED, waitlisted_at=now, org=agency)
        tokens = {}
        for role, registration in (("peserta-luring", hall), ("peserta-daring", remote)):
            ensure_participant_user(session, registration.person)
            tokens[role] = links.issue(registration, live_server.app.config["SECRET_KEY"])
        staff = {
            role.value: factories.staff(session, role)
            for role in (Role.ADMIN, Role.PANITIA, Role.NARASUMBER, Role.PETUGAS)
        }
        organiser = staff["panitia"]

        closed, opened, draft = (
            live_services.create_poll(session, running, poll, actor=organiser) for poll in POLLS
        )
        live_services.open_poll(session, closed, actor=organiser, now=now - timedelta(minutes=30))
        live_services.close_poll(session, closed, actor=organiser, now=now - timedelta(minutes=20))
        live_services.open_poll(session, opened, actor=organiser, now=now)
        question = live_services.ask(
            session,
            running,
            remote,
            "Bagaimana desa dengan sinyal lemah bisa ikut? " + "Sinyal" * 12,
            anonymous=False,
            now=now,
            per_minute=10,
        )
        live_services.ask(
            session,
            running,
            hall,
            "Apakah ada anggaran untuk operator data desa?",
            anonymous=True,
            now=now,
            per_minute=10,
        )
        live_services.moderate(session, running, question.id, "approve", "", actor=organiser, now=now)
        check_in(
            session,
            stage=running,
            code=hall.ticket_code,
            desk="Meja 1",
            actor=staff["petugas"],
            client_nonce="widths-1",
            secret_key=current_app.config["SECRET_KEY"],
        )
        report = online.import_report(
            session,
            ended,
            filename="zoom_participants_tahap2.csv",
            data=ZOOM_REPORT.read_bytes(),
            actor=organiser,
        )
        roster = (
            "nama,jabatan,instansi,no_hp,mode\n"
            f"Hotman Simanjuntak,{LONG_POSITION},Siatas Barita,081270001234,daring\n"
            "Tanpa Nomor,Camat,Siatas Barita,,daring\n"
        )
        filename = "peserta siatas barita.csv"
        stored = service.read_preview(filename, roster.encode(), checks.CheckRules.load(session, program))
        preview = service.create_preview(session, program, stored, filename=filename, actor=organiser)
        ensure_default_rules(session, program, now)
        evaluation_services.create_default(session, program, actor=staff["panitia"], now=now)
        message = OutboxMessage(
            channel="whatsapp",
            to="+6281270001234",
            subject="Pengingat Tahap II",
            text=f"Yth. Rosmaida Sihombing,\n{LONG_LINK}\n",
        )
        session.add(message)
        session.flush()
        rule = session.scalars(select(ReminderRule).where(ReminderRule.program_id == program.id)).first()
        # Group work: the running stage's six groups set by the organiser (the hall and the online
        # participant in one, with a leader, a long breakout link and output); the upcoming stage's
        # two groups picked by the participants; none in the ended stage.
        group_services.set_up(
            session, running, dimensions=DIMENSIONS, mode=GroupMode.ORGANISER, cap=30, actor=organiser
        )
        governance = group_services.groups_of(session, running.id)[0]
        group_services.assign(
            session, running, {hall.id: governance.id, remote.id: governance.id}, actor=None
        )
        group_services.update_group(session, governance, leader_id=hall.id, meeting_url=LONG_LINK, actor=None)
        group_services.save_output(
            session, governance, hall, field="problems", text="Data OPD " * 40, version=0, now=now
        )
        group_services.set_up(
            session, upcoming, dimensions=["economy", "living"], mode=GroupMode.CHOICE, cap=5, actor=organiser
        )
        assignment, certificate_code = _assignment_and_certificate(session, program, hall, staff, now)
        return Seeded(
            values={
                "program": program.id,
                "ended": ended.id,
                "running": running.id,
                "upcoming": upcoming.id,
                "hall": hall.id,
                "pending": pending.id,
                "poll": draft.id,
                "report": report.report.id,
                "import": preview.id,
                "message": message.id,
                "rule": rule.id,
                "organisation": desa.id,
                "agency": agency.id,
                "assignment": assignment,
                "certificate": certificate_code,
                "slug": program.slug,
                "token": tokens["peserta-daring"],
            },
            usernames={role: user.username for role, user in staff.items()},
            tokens=tokens,
        )


def _assignment_and_certificate(session, program, hall, staff, now) -> tuple[int, str]:
    """An assignment for agencies and villages that the hall participant's agency handed in (long
    rows) and its reviewer (the narasumber) asked to revise; one certificate issued (the default
    settings): (assignment id, its code)."""
    organiser = staff["panitia"]
    assignment = assignments.save_assignment(
        session,
        program,
        None,
        stage=program.stages[1],
        title="Analisis kondisi dan ide inovasi per dimensi Smart City " + "Tapanuli Utara" * 3,
        instructions="Isi permasalahan dan usulan inovasi per dimensi. " + LONG_LINK,
        deadline=now + timedelta(days=4),
        late_policy=LatePolicy.ACCEPT,
        wants_rows=True,
        wants_file=True,
        kinds=[OrgKind.OPD, OrgKind.DESA],
        picked_ids=[],
        reviewer=staff["narasumber"],
        actor=organiser,
    )
    row = {"problem": "Data antar-OPD tersebar " + "di-banyak-aplikasi" * 6, "innovation": LONG_LINK}
    submission = assignments.submit(
        session,
        assignment,
        hall.person.organization,
        rows={"governance": row | {"owner": "Diskominfo", "year": "2022"}},
        files_dir=current_app.config["ASSIGNMENT_FILES_DIR"],
        actor=organiser,
        now=now,
    )
    assignments.review(
        session,
        submission,
        status=SubmissionStatus.NEEDS_REVISION,
        comment="Lengkapi tautan dokumen: " + LONG_LINK,
        reviewer=staff["narasumber"],
        now=now,
    )
    standing = Standing(stage_ids=(program.stages[0].id,), jp=8, eligible=True)
    candidate = certificates.Candidate(hall.id, hall.person.name, hall.person.organization.label, standing)
    issuing.issue(session, program, [candidate], actor=None, now=now)
    return assignment.id, issuing.valid_certificates(session, program.id)[0].code


# Each page's path, filled in from the seeded ids (Seeded.values).
ORGANISER_PAGES: dict[str, str] = {
    "programmes": "/admin/",
    "programme": "/admin/programs/{program}",
    "programme-new": "/admin/programs/new",
    "programme-edit": "/admin/programs/{program}/edit",
    "stage-new": "/admin/programs/{program}/stages/new",
    "stage-edit": "/admin/stages/{running}/edit",
    "organisations": "/admin/organizations",
    "organisation-new": "/admin/organizations/new",
    "organisation-edit": "/admin/organizations/{organisation}/edit",
    "registrations": "/admin/programs/{program}/registrations",
    "registration-approved": "/admin/registrations/{hall}",
    "registration-pending": "/admin/registrations/{pending}",
    "roster-upload": "/admin/programs/{program}/import",
    "roster-preview": "/admin/imports/{import}",
    "reminder-rules": "/admin/programs/{program}/reminders",
    "reminder-rule-new": "/admin/programs/{program}/reminders/rules/new",
    "reminder-rule-edit": "/admin/reminders/rules/{rule}/edit",
    "delivery-log": "/admin/stages/{running}/reminders",
    "reminder-preview": "/admin/stages/{running}/reminders/preview?registration_id={hall}&rule_id={rule}",
    "outbox": "/admin/reminders/outbox",
    "outbox-message": "/admin/reminders/outbox/{message}",
    "attendance-report": "/admin/programs/{program}/attendance",
    "attendance-detail": "/admin/stages/{running}/registrations/{hall}/attendance",
    "dashboard-ended": "/admin/stages/{ended}/dashboard",
    "dashboard-running": "/admin/stages/{running}/dashboard",
    "dashboard-upcoming": "/admin/stages/{upcoming}/dashboard",
    "meeting-reports": "/admin/stages/{ended}/meeting-reports",
    "meeting-report": "/admin/meeting-reports/{report}",
    "meeting-review": "/admin/stages/{ended}/meeting-reports/review",
    "evaluation": "/admin/programs/{program}/evaluasi",
    "evaluation-results": "/admin/programs/{program}/evaluasi/hasil",
    "laporan": "/admin/programs/{program}/laporan",
    "groups-ended": "/admin/stages/{ended}/kelompok",
    "groups-running": "/admin/stages/{running}/kelompok",
    "groups-upcoming": "/admin/stages/{upcoming}/kelompok",
    "certificates": "/admin/programs/{program}/sertifikat",
    "assignments": "/admin/programs/{program}/tugas",
    "assignment-new": "/admin/programs/{program}/tugas/baru",
    "assignment-edit": "/admin/tugas/{assignment}/ubah",
    "assignment": "/admin/tugas/{assignment}",
    "assignment-review": "/admin/tugas/{assignment}/organisasi/{agency}",
    "hall-count": "/live/{running}/hall",
    "checkin": "/checkin",
    "scanner": "/checkin/stages/{running}",
}
LIVE_STAFF_PAGES: dict[str, str] = {
    "programmes": "/admin/",
    "control-running": "/live/{running}/control",
    "control-upcoming": "/live/{upcoming}/control",
    "poll-new": "/live/{running}/polls/new",
    "poll-edit": "/live/polls/{poll}/edit",
    "projector": "/live/{running}/projector",
    "group-presentation": "/admin/stages/{running}/kelompok/presentasi",
}
PARTICIPANT_PAGES: dict[str, str] = {
    "my-page": "/saya/{slug}",
    "live-ended": "/live/{ended}",
    "live-running": "/live/{running}",
    "live-upcoming": "/live/{upcoming}",
    "join-upcoming": "/saya/{slug}/tahap/3/gabung",
    "join-ended": "/saya/{slug}/tahap/1/gabung",
    "evaluation-ended": "/saya/{slug}/evaluasi/{ended}",
    "group-ended": "/saya/{slug}/kelompok/{ended}",
    "group-running": "/saya/{slug}/kelompok/{running}",
    "group-upcoming": "/saya/{slug}/kelompok/{upcoming}",
    "assignment": "/saya/{slug}/tugas/{assignment}",
}
NOT_FOUND = {"not-found": 404, "link-invalid": 404}
PAGES: dict[str, dict[str, str]] = {
    "anonim": {
        "home": "/",
        "login": "/login",
        "register": "/daftar/{slug}",
        "registered": "/daftar/{slug}/terkirim",
        "link-confirm": "/p/{token}",
        "link-invalid": "/p/tautan-yang-tidak-ada",
        "link-needed": "/masuk",
        "not-found": "/tidak-ada",
        "certificate-verification": "/verifikasi/{certificate}",
    },
    "admin": ORGANISER_PAGES | LIVE_STAFF_PAGES,
    "panitia": ORGANISER_PAGES | LIVE_STAFF_PAGES,
    "narasumber": LIVE_STAFF_PAGES
    | {
        "my-reviews": "/admin/tugas",
        "assignment-review": "/admin/tugas/{assignment}/organisasi/{agency}",
    },
    "petugas": {
        "programmes": "/admin/",
        "checkin": "/checkin",
        "scanner": "/checkin/stages/{running}",
        "hall-count": "/live/{running}/hall",
    },
    "peserta-luring": PARTICIPANT_PAGES,
    "peserta-daring": PARTICIPANT_PAGES,
}


@pytest.fixture(scope="module")
def seeded(_server: LiveServer) -> Seeded:
    return _seed(_server)


@pytest.fixture(scope="module")
def phones(
    browser: Browser, _server: LiveServer, seeded: Seeded
) -> Iterator[Callable[[str], BrowserContext]]:
    """One logged-in 360 px phone per role, made on first use and kept for the module."""
    contexts: dict[str, BrowserContext] = {}

    def phone(role: str) -> BrowserContext:
        if role not in contexts:
            context = browser.new_context(
                base_url=_server.url, locale="id-ID", timezone_id="Asia/Jakarta", **PHONE
            )
            context.set_default_timeout(ACTION_TIMEOUT_MS)
            page = context.new_page()
            if role in seeded.tokens:
                page.goto(f"/p/{seeded.tokens[role]}")
                page.get_by_test_id("confirm-link").click()
                page.wait_for_url(f"**/saya/{seeded.values['slug']}")
            elif role in seeded.usernames:
                log_in(page, seeded.usernames[role])
            page.close()
            contexts[role] = context
        return contexts[role]

    yield phone
    for context in contexts.values():
        context.close()


@pytest.mark.parametrize(("role", "name"), [(role, name) for role, pages in PAGES.items() for name in pages])
def test_every_page_fits_a_360_px_phone_without_sideways_scrolling(live_server, phones, seeded, role, name):
    page = phones(role).new_page()
    try:
        path = PAGES[role][name].format(**seeded.values)
        response = page.goto(path)
        page.wait_for_load_state("load")
        assert response.status == NOT_FOUND.get(name, 200)
        if role != "anonim":
            assert "/login" not in page.url, f"{role} was sent to the login page"

        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(
            """() => [...document.querySelectorAll("body *")]
              .filter((e) => e.getBoundingClientRect().right > 360.5 && !e.closest(".table-scroll"))
              .slice(0, 5).map((e) => e.tagName.toLowerCase() + (e.className ? "." + e.className : ""))"""
        )
        assert width <= 360, f"{path} is {width} px wide: {wide}"
        # Preformatted text (the dev outbox's messages) wraps rather than scrolling inside its box.
        assert (
            page.evaluate(
                "[...document.querySelectorAll('pre')].filter((e) => e.scrollWidth > e.clientWidth).length"
            )
            == 0
        )
    finally:
        page.close()
