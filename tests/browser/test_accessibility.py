"""axe-core (from npm, injected by the test through the DevTools protocol: never served to users)
finds no serious or critical accessibility problem on the pages people use most: the staff login,
the public registration form, the participant's personal page and live page, and the facilitator's
control panel, projector view and the check-in scanner (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.test_attendance_dashboard import log_in
from workshop.auth.models import Role
from workshop.config import PROJECT_ROOT
from workshop.live import services as live_services
from workshop.live.models import PollKind
from workshop.registration import links
from workshop.registration.models import Mode, Status
from workshop.registration.services import ensure_participant_user

pytestmark = pytest.mark.browser

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
LAPTOP = {"viewport": {"width": 1366, "height": 900}}

# Each violation as "rule (impact): what it asks; the first elements it found".
AXE_RUN = """async () => {
  const { violations } = await axe.run(document, { resultTypes: ["violations"] });
  return violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
  }));
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} not found: run scripts/setup.sh (npm ci installs axe-core)", pytrace=False)
    return AXE.read_text()


def _blocking_violations(page: Page, axe_source: str) -> list[str]:
    page.evaluate(axe_source)  # through the DevTools protocol: the page's CSP does not apply
    return [
        f"{found['id']} ({found['impact']}): {found['help']}; {', '.join(found['nodes'])}"
        for found in page.evaluate(AXE_RUN)
        if found["impact"] in BLOCKING
    ]


def _seed(live_server) -> dict:
    now = datetime.now(UTC)
    with live_server.session() as session:
        program = factories.program(session, stages=1, title="Bimtek Aksesibilitas")
        stage = program.stages[0]
        stage.starts_at = now - timedelta(minutes=15)
        stage.ends_at = now + timedelta(hours=2)
        registration = factories.registration(
            session, program, status=Status.APPROVED, mode=Mode.DARING, name="Kades Sipahutar"
        )
        ensure_participant_user(session, registration.person)
        organiser = factories.staff(session, Role.PANITIA)
        live_services.update_settings(
            session, stage, questions_moderated=False, anonymous_allowed=True, actor=organiser
        )
        asker = factories.registration(session, program, status=Status.APPROVED, mode=Mode.LURING)
        for text in ("Kapan materi dibagikan?", "Apakah ada sertifikat?"):
            live_services.ask(session, stage, asker, text, anonymous=False, now=now, per_minute=10)
        poll = live_services.create_poll(
            session,
            stage,
            live_services.PollDraft(
                kind=PollKind.SINGLE, question="Sinyal di kantor desa?", options=["Baik", "Lemah"]
            ),
            actor=organiser,
        )
        live_services.open_poll(session, poll, actor=organiser, now=now)
        return {
            "slug": program.slug,
            "stage_id": stage.id,
            "token": links.issue(registration, live_server.app.config["SECRET_KEY"]),
            "organiser": organiser.username,
        }


def test_the_login_page_and_the_registration_form_have_no_serious_violations(
    live_server, new_context, axe_source
):
    seeded = _seed(live_server)
    page = new_context(**PHONE).new_page()
    found = {}
    page.goto("/login")
    found["login"] = _blocking_violations(page, axe_source)
    page.goto(f"/daftar/{seeded['slug']}")
    found["registration form"] = _blocking_violations(page, axe_source)
    page.locator("form [type=submit]").last.click()  # empty: every field shows its error
    expect(page.locator(".field-error, [aria-invalid=true]").first).to_be_visible()
    found["registration form with errors"] = _blocking_violations(page, axe_source)

    assert found == {name: [] for name in found}


def test_the_participant_page_and_live_page_have_no_serious_violations(live_server, new_context, axe_source):
    seeded = _seed(live_server)
    page = new_context(**PHONE).new_page()
    page.goto(f"/p/{seeded['token']}")
    page.get_by_test_id("confirm-link").click()
    page.wait_for_url(f"**/saya/{seeded['slug']}")
    found = {"participant page": _blocking_violations(page, axe_source)}
    page.goto(f"/live/{seeded['stage_id']}")
    expect(page.locator("[data-live-status]")).to_have_attribute("data-status", "live")
    expect(page.locator("[data-questions] .live-upvote")).to_have_count(2)
    found["live page"] = _blocking_violations(page, axe_source)

    assert found == {name: [] for name in found}


def test_the_control_panel_projector_and_scanner_have_no_serious_violations(
    live_server, new_context, axe_source
):
    seeded = _seed(live_server)
    page = new_context(**LAPTOP).new_page()
    log_in(page, seeded["organiser"])
    found = {}
    for name, path in (
        ("control panel", f"/live/{seeded['stage_id']}/control"),
        ("projector", f"/live/{seeded['stage_id']}/projector"),
    ):
        page.goto(path)
        expect(page.locator("[data-live-status]")).to_have_attribute("data-status", "live")
        found[name] = _blocking_violations(page, axe_source)
    page.goto(f"/checkin/stages/{seeded['stage_id']}")
    expect(page.locator("[data-state=ready]")).to_have_count(1)
    found["scanner"] = _blocking_violations(page, axe_source)

    assert found == {name: [] for name in found}
