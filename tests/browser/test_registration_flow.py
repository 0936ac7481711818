"""From the public form to the participant's schedule, in headless Chromium against the real server."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests import factories
from workshop.auth.models import Role, User
from workshop.programs.models import OrgKind, Program
from workshop.programs.queries import KECAMATAN_MARK, organization_by_label
from workshop.registration.models import Mode, Person, Registration, Status

pytestmark = pytest.mark.browser

SCREENSHOT = Path(tempfile.gettempdir()) / "bimtek-participant-360x740.png"


@dataclass(frozen=True)
class Seeded:
    program_id: int
    slug: str
    title: str
    stage_ids: list[int]
    organiser: str  # username
    village: str  # the label a kepala desa picks from the list


def seed(live_server, *, agency: str, village: str, kecamatan: str) -> Seeded:
    """A four-stage programme (Tahap I on Thursday 24 June 2021, 09.00 WIB), its organisations, a panitia."""
    with live_server.session() as session:
        factories.organization(session, kind=OrgKind.OPD, name=agency)
        # The shared server may hold the regency's real villages already (the roster test imports
        # them): a second "Hutatoruan I, Kec. Tarutung" would make the label ambiguous.
        desa = organization_by_label(session, f"{village}{KECAMATAN_MARK}{kecamatan}")
        if desa is None:
            district = factories.organization(session, kind=OrgKind.KECAMATAN, name=kecamatan)
            desa = factories.organization(session, kind=OrgKind.DESA, name=village, parent=district)
        program = factories.program(session, title="Bimtek Penyusunan Masterplan Smart City")
        organiser = factories.staff(session, Role.PANITIA)
        return Seeded(
            program_id=program.id,
            slug=program.slug,
            title=program.title,
            stage_ids=[stage.id for stage in program.stages],
            organiser=organiser.username,
            village=desa.label,
        )


def fill_registration(page: Page, seeded: Seeded, *, name: str, phone: str, modes: list[str]) -> None:
    page.locator("#name").fill(name)
    page.locator("#position").fill("Kepala Desa")
    page.locator("#organization").fill(seeded.village)
    page.locator("#phone").fill(phone)
    page.locator("#email").fill("marulam@hutatoruan.desa.id")
    for stage_id, mode in zip(seeded.stage_ids, modes, strict=True):
        index = 0 if mode == "luring" else 1  # choices are (luring, daring), in that order
        page.locator(f"#mode_{stage_id}-{index}").check()


def registrations_of(live_server, seeded: Seeded) -> list[tuple[str, str, Status]]:
    with live_server.session() as session:
        rows = session.execute(
            select(Person.name, Person.phone, Registration.status)
            .join(Registration.person)
            .where(Registration.program_id == seeded.program_id)
        ).all()
        return [tuple(row) for row in rows]


def test_registration_errors_show_in_indonesian_next_to_the_fields_and_keep_what_was_typed(
    live_server, page, browser_problems
):
    seeded = seed(live_server, agency="Dinas Perhubungan", village="Hutatoruan II", kecamatan="Siatas Barita")
    page.goto(f"/daftar/{seeded.slug}")
    expect(page.locator("h1")).to_have_text("Pendaftaran")
    fill_registration(page, seeded, name="", phone="12345", modes=["luring", "daring", "daring", "luring"])

    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.get_by_role("button", name="Daftar", exact=True).click()
    assert answer.value.status == 400

    expect(page.locator("main [role=alert]")).to_have_text(
        "Silakan perbaiki isian yang ditandai di bawah ini."
    )
    expect(page.locator("#name-error")).to_have_text("Wajib diisi.")
    expect(page.locator("#phone-error")).to_have_text(
        "Nomor ponsel Indonesia tidak valid (contoh: 0812 3456 7890)."
    )
    expect(page.locator("#name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#phone")).to_have_attribute("aria-invalid", "true")
    # each message sits inside its own field's label, right under the input
    expect(page.locator("label[for=name] > small.field-error")).to_have_text("Wajib diisi.")
    expect(page.locator("label[for=position] .field-error")).to_have_count(0)
    expect(page.locator(".field-error")).to_have_count(2)

    expect(page.locator("#name")).to_have_value("")
    expect(page.locator("#position")).to_have_value("Kepala Desa")
    expect(page.locator("#organization")).to_have_value(seeded.village)
    expect(page.locator("#phone")).to_have_value("12345")
    expect(page.locator("#email")).to_have_value("marulam@hutatoruan.desa.id")
    first, second, third, fourth = seeded.stage_ids
    for checked in (f"#mode_{first}-0", f"#mode_{second}-1", f"#mode_{third}-1", f"#mode_{fourth}-0"):
        expect(page.locator(checked)).to_be_checked()
    for unchecked in (f"#mode_{first}-1", f"#mode_{second}-0", f"#mode_{third}-0", f"#mode_{fourth}-1"):
        expect(page.locator(unchecked)).not_to_be_checked()

    assert registrations_of(live_server, seeded) == []
    # Chromium reports the refused form's 400 itself; nothing else went wrong (CSP, scripts, assets)
    assert browser_problems.seen == [
        f"console error from {live_server.url}/daftar/{seeded.slug}: "
        "Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"
    ]


def test_person_registers_is_approved_opens_personal_link_and_sees_stages_in_wib(
    live_server, page, phone_page, browser_problems
):
    seeded = seed(
        live_server, agency="Dinas Komunikasi dan Informatika", village="Hutatoruan I", kecamatan="Tarutung"
    )
    name = "Marulam Simanjuntak"

    # 1. The kepala desa registers on the public form (Indonesian by default).
    phone_page.goto(f"/daftar/{seeded.slug}")
    fill_registration(
        phone_page, seeded, name=name, phone="0812 3456 7890", modes=["luring", "daring", "daring", "luring"]
    )
    phone_page.get_by_role("button", name="Daftar", exact=True).click()
    expect(phone_page).to_have_url(f"{live_server.url}/daftar/{seeded.slug}/terkirim")
    expect(phone_page.locator("h1")).to_have_text("Pendaftaran diterima")
    assert registrations_of(live_server, seeded) == [(name, "+6281234567890", Status.PENDING)]
    with live_server.session() as session:
        registration_id = session.scalar(
            select(Registration.id).where(Registration.program_id == seeded.program_id)
        )

    # 2. The organiser logs in and approves the registration from the list.
    organiser = page
    organiser.goto("/login")
    organiser.locator("#username").fill(seeded.organiser)
    organiser.locator("#password").fill(factories.PASSWORD)
    organiser.locator("main form").get_by_role("button", name="Masuk", exact=True).click()
    expect(organiser).to_have_url(f"{live_server.url}/admin/")
    organiser.goto(f"/admin/programs/{seeded.program_id}/registrations")
    row = organiser.get_by_test_id(f"registration-{registration_id}")
    expect(row.locator("td.status")).to_have_text("Menunggu persetujuan")
    organiser.get_by_test_id(f"approve-{registration_id}").click()
    expect(organiser.locator("p.flash-success")).to_have_text("1 pendaftaran kini berstatus disetujui.")
    expect(row.locator("td.status")).to_have_text("Disetujui")
    expect(organiser.get_by_test_id(f"approve-{registration_id}")).to_have_count(0)
    assert registrations_of(live_server, seeded) == [(name, "+6281234567890", Status.APPROVED)]

    # 3. The organiser copies the personal link from the registration's page.
    organiser.goto(f"/admin/registrations/{registration_id}")
    expect(organiser.get_by_test_id("status")).to_have_text("Disetujui")
    link = organiser.get_by_test_id("personal-link").input_value()
    organiser.locator("button[data-copy]").click()  # static/js/app.js runs under the CSP
    expect(organiser.locator("button[data-copy]")).to_have_text("Tersalin")
    assert re.fullmatch(rf"{re.escape(live_server.url)}/p/[a-z2-7]{{32}}", link), link

    # 4. The person opens it: the GET only asks for confirmation and logs nobody in.
    participant = phone_page
    participant.goto(link)
    expect(participant.get_by_test_id("confirm-link")).to_have_text(f"Masuk sebagai {name}")
    expect(participant).to_have_title(f"Masuk sebagai {name} · Bimtek Hybrid")
    expect(participant.locator(".person-name strong")).to_have_text(name)
    expect(participant.get_by_role("button", name="Keluar")).to_have_count(0)
    not_yet = participant.request.get("/saya", max_redirects=0)
    assert (not_yet.status, not_yet.headers["location"]) == (302, "/masuk?next=/saya")

    # 5. Confirming logs in and lands on the schedule: Tahap I-IV in WIB, with the chosen mode.
    participant.get_by_test_id("confirm-link").click()
    expect(participant).to_have_url(f"{live_server.url}/saya/{seeded.slug}")
    expect(participant.locator("h1")).to_have_text(name)
    expect(participant.get_by_role("button", name="Keluar", exact=True)).to_have_count(1)
    expected_id = [
        (
            "Tahap I: Tahap ke-1",
            "Kamis, 24 Juni 2021, pukul 09.00 WIB s.d. Jumat, 25 Juni 2021, pukul 16.00 WIB",
            "Luring (tatap muka)",
        ),
        (
            "Tahap II: Tahap ke-2",
            "Kamis, 15 Juli 2021, pukul 09.00 WIB s.d. Jumat, 16 Juli 2021, pukul 16.00 WIB",
            "Daring",
        ),
        (
            "Tahap III: Tahap ke-3",
            "Kamis, 5 Agustus 2021, pukul 09.00 WIB s.d. Jumat, 6 Agustus 2021, pukul 16.00 WIB",
            "Daring",
        ),
        (
            "Tahap IV: Tahap ke-4",
            "Kamis, 26 Agustus 2021, pukul 09.00 WIB s.d. Jumat, 27 Agustus 2021, pukul 16.00 WIB",
            "Luring (tatap muka)",
        ),
    ]
    assert_stages(participant, expected_id)
    expect(participant.get_by_test_id("stage-1")).to_contain_text(
        "Tempat: Aula Martua, Kantor Bupati, Tarutung"
    )
    meeting_link = participant.get_by_test_id("stage-2").get_by_role(
        "link", name="https://zoom.us/j/81200002"
    )
    expect(meeting_link).to_have_attribute("href", "https://zoom.us/j/81200002")
    with live_server.session() as session:
        # The registration's own person: other tests on this server may register the same name.
        users = session.scalars(
            select(User).join(Person).join(Registration).where(Registration.id == registration_id)
        ).all()
        assert [(user.role, user.person.phone) for user in users] == [(Role.PARTICIPANT, "+6281234567890")]

    # The page fits the phone: nothing wider than the 360 px screen.
    assert participant.evaluate("document.documentElement.scrollWidth") <= 360
    participant.screenshot(path=str(SCREENSHOT), full_page=True)

    # 6. The same schedule in English after switching the language.
    participant.get_by_test_id("language-switch").click()
    expect(participant).to_have_url(f"{live_server.url}/saya/{seeded.slug}")
    expect(participant.locator("html")).to_have_attribute("lang", "en")
    expect(participant.get_by_test_id("language-switch")).to_have_text("Bahasa Indonesia")
    assert_stages(
        participant,
        [
            (
                "Stage I: Tahap ke-1",
                "Thursday, 24 June 2021 at 09:00 WIB to Friday, 25 June 2021 at 16:00 WIB",
                "In person (luring)",
            ),
            (
                "Stage II: Tahap ke-2",
                "Thursday, 15 July 2021 at 09:00 WIB to Friday, 16 July 2021 at 16:00 WIB",
                "Online (daring)",
            ),
            (
                "Stage III: Tahap ke-3",
                "Thursday, 5 August 2021 at 09:00 WIB to Friday, 6 August 2021 at 16:00 WIB",
                "Online (daring)",
            ),
            (
                "Stage IV: Tahap ke-4",
                "Thursday, 26 August 2021 at 09:00 WIB to Friday, 27 August 2021 at 16:00 WIB",
                "In person (luring)",
            ),
        ],
    )

    # And back: the choice is kept per browser, the organiser's session is untouched.
    participant.get_by_test_id("language-switch").click()
    assert_stages(participant, expected_id)
    organiser.reload()
    expect(organiser.locator("html")).to_have_attribute("lang", "id")

    assert browser_problems.seen == []
    with live_server.session() as session:
        program = session.get(Program, seeded.program_id)
        registration = session.get(Registration, registration_id)
        assert [registration.mode_for(stage) for stage in program.stages] == [
            Mode.LURING,
            Mode.DARING,
            Mode.DARING,
            Mode.LURING,
        ]


def assert_stages(page: Page, expected: list[tuple[str, str, str]]) -> None:
    expect(page.locator("article.stage")).to_have_count(len(expected))
    for position, (heading, span, mode) in enumerate(expected, start=1):
        stage = page.get_by_test_id(f"stage-{position}")
        expect(stage.locator(".stage-title")).to_have_text(heading)
        expect(stage.locator("span.when")).to_have_text(span)
        expect(stage.locator("mark.mode")).to_have_text(mode)


def test_csp_blocks_inline_script_and_the_harness_reports_it(live_server, page, browser_problems):
    """The check above can fail: an inline script is refused by the policy and reported."""
    page.goto("/masuk")
    assert browser_problems.seen == []
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "document.body.dataset.inline = 'ran'";
            document.body.append(script);
        }"""
    )
    expect(page.locator("body")).not_to_have_attribute("data-inline", "ran")
    for _ in range(40):  # console messages arrive asynchronously
        if len(browser_problems.seen) >= 2:
            break
        page.wait_for_timeout(50)
    source = f"console error from {live_server.url}/masuk: "
    reported, chromium_refusal = sorted(browser_problems.seen)
    assert reported == f"{source}CSP violation: script-src-elem blocked inline"
    assert chromium_refusal.startswith(
        f"{source}Executing inline script violates the following Content Security"
    )
