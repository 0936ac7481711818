"""The petugas' scanner page in headless Chromium against the real server.

(a) The camera: Chromium's fake capture device plays a Y4M video, written by the test, that shows a
    participant's QR code. Chromium on Linux desktop has no working BarcodeDetector, so there the
    page decodes with the barcode-detector polyfill (ZXing's WebAssembly, from static/vendor, never
    from a CDN); where the native detector reads QR codes the page uses it instead. This test launches its own Chromium (the camera flags).
(b) Offline, as the issue asks: with the browser context offline, three check-ins are made, the page
    is reloaded (the service worker, static/js/scanner-sw.js, serves it from its cache) and shows
    the three still queued; the network restored, each reaches the server exactly once. "Offline"
    is Chromium's emulation (what the page sees) and a cut relay in front of the server (what
    reaches it: tests/browser/relay.py), and the page is watched for any request it makes
    while it knows it is offline.
(c) Undo: of a check-in on the server, and of a scan still waiting on the device (it is never sent).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import qrcode
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from tests import factories
from tests.browser.conftest import ACTION_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS
from tests.browser.relay import CuttableRelay
from workshop.auth.models import Role
from workshop.checkin.models import CheckIn, ScanAttempt, ScanMethod, ScanResult
from workshop.programs.models import OrgKind
from workshop.registration.models import Status
from workshop.tickets import codes

pytestmark = pytest.mark.browser

JAKARTA = ZoneInfo("Asia/Jakarta")
WIDTH, HEIGHT, FRAMES = 640, 480, 60
WASM = "vendor/barcode-detector/zxing_reader.wasm"


def seed_stage_today(live_server, people: list[tuple[str, str]]):
    """A one-stage programme held today (all day, WIB), approved participants, a petugas."""
    with live_server.session() as session:
        program = factories.program(session, stages=1, title="Bimtek Smart City Tapanuli Utara")
        stage = program.stages[0]
        today = datetime.now(JAKARTA).date()
        stage.starts_at = datetime.combine(today, time(0, 0), tzinfo=JAKARTA).astimezone(UTC)
        stage.ends_at = datetime.combine(today, time(23, 59), tzinfo=JAKARTA).astimezone(UTC)
        registrations = []
        for name, organization in people:
            org = factories.organization(session, kind=OrgKind.OPD, name=organization)
            registrations.append(
                factories.registration(session, program, status=Status.APPROVED, name=name, org=org)
            )
        petugas = factories.staff(session, Role.PETUGAS)
        session.flush()
        return (
            stage.id,
            petugas.username,
            [(r.id, r.ticket_secret, r.ticket_code) for r in registrations],
        )


def open_scanner(page: Page, stage_id: int, username: str, desk: str) -> None:
    page.goto(f"/login?next=/checkin/stages/{stage_id}")
    page.locator("#username").fill(username)
    page.locator("#password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page.locator("h1")).to_have_text("Check-in · Tahap I")
    expect(page.locator("#desk-form")).to_be_visible()  # first time on this device: name the desk
    page.locator("#desk-input").fill(desk)
    page.get_by_test_id("desk-save").click()
    expect(page.locator("[data-desk-name]")).to_have_text(desk)
    expect(page.locator("[data-scanner]")).to_have_attribute("data-state", "ready")


# Records every result screen the page shows (a green one stays only a second: too short to poll for).
RECORD_RESULTS = """() => {
  window.shownResults = [];
  const screen = document.getElementById("result");
  const text = (id) => screen.querySelector(`[data-testid=${id}]`).textContent;
  new MutationObserver(() => {
    if (!screen.hidden) {
      window.shownResults.push({
        colour: screen.dataset.colour,
        offline: !screen.querySelector("[data-testid=result-offline]").hidden,
        name: text("result-name"),
        organization: text("result-organization"),
        message: text("result-message"),
      });
    }
  }).observe(screen, { attributes: true, attributeFilter: ["hidden", "data-colour"] });
}"""


def shown_results(page: Page, count: int) -> list[dict]:
    """The first `count` result screens since RECORD_RESULTS, waiting for them to appear."""
    page.wait_for_function("count => window.shownResults.length >= count", arg=count)
    return page.evaluate("() => window.shownResults")[:count]


def write_qr_video(path: Path, payload: str) -> None:
    """A YUV4MPEG2 file (what Chromium's fake camera plays, in a loop): the QR code, centred on white."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(payload)
    qr_image = code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    frame = Image.new("RGB", (WIDTH, HEIGHT), "white")
    frame.paste(qr_image, ((WIDTH - qr_image.width) // 2, (HEIGHT - qr_image.height) // 2))
    luma, blue, red = frame.convert("YCbCr").split()
    chroma_size = (WIDTH // 2, HEIGHT // 2)  # 4:2:0: one chroma sample per 2x2 pixels
    planes = luma.tobytes() + blue.resize(chroma_size).tobytes() + red.resize(chroma_size).tobytes()
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(FRAMES):
            video.write(b"FRAME\n" + planes)


@pytest.fixture
def camera_browser(browser: Browser, tmp_path) -> tuple[Browser, Path]:
    """A Chromium of its own whose camera shows the video the test writes to the returned path."""
    video = tmp_path / "qr.y4m"
    video.write_bytes(b"")  # the test writes it before the page asks for the camera
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    own = browser.browser_type.launch(executable_path=str(CHROMIUM), args=args)
    yield own, video
    own.close()


def test_the_camera_reads_a_ticket_green_then_amber_and_checks_in_once(
    live_server, camera_browser, browser_problems
):
    stage_id, username, [(registration_id, secret, _)] = seed_stage_today(
        live_server, [("Nelson Pardede", "Dinas Komunikasi dan Informatika")]
    )
    own_browser, video = camera_browser
    write_qr_video(video, codes.qr_payload(secret))
    context = own_browser.new_context(
        base_url=live_server.url, locale="id-ID", timezone_id="Asia/Jakarta", permissions=["camera"]
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    browser_problems.watch(context)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        open_scanner(page, stage_id, username, "Meja 1")

        page.evaluate(RECORD_RESULTS)
        page.get_by_test_id("camera-toggle").click()

        # Green, then (the camera still shows the ticket once the green screen is gone) amber.
        green, amber = shown_results(page, 2)
        with live_server.session() as session:
            check_in = session.execute(
                select(CheckIn.registration_id, CheckIn.desk, CheckIn.undone_at, CheckIn.scanned_at).where(
                    CheckIn.stage_id == stage_id
                )
            ).one()
            attempts = session.execute(
                select(ScanAttempt.result, ScanAttempt.method)
                .where(ScanAttempt.stage_id == stage_id)
                .order_by(ScanAttempt.id)
            ).all()
        clock = check_in.scanned_at.astimezone(JAKARTA).strftime("%H.%M")
        person = {
            "name": "Nelson Pardede",
            "organization": "Dinas Komunikasi dan Informatika",
            "offline": False,
        }
        assert green == {"colour": "green", "message": "Berhasil check-in", **person}
        assert amber == {
            "colour": "amber",
            "message": f"Sudah check-in pukul {clock} WIB oleh Meja 1",
            **person,
        }
        assert (check_in.registration_id, check_in.desk, check_in.undone_at) == (
            registration_id,
            "Meja 1",
            None,
        )
        assert attempts[:2] == [
            (ScanResult.OK, ScanMethod.CAMERA),
            (ScanResult.ALREADY_CHECKED_IN, ScanMethod.CAMERA),
        ]
        assert counts(live_server, stage_id)[0] == 1  # however often the camera read it
        native = page.evaluate(
            "async () => 'BarcodeDetector' in window"
            " && (await BarcodeDetector.getSupportedFormats()).includes('qr_code')"
        )
        expect(page.locator("[data-camera]")).to_have_attribute(
            "data-decoder", "native" if native else "polyfill"
        )
        assert [url for url in requested if not url.startswith(live_server.url)] == []
        if not native:
            assert [url for url in requested if url.endswith(".wasm")] == [
                f"{live_server.url}/static/{live_server.app.extensions['static_manifest'][WASM]}"
            ]
        assert browser_problems.seen == []
    finally:
        context.close()


# Records every request the page makes while it believes it is offline (navigator.onLine false): the
# scanner must never try then. Kept per document: a reload starts a new list.
WATCH_OFFLINE_FETCHES = """
window.fetchesWhileOffline = [];
const realFetch = window.fetch;
window.fetch = function (input, init) {
  if (!navigator.onLine) {
    window.fetchesWhileOffline.push(`${(init && init.method) || "GET"} ${input}`);
  }
  return realFetch.apply(this, arguments);
};
"""


@pytest.fixture
def relay(live_server):
    relay = CuttableRelay(int(live_server.url.rsplit(":", 1)[1]))
    yield relay
    relay.close()


def test_offline_check_ins_survive_a_reload_and_reach_the_server_exactly_once(
    live_server, browser, relay, browser_problems
):
    stage_id, username, registrations = seed_stage_today(
        live_server,
        [
            ("Nelson Pardede", "Dinas Kominfo"),
            ("Marulam Simanjuntak", "Bappeda"),
            ("Ani Lumbantobing", "Dinas Perhubungan"),
        ],
    )
    context = browser.new_context(base_url=relay.url, locale="id-ID", timezone_id="Asia/Jakarta")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    browser_problems.watch(context)
    context.add_init_script(WATCH_OFFLINE_FETCHES)
    try:
        _offline_check_ins(live_server, relay, context, stage_id, username, registrations)
    finally:
        context.close()
    assert browser_problems.seen == []


def _offline_check_ins(live_server, relay, context, stage_id, username, registrations) -> None:
    (nelson_id, _, nelson_code), (marulam_id, _, _), (ani_id, _, ani_code) = registrations
    page = context.new_page()
    open_scanner(page, stage_id, username, "Meja 3")
    expect(page.get_by_test_id("roster-status")).to_have_attribute("data-count", "3")
    # the service worker controls the page and keeps it, with its files, for an offline reload
    expect(page.locator("[data-scanner]")).to_have_attribute("data-offline-ready", "true")
    assert page.evaluate("() => navigator.serviceWorker.controller.scriptURL").endswith("/checkin/sw.js")
    worker = page.request.get("/checkin/sw.js")
    assert (worker.status, worker.headers["content-type"], worker.headers["cache-control"]) == (
        200,
        "text/javascript; charset=utf-8",
        "no-cache",
    )

    page.evaluate(RECORD_RESULTS)
    relay.cut()
    context.set_offline(True)
    expect(page.get_by_test_id("network-badge")).to_have_text("Offline")
    before_scans = datetime.now(UTC)
    page.locator("#code-input").fill(codes.format_short_code(nelson_code))
    page.locator("#code-input").press("Enter")
    page.locator("#code-input").fill(ani_code.lower())
    page.locator("#code-input").press("Enter")
    page.locator("#search-input").fill("simanjun")
    expect(page.locator("[data-search-note]")).to_have_text("Offline: mencari di daftar perangkat ini.")
    found = page.get_by_test_id("search-results").locator("li")
    expect(found).to_have_count(1)
    expect(found.locator("strong")).to_have_text("Marulam Simanjuntak")
    found.get_by_role("button", name="Check-in").click()  # once the result screen in front is gone
    shown = shown_results(page, 3)
    after_scans = datetime.now(UTC)
    expected = [
        ("Nelson Pardede", "Dinas Kominfo"),
        ("Ani Lumbantobing", "Dinas Perhubungan"),
        ("Marulam Simanjuntak", "Bappeda"),
    ]
    assert shown == [
        {
            "colour": "green",
            "offline": True,
            "message": "Berhasil check-in",
            "name": name,
            "organization": org,
        }
        for name, org in expected
    ]
    expect(page.get_by_test_id("queue-count")).to_have_text("3 menunggu dikirim")
    assert counts(live_server, stage_id) == (0, 0)
    assert page.evaluate("() => window.fetchesWhileOffline") == []

    # Reloaded while still offline: the service worker serves the page, which still holds the queue.
    page.reload()
    expect(page.locator("[data-scanner]")).to_have_attribute("data-state", "ready")
    delivered = "() => performance.getEntriesByType('navigation')[0].deliveryType"
    assert page.evaluate(delivered) == "cache-storage"  # from the worker's cache, not the network
    expect(page.get_by_test_id("network-badge")).to_have_text("Offline")
    expect(page.get_by_test_id("queue-count")).to_have_text("3 menunggu dikirim")
    assert counts(live_server, stage_id) == (0, 0)
    assert page.evaluate("() => window.fetchesWhileOffline") == []

    # The network restored: the "online" event sends the queue, once.
    relay.restore()
    with page.expect_response(lambda response: response.url.endswith("/checkin/batch")) as sent:
        context.set_offline(False)
    assert sent.value.status == 200
    expect(page.get_by_test_id("queue-count")).to_be_hidden()
    expect(page.get_by_test_id("network-badge")).to_have_text("Terhubung")

    assert counts(live_server, stage_id) == (3, 3)
    with live_server.session() as session:
        rows = session.execute(
            select(CheckIn.registration_id, CheckIn.desk, CheckIn.scanned_at, CheckIn.received_at).where(
                CheckIn.stage_id == stage_id
            )
        ).all()
        methods = session.execute(
            select(ScanAttempt.registration_id, ScanAttempt.method, ScanAttempt.result).where(
                ScanAttempt.stage_id == stage_id
            )
        ).all()
    assert {row.registration_id for row in rows} == {nelson_id, marulam_id, ani_id}
    assert {row.desk for row in rows} == {"Meja 3"}
    # kept with the time the desk scanned them, not the time they arrived
    assert all(before_scans - timedelta(seconds=1) <= row.scanned_at <= after_scans for row in rows)
    assert all(row.received_at > after_scans for row in rows)
    assert sorted(methods) == sorted(
        [
            (nelson_id, ScanMethod.TYPED, ScanResult.OK),
            (ani_id, ScanMethod.TYPED, ScanResult.OK),
            (marulam_id, ScanMethod.SEARCH, ScanResult.OK),
        ]
    )
    # A red result stays about 3 s, unless tapped away.
    page.locator("#code-input").fill("BH1:bukan-tiket")
    page.locator("#code-input").press("Enter")
    expect(page.get_by_test_id("result")).to_have_attribute("data-colour", "red")
    expect(page.get_by_test_id("result-message")).to_have_text("Kode tidak dikenal")
    page.get_by_test_id("result").click()
    expect(page.get_by_test_id("result")).to_be_hidden(timeout=500)


def counts(live_server, stage_id: int) -> tuple[int, int]:
    """Check-ins and scan attempts of the stage (the live server's database is shared by the tests)."""
    with live_server.session() as session:
        return (
            session.scalar(select(func.count()).select_from(CheckIn).where(CheckIn.stage_id == stage_id)),
            session.scalar(
                select(func.count()).select_from(ScanAttempt).where(ScanAttempt.stage_id == stage_id)
            ),
        )


def test_undo_takes_back_a_check_in_on_the_server_or_a_scan_still_waiting_on_the_device(
    live_server, new_context, browser_problems
):
    stage_id, username, [(nelson_id, _, nelson_code), (_, _, ani_code)] = seed_stage_today(
        live_server, [("Nelson Pardede", "Dinas Kominfo"), ("Ani Lumbantobing", "Dinas Perhubungan")]
    )
    context = new_context()
    page = context.new_page()
    open_scanner(page, stage_id, username, "Meja 2")

    page.locator("#code-input").fill(nelson_code)
    page.locator("#code-input").press("Enter")
    expect(page.get_by_test_id("result")).to_have_attribute("data-colour", "green")
    page.get_by_test_id("last-undo").click()  # under the result screen: clicked once it is gone
    expect(page.locator("[data-last-text]")).to_have_text("Check-in dibatalkan")
    expect(page.get_by_test_id("last-undo")).to_be_hidden()
    with live_server.session() as session:
        undone = session.scalar(select(CheckIn.undone_at).where(CheckIn.registration_id == nelson_id))
    assert undone is not None

    context.set_offline(True)
    page.locator("#code-input").fill(ani_code)
    page.locator("#code-input").press("Enter")
    expect(page.get_by_test_id("queue-count")).to_have_text("1 menunggu dikirim")
    page.get_by_test_id("last-undo").click()
    expect(page.get_by_test_id("queue-count")).to_be_hidden()
    expect(page.locator("[data-last-text]")).to_have_text("Check-in dibatalkan")
    context.set_offline(False)
    page.reload()
    expect(page.locator("[data-scanner]")).to_have_attribute("data-state", "ready")

    # the undone offline scan never left the device
    assert counts(live_server, stage_id) == (1, 1)
    assert browser_problems.seen == []


# What the scanner keeps on the device: localStorage's bh.scanner.* keys, and the keys of its IndexedDB
# store (static/js/scanner/storage.js), read here without the page's own code.
IDB = """(action) => new Promise((resolve, reject) => {
  const opening = indexedDB.open("bh-scanner");
  opening.onupgradeneeded = () => opening.result.createObjectStore("keyval");
  opening.onerror = () => reject(opening.error);
  opening.onsuccess = () => {
    const db = opening.result;
    const store = db.transaction("keyval", action.write ? "readwrite" : "readonly").objectStore("keyval");
    const request = action.write ? store.put(action.value, action.write) : action.read ? store.get(action.read) : store.getAllKeys();
    request.onsuccess = () => { db.close(); resolve(request.result === undefined ? null : request.result); };
    request.onerror = () => reject(request.error);
  };
})"""
LOCAL_KEYS = "() => Object.keys(localStorage).filter((key) => key.startsWith('bh.scanner.')).sort()"


def kept(page: Page) -> tuple[list[str], list[str]]:
    """(the scanner's localStorage keys, its IndexedDB keys), sorted."""
    return page.evaluate(LOCAL_KEYS), sorted(page.evaluate(IDB, {}))


def test_offline_a_scanned_qr_code_is_found_by_its_mac_and_the_device_holds_no_secret(
    live_server, new_context, browser_problems
):
    stage_id, username, [(_, secret, _)] = seed_stage_today(
        live_server, [("Nelson Pardede", "Dinas Kominfo")]
    )
    context = new_context()
    page = context.new_page()
    open_scanner(page, stage_id, username, "Meja 1")
    expect(page.get_by_test_id("roster-status")).to_have_attribute("data-count", "1")
    stored = json.dumps(page.evaluate(IDB, {"read": f"roster.{stage_id}"}))
    assert '"mac"' in stored and secret not in stored  # the roster on the device opens no door

    page.evaluate(RECORD_RESULTS)
    context.set_offline(True)
    expect(page.get_by_test_id("network-badge")).to_have_text("Offline")
    page.locator("#code-input").fill(codes.qr_payload(secret))  # as a hand-held scanner types it
    page.locator("#code-input").press("Enter")

    assert shown_results(page, 1) == [
        {
            "colour": "green",
            "offline": True,
            "message": "Berhasil check-in",
            "name": "Nelson Pardede",
            "organization": "Dinas Kominfo",
        }
    ]
    expect(page.get_by_test_id("queue-count")).to_have_text("1 menunggu dikirim")
    # a well-formed secret the roster has no mac of: not on this device (the server decides later)
    page.locator("#code-input").fill(codes.qr_payload(codes.new_secret()))
    page.locator("#code-input").press("Enter")
    unknown = shown_results(page, 2)[1]
    assert (unknown["colour"], unknown["offline"], unknown["name"]) == ("amber", True, "")
    context.set_offline(False)
    expect(page.get_by_test_id("queue-count")).to_be_hidden()  # sent once the network is back
    assert counts(live_server, stage_id) == (1, 2)
    assert browser_problems.seen == []


def one_person_scanner(live_server, new_context) -> tuple[Page, int]:
    stage_id, username, _ = seed_stage_today(live_server, [("Nelson Pardede", "Dinas Kominfo")])
    page = new_context().new_page()
    open_scanner(page, stage_id, username, "Meja 1")
    return page, stage_id


def with_roster(stage_id: int) -> tuple[list[str], list[str]]:
    """What a scanner of the stage keeps on the device once its roster arrived."""
    return ["bh.scanner.desk", "bh.scanner.kept"], [f"roster.{stage_id}", f"seen.{stage_id}"]


def test_the_device_keeps_the_roster_only_until_logout_and_says_so(
    live_server, new_context, browser_problems
):
    page, stage_id = one_person_scanner(live_server, new_context)
    expect(page.get_by_test_id("roster-status")).to_have_attribute("data-count", "1")
    expect(page.get_by_test_id("roster-note")).to_contain_text(
        "Perangkat ini menyimpan daftar peserta tahap ini (nama, jabatan, instansi)"
    )
    assert kept(page) == with_roster(stage_id)
    page.evaluate(IDB, {"write": f"queue.{stage_id}", "value": []})  # scans waiting

    page.get_by_role("button", name="Keluar").click()
    expect(page.get_by_role("button", name="Keluar")).to_have_count(0)  # logged out

    # the roster is gone; the desk name and the scans still to be sent stay
    assert kept(page) == (["bh.scanner.desk", "bh.scanner.kept"], [f"queue.{stage_id}"])
    assert page.evaluate("() => localStorage.getItem('bh.scanner.kept')") == "{}"
    assert browser_problems.seen == []


def test_a_roster_of_a_stage_that_has_ended_is_dropped_from_the_device(
    live_server, new_context, browser_problems
):
    page, stage_id = one_person_scanner(live_server, new_context)
    ended = {"stage": {"days": ["2021-06-24", "2021-06-25"], "timezone": "Asia/Jakarta"}, "registrations": []}
    page.evaluate(
        "(ended) => { localStorage.setItem('bh.scanner.roster.999', JSON.stringify(ended));"
        " localStorage.setItem('bh.scanner.seen.999', '{}'); }",
        ended,
    )

    page.evaluate(IDB, {"write": "roster.998", "value": ended})
    page.evaluate(IDB, {"write": "seen.998", "value": {}})
    page.evaluate(
        "() => { const kept = JSON.parse(localStorage.getItem('bh.scanner.kept'));"
        " kept[998] = { last: '2021-06-25', timezone: 'Asia/Jakarta' };"
        " localStorage.setItem('bh.scanner.kept', JSON.stringify(kept)); }"
    )

    page.goto("/checkin")  # any page

    expect(page.locator("h1")).to_be_visible()
    page.wait_for_function("() => !('998' in JSON.parse(localStorage.getItem('bh.scanner.kept')))")
    page.wait_for_function(f"async () => ((await ({IDB})({{}})).length === 2)")
    assert kept(page) == with_roster(stage_id)
    assert browser_problems.seen == []


def test_a_roster_an_older_version_kept_stays_after_midnight_while_its_one_day_stage_may_still_run(
    live_server, new_context, browser_problems
):
    """Rosters in localStorage (the older format names the stage's days, not its end): at 00.30 WIB on
    Jumat 25 Juni 2021 a stage of 24 Juni alone may be one span still running (19.00 to 01.00 WIB, its
    check-ins of 24 Juni: stageDay), and its roster stays through 25 Juni; a stage of 23 Juni, or of 23
    and 24 Juni (daily windows), has ended."""
    rosters = {
        901: ["2021-06-24"],
        902: ["2021-06-23"],
        903: ["2021-06-23", "2021-06-24"],
        904: ["2021-06-24", "2021-06-25"],
    }
    page = new_context().new_page()
    page.goto("/login")
    page.evaluate(
        "(rosters) => { for (const [stage, days] of Object.entries(rosters)) {"
        " localStorage.setItem(`bh.scanner.roster.${stage}`,"
        " JSON.stringify({ stage: { days, timezone: 'Asia/Jakarta' }, registrations: [] }));"
        " localStorage.setItem(`bh.scanner.seen.${stage}`, '{}'); } }",
        {str(stage): days for stage, days in rosters.items()},
    )

    def kept_at(moment: datetime) -> list[str]:
        page.clock.set_fixed_time(moment)
        page.goto("/login")  # any page
        expect(page.locator("h1")).to_be_visible()
        return page.evaluate(LOCAL_KEYS)

    still_running = [f"bh.scanner.{kind}.{stage}" for kind in ("roster", "seen") for stage in (901, 904)]
    assert kept_at(datetime(2021, 6, 24, 17, 30, tzinfo=UTC)) == still_running
    assert kept_at(datetime(2021, 6, 25, 16, 59, 59, tzinfo=UTC)) == still_running  # 23.59.59 WIB, 25 Juni
    assert kept_at(datetime(2021, 6, 25, 17, tzinfo=UTC)) == []  # Sabtu 26 Juni, 00.00 WIB
    assert browser_problems.seen == []


def test_after_midnight_the_desk_keeps_the_roster_and_the_day_of_a_stage_crossing_midnight(
    live_server, new_context, browser_problems
):
    """A stage of Kamis 24 Juni 2021, 19.00 WIB to Jumat, 01.00 WIB, its desk at 00.30 WIB on the device's
    clock: the stage has not ended, its check-ins are still those of its day (24 Juni), as on the server
    (workshop/programs/windows.py hall_date)."""
    with live_server.session() as session:
        program = factories.program(session, stages=1)
        stage = program.stages[0]
        stage.starts_at, stage.ends_at = (
            datetime(2021, 6, 24, 12, tzinfo=UTC),
            datetime(2021, 6, 24, 18, tzinfo=UTC),
        )
        factories.registration(session, program, status=Status.APPROVED, name="Nelson Pardede")
        username = factories.staff(session, Role.PETUGAS).username
        session.flush()
        stage_id = stage.id
    page = new_context().new_page()
    page.clock.set_fixed_time(datetime(2021, 6, 24, 17, 30, tzinfo=UTC))

    open_scanner(page, stage_id, username, "Meja 1")

    expect(page.get_by_test_id("roster-status")).to_have_attribute("data-count", "1")
    assert kept(page) == with_roster(stage_id)
    assert json.loads(page.evaluate("() => localStorage.getItem('bh.scanner.kept')")) == {
        str(stage_id): {"last": "2021-06-25", "timezone": "Asia/Jakarta"}
    }
    assert page.evaluate(IDB, {"read": f"seen.{stage_id}"}) == {"day": "2021-06-24", "entries": {}}
    module = f"/static/{live_server.app.extensions['static_manifest']['js/scanner/page.js']}"
    # 16.59.59 WIB (before the check-in opens), 00.30 and 01.00.01 WIB, then 00.00 WIB on Sabtu 26 Juni
    moments = ["2021-06-24T09:59:59Z", "2021-06-24T17:30:00Z", "2021-06-24T18:00:01Z", "2021-06-25T17:00:00Z"]
    days = page.evaluate(
        "async ([url, moments]) => { const page = await import(url);"
        " return moments.map((moment) => page.stageDay(new Date(moment))); }",
        [module, moments],
    )
    assert days == ["2021-06-24", "2021-06-24", "2021-06-24", "2021-06-26"]
    assert browser_problems.seen == []


def test_two_tabs_of_the_scanner_queue_offline_without_losing_each_others_scans(
    live_server, new_context, browser_problems
):
    people = [(f"Peserta {number}", "Dinas Kominfo") for number in range(1, 7)]
    stage_id, username, registrations = seed_stage_today(live_server, people)
    context = new_context()
    first = context.new_page()
    open_scanner(first, stage_id, username, "Meja 1")
    second = context.new_page()
    second.goto(f"/checkin/stages/{stage_id}")  # the same device: its desk is named already
    expect(second.locator("[data-scanner]")).to_have_attribute("data-state", "ready")

    context.set_offline(True)
    for page in (first, second):
        expect(page.get_by_test_id("network-badge")).to_have_text("Offline")
    # Scans in both tabs at once: each tab's queue write is made over the other's (one Web Lock).
    for index, (_, _, code) in enumerate(registrations):
        page = (first, second)[index % 2]
        page.locator("#code-input").fill(code)
        page.locator("#code-input").press("Enter")
    for page in (first, second):
        expect(page.get_by_test_id("queue-count")).to_have_text("6 menunggu dikirim")
    assert len(first.evaluate(IDB, {"read": f"queue.{stage_id}"})) == 6
    assert counts(live_server, stage_id) == (0, 0)

    context.set_offline(False)
    for page in (first, second):
        expect(page.get_by_test_id("queue-count")).to_be_hidden()
    assert counts(live_server, stage_id)[0] == 6  # every scan reached the server, once each
    assert browser_problems.seen == []


def test_of_two_queued_scans_sharing_a_nonce_the_first_is_recorded_and_only_the_second_dropped(
    live_server, new_context, browser_problems
):
    """Two scans queued offline, the second given the first's nonce on the device (a client's bug): the
    batch endpoint refuses the batch naming the second (409, its index); the desk drops that one alone
    and sends the first again, which is recorded under its nonce; the second never is."""
    stage_id, username, [(nelson_id, _, nelson_code), (_, _, ani_code)] = seed_stage_today(
        live_server, [("Nelson Pardede", "Dinas Kominfo"), ("Ani Lumbantobing", "Dinas Perhubungan")]
    )
    context = new_context()
    page = context.new_page()
    open_scanner(page, stage_id, username, "Meja 1")
    context.set_offline(True)
    expect(page.get_by_test_id("network-badge")).to_have_text("Offline")
    for code in (nelson_code, ani_code):
        page.locator("#code-input").fill(code)
        page.locator("#code-input").press("Enter")
    expect(page.get_by_test_id("queue-count")).to_have_text("2 menunggu dikirim")
    key = f"queue.{stage_id}"
    first, second = page.evaluate(IDB, {"read": key})
    assert [first["code"], second["code"]] == [nelson_code, ani_code]
    page.evaluate(IDB, {"write": key, "value": [first, {**second, "nonce": first["nonce"]}]})

    batches: list[tuple[int, list[str]]] = []
    page.on(
        "response",
        lambda response: (
            response.url.endswith("/checkin/batch")
            and batches.append(
                (response.status, [scan["code"] for scan in response.request.post_data_json["scans"]])
            )
        ),
    )
    context.set_offline(False)
    expect(page.get_by_test_id("queue-count")).to_be_hidden()
    assert page.evaluate(IDB, {"read": key}) == []

    assert batches == [(409, [nelson_code, ani_code]), (200, [nelson_code])]
    with live_server.session() as session:
        checked_in = session.scalars(
            select(CheckIn.registration_id).where(CheckIn.stage_id == stage_id)
        ).all()
        attempts = session.execute(
            select(ScanAttempt.registration_id, ScanAttempt.client_nonce, ScanAttempt.result).where(
                ScanAttempt.stage_id == stage_id
            )
        ).all()
    assert checked_in == [nelson_id]
    assert attempts == [(nelson_id, first["nonce"], ScanResult.OK)]
    # The refused batch is the one error the page's console shows.
    assert [problem for problem in browser_problems.seen if "409" not in problem] == []
    assert len(browser_problems.seen) == 1


def test_scans_and_a_roster_an_older_version_kept_in_local_storage_move_to_indexeddb_once(
    live_server, new_context, browser_problems
):
    page, stage_id = one_person_scanner(live_server, new_context)
    # the page reloads offline below: from the service worker's copy, once it holds one
    expect(page.locator("[data-scanner]")).to_have_attribute("data-offline-ready", "true")
    context = page.context
    context.set_offline(True)
    old_scan = {
        "code": "ZZZZ-ZZZZ",
        "desk": "Meja 1",
        "nonce": "older-version-0001",
        "scanned_at": datetime.now(UTC).isoformat(),
        "method": "typed",
        "local": {"colour": "amber", "registrationId": None, "day": "2021-06-24", "first": None},
    }
    page.evaluate(
        "([stage, scan]) => localStorage.setItem(`bh.scanner.queue.${stage}`, JSON.stringify([scan]))",
        [stage_id, old_scan],
    )
    page.reload()
    expect(page.locator("[data-scanner]")).to_have_attribute("data-state", "ready")

    expect(page.get_by_test_id("queue-count")).to_have_text("1 menunggu dikirim")
    assert page.evaluate(IDB, {"read": f"queue.{stage_id}"}) == [old_scan]
    assert page.evaluate(LOCAL_KEYS) == ["bh.scanner.desk", "bh.scanner.kept"]  # moved, not copied
    assert browser_problems.seen == []
