"""The hall hand count in Chromium (issue 17): a hall participant (checked in) and an online one
on their phones at once; the facilitator types the hands counted in the hall on the control page,
and the projector and both phones show the merged count with its two sources, live."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_attendance_dashboard import log_in
from tests.browser.test_live import LAPTOP, PHONE, PROJECTOR, _bar, _participant, _seed, _staff, _texts
from workshop.auth.models import Role
from workshop.checkin.models import CheckIn
from workshop.live import services as live_services
from workshop.live.models import PollKind
from workshop.programs.models import OrgKind, Stage
from workshop.programs.windows import stage_window
from workshop.registration.models import Mode, Registration

pytestmark = pytest.mark.browser

SHOTS = "/tmp/bimtek-shots"


def _check_in_everyone_in_person(live_server, stage_id: int) -> None:
    with live_server.session() as session:
        stage = session.get(Stage, stage_id)
        day = stage_window(stage).day_of(datetime.now(UTC))
        for registration in session.query(Registration).filter_by(program_id=stage.program_id):
            modes = {item.stage_id: item.mode for item in registration.stage_modes}
            if modes.get(stage.id) == Mode.LURING:
                session.add(
                    CheckIn(
                        registration=registration,
                        stage=stage,
                        day=day,
                        scanned_at=datetime.now(UTC),
                        desk="Meja 1",
                    )
                )


def test_the_hall_count_typed_on_the_control_page_shows_merged_on_the_projector_and_the_phones(
    live_server, new_context, browser_problems
):
    dialogs: list[str] = []
    seeded = _seed(
        live_server,
        title="Bimtek Hitung Tangan",
        people={
            "hall": ("Rina Simanjuntak", Mode.LURING, OrgKind.OPD),
            "hall2": ("Togar Sihombing", Mode.LURING, OrgKind.OPD),
            "online": ("Kades Hutatoruan", Mode.DARING, OrgKind.DESA),
        },
        poll=live_services.PollDraft(
            kind=PollKind.SINGLE,
            question="Apa prioritas utama desa Anda?",
            options=["CCTV", "Wi-Fi publik", "Aplikasi layanan"],
        ),
        open_poll=True,
    )
    _check_in_everyone_in_person(live_server, seeded.stage_id)
    cctv, wifi, app = (seeded.options[label] for label in ("CCTV", "Wi-Fi publik", "Aplikasi layanan"))
    control = _staff(new_context, seeded, "control", dialogs, **LAPTOP)
    projector = _staff(new_context, seeded, "projector", dialogs, **PROJECTOR)
    _, hall = _participant(new_context, seeded, "hall", dialogs)
    _, online = _participant(new_context, seeded, "online", dialogs)
    text = _texts(control)

    # The online participant votes on the phone; the hall raises hands.
    online.get_by_role("radio", name="Wi-Fi publik").check()
    online.locator("[data-answer-submit]").click()
    expect(online.get_by_test_id("my-answer")).to_contain_text("Wi-Fi publik")
    form = control.get_by_test_id("hall-count")
    expect(form).to_be_visible()
    expect(form.locator("[data-hall-count-help]")).to_have_text(
        text["hall_count_help"].replace("{present}", "2")
    )

    # Too many hands: saved, with the warning; then corrected.
    form.get_by_label("CCTV").fill("3")
    form.locator("[data-hall-count-save]").click()
    message = form.locator("[data-hall-count-message]")
    expect(message).to_have_text(
        "Jumlah tangan melebihi 2 orang yang check-in di aula: hitungan disimpan, mohon diperiksa."
    )
    expect(message).to_have_class("live-hall-count-message is-warning")
    form.get_by_label("CCTV").fill("1")
    form.get_by_label("Wi-Fi publik").fill("1")
    form.locator("[data-hall-count-save]").click()
    expect(message).to_have_text(text["hall_count_saved"])

    # A count that is no whole number is refused, in Indonesian, and nothing changes.
    form.get_by_label("Aplikasi layanan").fill("-2")
    form.locator("[data-hall-count-save]").click()
    expect(message).to_have_text("Setiap hitungan aula harus bilangan bulat dari 0 sampai 10.000.")
    expect(form.get_by_label("Aplikasi layanan")).to_have_attribute("aria-invalid", "true")

    # Merged on the projector, the control page and both phones, with the split.
    for page, results in (
        (projector, "[data-projector-results]"),
        (control, "[data-current-results]"),
        (hall, "[data-results]"),
        (online, "[data-results]"),
    ):
        for option_id, count, hands, votes in (
            (cctv, "1", "1", "0"),
            (wifi, "2", "1", "1"),
            (app, "0", "0", "0"),
        ):
            bar = _bar(page, results, option_id)
            expect(bar.locator(".live-bar-count")).to_have_text(count)
            sources = bar.locator(".live-bar-sources")
            expect(sources).to_have_text(f"Aula: {hands} · Daring: {votes}")
        expect(page.locator(f"{results} .live-sources")).to_have_text("Aula: 2 · Daring: 1")

    for width, page, name in ((360, online, "phone"), (1366, control, "control")):
        page.set_viewport_size({"width": width, "height": 900 if width > 400 else 740})
        page.screenshot(path=f"{SHOTS}/hall-count-{name}-{width}.png", full_page=True)
    control.set_viewport_size(PHONE["viewport"])
    control.screenshot(path=f"{SHOTS}/hall-count-control-360.png", full_page=True)
    projector.screenshot(path=f"{SHOTS}/hall-count-projector-1920.png")

    # Closed: the count can no longer be changed, and the page says so.
    control.locator(f"[data-poll-row='{seeded.poll_id}'] [data-poll-action=close]").click()
    expect(form.get_by_label("CCTV")).to_be_disabled()
    expect(message).to_have_text(text["hall_count_closed"])
    expect(form.locator("[data-hall-count-save]")).to_be_hidden()
    assert dialogs == []
    # The refused count's 400 is the one error the browser logs.
    assert [
        problem for problem in browser_problems.seen if "hall-count: Failed to load resource" not in problem
    ] == []


def test_a_petugas_counts_hands_from_a_phone_and_the_projector_merges_them(
    live_server, new_context, browser_problems
):
    dialogs: list[str] = []
    seeded = _seed(
        live_server,
        title="Bimtek Hitung Petugas",
        people={
            "hall": ("Rina Simanjuntak", Mode.LURING, OrgKind.OPD),
            "online": ("Kades Hutatoruan", Mode.DARING, OrgKind.DESA),
        },
        poll=live_services.PollDraft(
            kind=PollKind.SINGLE, question="Sudah ada Wi-Fi desa?", options=["Ya", "Belum"]
        ),
        open_poll=True,
    )
    _check_in_everyone_in_person(live_server, seeded.stage_id)
    with live_server.session() as session:
        petugas = factories.staff(session, Role.PETUGAS).username
    yes = seeded.options["Ya"]
    projector = _staff(new_context, seeded, "projector", dialogs, **PROJECTOR)
    _, online = _participant(new_context, seeded, "online", dialogs)
    online.get_by_role("radio", name="Ya").check()
    online.locator("[data-answer-submit]").click()
    expect(online.get_by_test_id("my-answer")).to_contain_text("Ya")

    phone = new_context(**PHONE).new_page()
    log_in(phone, petugas)
    phone.goto("/checkin")
    phone.get_by_test_id(f"hall-count-{seeded.stage_id}").click()
    form = phone.get_by_test_id("hall-page")
    expect(form.get_by_label("Ya")).to_have_value("0")
    form.get_by_label("Ya").fill("1")
    phone.get_by_test_id("hall-save").click()
    expect(phone.locator(".flash-success")).to_have_text("Hitungan aula disimpan.")
    expect(phone.get_by_test_id("hall-page").get_by_label("Ya")).to_have_value("1")
    phone.screenshot(path=f"{SHOTS}/hall-count-petugas-360.png", full_page=True)

    bar = _bar(projector, "[data-projector-results]", yes)
    expect(bar.locator(".live-bar-count")).to_have_text("2")
    expect(bar.locator(".live-bar-sources")).to_have_text("Aula: 1 · Daring: 1")
    expect(_bar(online, "[data-results]", yes).locator(".live-bar-sources")).to_have_text(
        "Aula: 1 · Daring: 1"
    )
    assert dialogs == []
    assert browser_problems.seen == []


def test_hands_counted_per_rating_on_the_control_page_merge_into_the_bars_and_the_average(
    live_server, new_context, browser_problems
):
    dialogs: list[str] = []
    seeded = _seed(
        live_server,
        title="Bimtek Hitung Nilai",
        people={
            "hall": ("Maruli Tambunan", Mode.LURING, OrgKind.OPD),
            "hall2": ("Dame Siregar", Mode.LURING, OrgKind.OPD),
            "hall3": ("Lamhot Purba", Mode.LURING, OrgKind.OPD),
            "online": ("Kades Sipoholon", Mode.DARING, OrgKind.DESA),
        },
        poll=live_services.PollDraft(kind=PollKind.RATING, question="Seberapa siap desa Anda?", scale=5),
        open_poll=True,
    )
    _check_in_everyone_in_person(live_server, seeded.stage_id)
    control = _staff(new_context, seeded, "control", dialogs, **LAPTOP)
    projector = _staff(new_context, seeded, "projector", dialogs, **PROJECTOR)
    _, online = _participant(new_context, seeded, "online", dialogs)
    text = _texts(control)

    online.locator(".live-rate[value='4']").click()
    expect(online.get_by_test_id("my-answer")).to_contain_text("4 / 5")
    form = control.get_by_test_id("hall-count")
    expect(form.locator("input")).to_have_count(5)  # one field per value of the scale
    form.get_by_label("5", exact=True).fill("2")
    form.get_by_label("3", exact=True).fill("1")
    form.locator("[data-hall-count-save]").click()
    expect(form.locator("[data-hall-count-message]")).to_have_text(text["hall_count_saved"])

    for page, results in ((projector, "[data-projector-results]"), (online, "[data-results]")):
        for value, count, sources in (
            ("3", "1", "Aula: 1 · Daring: 0"),
            ("4", "1", "Aula: 0 · Daring: 1"),
            ("5", "2", "Aula: 2 · Daring: 0"),
        ):
            bar = _bar(page, results, value)
            expect(bar.locator(".live-bar-count")).to_have_text(count)
            expect(bar.locator(".live-bar-sources")).to_have_text(sources)
        expect(page.locator(f"{results} .live-average")).to_have_text("Rata-rata: 4,25")
    # The organiser downloads the hall count beside the answers.
    expect(control.locator("[data-export-hall]")).to_have_attribute(
        "href", f"/live/polls/{seeded.poll_id}/hall.csv"
    )
    control.set_viewport_size({"width": 1366, "height": 900})
    control.screenshot(path=f"{SHOTS}/hall-count-rating-control-1366.png", full_page=True)
    online.screenshot(path=f"{SHOTS}/hall-count-rating-phone-360.png", full_page=True)
    assert dialogs == []
    assert browser_problems.seen == []
