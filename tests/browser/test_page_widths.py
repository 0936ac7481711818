"""Every page fits a 360 px phone, as every role sees it (issue 11): no sideways scrolling.

One programme holds a stage that has ended (its Zoom report imported), one running now (polls
closed, open and in draft, questions asked and moderated, a hall check-in) and one still to come;
its participants are in the hall, online, pending and waitlisted; a roster preview and a long dev
outbox message wait. Each page is opened at 360x740 in Chromium as its role and measured:
`document.documentElement.scrollWidth <= 360`.

The pages of a stage's live work (the participant's live page with its WhatsApp switch until the
stage has ended and its group card, their group page, the control page with its WhatsApp section,
the hall count of a rating poll) are also opened at 1366 px, for each stage, and must say what that
stage holds (exact texts), with no English sentence left on the Indonesian page, no control under
24 px and no text under 12 px; their screenshots go to /tmp/bimtek-shots/widths.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import current_app
from playwright.sync_api import Browser, BrowserContext, Page, expect
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
from workshop.live import handcount
from workshop.live import services as live_services
from workshop.live.models import PollKind, PollVote
from workshop.programs.dimensions import DIMENSIONS
from workshop.programs.models import OrgKind
from workshop.registration import links
from workshop.registration.models import Mode, Status
from workshop.registration.roster import checks, service
from workshop.registration.services import ensure_participant_user
from workshop.reminders.models import Delivery, Kind, OutboxMessage, ReminderRule
from workshop.reminders.services import ensure_default_rules
from workshop.whatsapp import polls as whatsapp_polls
from workshop.whatsapp import texts as whatsapp_texts

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
LAPTOP = {"viewport": {"width": 1366, "height": 768}}
SHOTS = Path("/tmp/bimtek-shots/widths")
ZOOM_REPORT = Path(__file__).resolve().parent.parent / "data" / "zoom_participants_tahap2.csv"
CATALOG = (
    Path(__file__).resolve().parents[2] / "workshop" / "translations" / "id" / "LC_MESSAGES" / "messages.po"
)
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
# The rating poll whose hands are counted in the hall: open in the running stage, closed in the ended one.
RATING = live_services.PollDraft(
    kind=PollKind.RATING, question="Seberapa bermanfaat materi sesi ini bagi tugas Anda?", scale=5
)


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
        running.starts_at, running.ends_at = factories.running_now(now, after=timedelta(hours=6))
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

        closed, words, draft = (
            live_services.create_poll(session, running, poll, actor=organiser) for poll in POLLS
        )
        live_services.open_poll(session, closed, actor=organiser, now=now - timedelta(minutes=30))
        live_services.close_poll(session, closed, actor=organiser, now=now - timedelta(minutes=20))
        live_services.open_poll(session, words, actor=organiser, now=now - timedelta(minutes=20))
        live_services.close_poll(session, words, actor=organiser, now=now - timedelta(minutes=10))
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
        # WhatsApp polls: the online participant and another hall participant chose them, the hall
        # participant whose page is seen did not; on in the ended and the running stage (a rating
        # poll went out in each), off in the upcoming one.
        keen = factories.registration(
            session, program, status=Status.APPROVED, mode=Mode.LURING, name="Dame Siregar", org=agency
        )
        for registration in (remote, keen):
            whatsapp_polls.set_participant_polls(session, registration, True, now)
        during = ended.starts_at + timedelta(hours=1)
        _rating_poll(session, ended, organiser, remote, hall_counts={"3": 1, "5": 1}, now=during, closes=True)
        _rating_poll(session, running, organiser, remote, hall_counts={"4": 1}, now=now, closes=False)
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
        # two groups picked by the participants; in the ended stage, the online participant moved
        # from one group to the other, whose leader is the hall participant.
        group_services.set_up(
            session,
            ended,
            dimensions=["governance", "economy"],
            mode=GroupMode.ORGANISER,
            cap=None,
            actor=organiser,
        )
        first, moved_to = group_services.groups_of(session, ended.id)
        group_services.assign(session, ended, {remote.id: first.id, hall.id: moved_to.id}, actor=None)
        group_services.assign(session, ended, {remote.id: moved_to.id}, actor=None)
        group_services.update_group(session, moved_to, leader_id=hall.id, meeting_url=LONG_LINK, actor=None)
        group_services.save_output(
            session, moved_to, remote, field="problems", text="Harga pasar " * 30, version=0, now=now
        )
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
                "phone": remote.person.phone,
            },
            usernames={role: user.username for role, user in staff.items()},
            tokens=tokens,
        )


def _rating_poll(
    session, stage, organiser, voter, *, hall_counts: dict[str, int], now: datetime, closes: bool
) -> None:
    """The stage's rating poll, opened at `now` with WhatsApp polls on (its question sent), one
    online vote (5) and hands counted in the hall; closed 10 minutes later if it `closes`."""
    whatsapp_polls.set_polls_enabled(session, stage, True, now)
    poll = live_services.create_poll(session, stage, RATING, actor=organiser)
    live_services.open_poll(session, poll, actor=organiser, now=now)
    keywords = current_app.config["WHATSAPP_QUESTION_KEYWORDS"]
    whatsapp_polls.send_poll(session, poll, whatsapp_texts.poll_question(poll, stage.number, keywords), now)
    session.add(PollVote(poll_id=poll.id, registration_id=voter.id, answer={"rating": 5}))
    handcount.set_hall_counts(session, poll, hall_counts, hall_present=2, actor=organiser, now=now)
    if closes:
        live_services.close_poll(session, poll, actor=organiser, now=now + timedelta(minutes=10))
    session.flush()


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
def devices(browser: Browser, _server: LiveServer, seeded: Seeded) -> Iterator[Callable[..., BrowserContext]]:
    """One logged-in 360 px phone (or 1366 px laptop) per role, made on first use and kept for the module."""
    contexts: dict[tuple[str, int], BrowserContext] = {}

    def device(role: str, width: int = 360) -> BrowserContext:
        if (role, width) not in contexts:
            screen = PHONE if width == 360 else LAPTOP
            context = browser.new_context(
                base_url=_server.url, locale="id-ID", timezone_id="Asia/Jakarta", **screen
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
            contexts[(role, width)] = context
        return contexts[(role, width)]

    yield device
    for context in contexts.values():
        context.close()


def _fits(page: Page, path: str, width: int) -> None:
    """Nothing scrolls sideways at this width (wide tables scroll inside their .table-scroll box),
    and preformatted text (the dev outbox's messages) wraps rather than scrolling inside its box."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        """(width) => [...document.querySelectorAll("body *")]
          .filter((e) => e.getBoundingClientRect().right > width + 0.5 && !e.closest(".table-scroll"))
          .slice(0, 5).map((e) => e.tagName.toLowerCase() + (e.className ? "." + e.className : ""))""",
        width,
    )
    assert scroll_width <= width, f"{path} is {scroll_width} px wide: {wide}"
    assert (
        page.evaluate(
            "[...document.querySelectorAll('pre')].filter((e) => e.scrollWidth > e.clientWidth).length"
        )
        == 0
    )


@pytest.mark.parametrize(("role", "name"), [(role, name) for role, pages in PAGES.items() for name in pages])
def test_every_page_fits_a_360_px_phone_without_sideways_scrolling(live_server, devices, seeded, role, name):
    page = devices(role).new_page()
    try:
        path = PAGES[role][name].format(**seeded.values)
        response = page.goto(path)
        page.wait_for_load_state("load")
        assert response.status == NOT_FOUND.get(name, 200)
        if role != "anonim":
            assert "/login" not in page.url, f"{role} was sent to the login page"
        _fits(page, path, 360)
    finally:
        page.close()


# The pages of a stage's live work, for a stage that has ended, one running and one to come, at
# both widths, and what each says there (test id -> its exact text; None: not on the page).
# The online participant chose polls by WhatsApp and was moved between groups in the ended stage;
# the hall participant did not choose them; the organiser's WhatsApp polls are on in the ended and
# running stages, where a rating poll went out and hands were counted in the hall (closed in the
# ended stage, open in the running one), off in the upcoming one.
STAGE_PAGES: dict[str, dict[str, str]] = {
    "peserta-daring": {"live": "/live/{stage}", "group": "/saya/{slug}/kelompok/{stage}"},
    "peserta-luring": {"live": "/live/{stage}"},
    "panitia": {"control": "/live/{stage}/control", "hall-count": "/live/{stage}/hall"},
    "petugas": {"hall-count": "/live/{stage}/hall"},
}
ON = "Aktif: polling dikirim ke {phone}; balas dengan nomor jawaban Anda. Kirim STOP untuk mematikannya."
OFF = "Nonaktif: polling dijawab di halaman ini saja."
STAGE_ON = (
    "Aktif: pertanyaan setiap polling dikirim ke 1 peserta daring lewat WhatsApp saat dibuka; "
    "balasan mereka menjadi suara mereka."
)
CHOSEN = (
    "2 peserta memilih menerima polling lewat WhatsApp. "
    "1 di antaranya hadir di aula pada tahap ini dan menjawab di halaman."
)
HALL_HELP = "Tangan yang terangkat di aula untuk setiap pilihan."
HALL_NOW = "Tangan yang terangkat di aula untuk setiap pilihan. Check-in di aula saat ini: 1."
CARD = "Kelompok Anda: {group} · ketua: Marulam Hutabarat{breakout} Hasil kerja kelompok kami"
BREAKOUT = " Masuk ruang diskusi kelompok (breakout)"
HALL_PAGE = {
    "ended": {
        "hall-help": HALL_HELP,
        "hall-closed": "Polling ini sudah ditutup: hitungan aulanya tidak dapat diubah lagi.",
        "hall-save": None,
    },
    "running": {"hall-help": HALL_NOW, "hall-closed": None},
    "upcoming": {
        "hall-no-poll": "Belum ada polling pilihan atau penilaian yang ditampilkan.",
        "hall-page": None,
    },
}
SAYS: dict[tuple[str, str, str], dict[str, str | None]] = {
    ("peserta-daring", "live", "ended"): {
        "whatsapp-me": None,  # no poll goes out for an ended stage: no switch
        "live-group": CARD.format(group="Smart economy", breakout=""),  # no breakout once it ended
    },
    ("peserta-daring", "live", "running"): {
        "whatsapp-me-status": ON,
        "live-group": CARD.format(group="Smart governance", breakout=BREAKOUT),
    },
    ("peserta-daring", "live", "upcoming"): {
        "whatsapp-me-status": (
            "Aktif: polling akan dikirim ke {phone} setelah panitia mengaktifkan polling lewat "
            "WhatsApp untuk tahap ini; sampai saat itu jawab di halaman ini."
        ),
        "live-group": None,
    },
    ("peserta-daring", "group", "ended"): {
        "phase-ended": "Selesai",
        "group-leader": "Ketua kelompok: Marulam Hutabarat",
        "breakout-link": None,
        "no-groups": None,
    },
    ("peserta-daring", "group", "running"): {
        "phase-running": "Sedang berlangsung",
        "group-leader": "Ketua kelompok: Marulam Hutabarat",
        "breakout-link": "Masuk ruang diskusi kelompok (breakout)",
    },
    ("peserta-daring", "group", "upcoming"): {
        "phase-upcoming": "Akan datang",
        "own-group": None,
        "choice-economy": "Smart economy 5 kursi tersisa Gabung",
    },
    ("peserta-luring", "live", "ended"): {
        "whatsapp-me": None,
        "live-group": CARD.format(group="Smart economy", breakout=""),
    },
    ("peserta-luring", "live", "running"): {
        "whatsapp-me-status": OFF,
        "live-group": CARD.format(group="Smart governance", breakout=""),
    },
    ("peserta-luring", "live", "upcoming"): {"whatsapp-me-status": OFF, "live-group": None},
    ("panitia", "control", "ended"): {
        "whatsapp-status": STAGE_ON,
        "whatsapp-optin": CHOSEN,
        "whatsapp-sent": "Polling terakhir dikirim ke 1 peserta lewat WhatsApp (0 sudah terkirim).",
        "hall-count-help": HALL_HELP,
    },
    ("panitia", "control", "running"): {
        "whatsapp-status": STAGE_ON,
        "whatsapp-optin": CHOSEN,
        "whatsapp-sent": "Polling terakhir dikirim ke 1 peserta lewat WhatsApp (1 sudah terkirim).",
        "hall-count-help": HALL_NOW,
    },
    ("panitia", "control", "upcoming"): {
        "whatsapp-status": "Nonaktif: polling dijawab di halaman peserta saja.",
        "whatsapp-optin": CHOSEN,
        "whatsapp-sent": None,
        "hall-count": None,
    },
} | {
    (role, "hall-count", state): says for role in ("panitia", "petugas") for state, says in HALL_PAGE.items()
}
# The rating poll's results line on the live and control pages: the answers are the online votes
# and the hands counted in the hall; who is present now is left out once the stage is over.
RESULTS = {
    "ended": {
        ".live-total": "Total 3 jawaban",
        ".live-sources": "Aula: 2 · Daring: 1",
        ".live-answered": None,
    },
    "running": {".live-total": "Total 2 jawaban", ".live-sources": "Aula: 1 · Daring: 1"},
}
# The hall count typed for the rating poll (rating -> hands), on the hall page and the control page.
HALL_COUNTS = {"ended": {"1": "0", "3": "1", "5": "1"}, "running": {"1": "0", "4": "1", "5": "0"}}
STAGE_CASES = [
    (role, name, state, width)
    for role, pages in STAGE_PAGES.items()
    for name in pages
    for state in ("ended", "running", "upcoming")
    for width in (360, 1366)
]


@pytest.mark.parametrize(("role", "name", "state", "width"), STAGE_CASES)
def test_a_stage_s_live_pages_fit_and_say_what_the_stage_holds(
    live_server, devices, seeded, role, name, state, width
):
    if (name, state) == ("control", "running"):
        _wait_until_sent(live_server, seeded.values["running"])
    page = devices(role, width).new_page()
    try:
        path = STAGE_PAGES[role][name].format(**seeded.values, stage=seeded.values[state])
        response = page.goto(path)
        page.wait_for_load_state("load")
        assert response.status == 200 and "/login" not in page.url
        if name in ("live", "control"):
            expect(page.locator("[data-live-status]")).to_have_attribute("data-status", "live")
        for test_id, text in SAYS[(role, name, state)].items():
            if text is None:
                expect(page.get_by_test_id(test_id)).to_be_hidden()
            else:
                expect(page.get_by_test_id(test_id)).to_have_text(text.format(phone=seeded.values["phone"]))
        if name in ("live", "control") and state in RESULTS:
            results = page.locator("[data-results], [data-current-results]")
            for selector, text in RESULTS[state].items():
                if text is None:
                    expect(results.locator(selector)).to_have_count(0)
                else:
                    expect(results.locator(selector)).to_have_text(text)
        if name in ("hall-count", "control") and state in HALL_COUNTS:
            form = page.get_by_test_id("hall-page" if name == "hall-count" else "hall-count")
            for rating, hands in HALL_COUNTS[state].items():
                field = form.locator(f"input[name='option-{rating}'], input[data-answer='{rating}']")
                expect(field).to_have_value(hands)
                if state == "running":
                    expect(field).to_be_enabled()
                else:
                    expect(field).to_be_disabled()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{role}-{name}-{state}-{width}.png"), full_page=True)
        _fits(page, path, width)
        assert _untranslated(page) == []
        assert _cramped(page) == []
    finally:
        page.close()


def _wait_until_sent(live_server: LiveServer, stage_id: int, timeout: float = 20) -> None:
    """The running stage's poll question is sent by the reminder engine's tick, within seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with live_server.session() as session:
            sent = session.scalar(
                select(Delivery.id).where(
                    Delivery.stage_id == stage_id,
                    Delivery.kind == Kind.POLL_QUESTION,
                    Delivery.sent_at.is_not(None),
                )
            )
        if sent is not None:
            return
        time.sleep(0.2)
    raise AssertionError("the running stage's poll question was not sent")


@cache
def _english_only() -> frozenset[str]:
    """The app's English sentences that read otherwise in Indonesian (three words or more, no
    placeholders): one of them on an Indonesian page is a text left untranslated."""
    with CATALOG.open("rb") as po:
        catalog = read_po(po)
    return frozenset(
        message.id
        for message in catalog
        if isinstance(message.id, str)
        and message.string
        and message.string != message.id
        and len(message.id.split()) >= 3
        and not any(mark in message.id for mark in ("%(", "{", "<"))
    )


def _untranslated(page: Page) -> list[str]:
    text = " ".join(page.locator("body").inner_text().split())
    return sorted(sentence for sentence in _english_only() if sentence in text)


def _cramped(page: Page) -> list[str]:
    """Controls smaller than a fingertip can hit (24 x 24 px, WCAG 2.2's minimum target; a checkbox
    counts with its label) or text smaller than 12 px, among what is visible."""
    return page.evaluate(
        """() => {
          const seen = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
          const name = (e) => e.tagName.toLowerCase() + (e.dataset.testid ? "#" + e.dataset.testid : "") +
            " " + (e.textContent || e.value || "").trim().slice(0, 30);
          const target = (e) => (e.matches("[type=checkbox], [type=radio]") && e.closest("label")) || e;
          const small = [...document.querySelectorAll("button, select, input:not([type=hidden]), textarea, [role=button]")]
            .filter(seen)
            .filter((e) => { const r = target(e).getBoundingClientRect(); return r.height < 24 || r.width < 24; })
            .map((e) => "control " + name(e));
          const tiny = [...document.querySelectorAll("body *")]
            .filter((e) => seen(e) && [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
            .filter((e) => parseFloat(getComputedStyle(e).fontSize) < 12)
            .map((e) => "text " + name(e));
          return [...small, ...tiny].slice(0, 10);
        }"""
    )
