"""Screenshots of every page, as each role sees it, for the screen review in docs/screens/.

Seeds the demo into a throwaway SQLite database, serves the app the way `bash scripts/run.sh`
does (`python app.py`), logs in as every staff role and as two demo participants (one in the hall,
one online) and writes one PNG per page and width (390 and 1366 CSS pixels wide; the projector
also at 1280x720 and 1920x1080) into docs/screens/, palette-reduced to stay small. It prints the
pages that scroll sideways.

Run it from the project root after `REQUIREMENTS=requirements-dev.txt bash scripts/setup.sh`:

    .venv/bin/python scripts/screens.py [--only PATTERN]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from flask import url_for
from PIL import Image
from playwright.sync_api import Page, sync_playwright

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from screens_seed import seed_screens  # noqa: E402 (this folder: the script's own module)

from workshop import create_app  # noqa: E402
from workshop.auth.models import Role  # noqa: E402

OUTPUT = PROJECT_ROOT / "docs" / "screens"
WIDTHS = {"phone": (390, 844), "laptop": (1366, 768)}
PROJECTOR_SIZES = {"hd": (1280, 720), "fullhd": (1920, 1080)}
MAX_HEIGHT = {"phone": 2400, "laptop": 1536}  # CSS pixels kept of a long page: its top is what matters
COLOURS = 256
STAFF = [Role.ADMIN, Role.PANITIA, Role.NARASUMBER, Role.PETUGAS]


@dataclass(frozen=True)
class Shot:
    role: str  # "anonim", a staff role, "peserta-luring" or "peserta-daring"
    name: str
    path: str
    sizes: tuple[str, ...] = tuple(WIDTHS)

    @property
    def stem(self) -> str:
        return f"{self.role}-{self.name}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _shots(app, data: dict) -> list[Shot]:
    program, running, upcoming = data["program"], data["running"], data["upcoming"]
    with app.app_context(), app.test_request_context():
        organiser = [
            ("programmes", url_for("programs.index")),
            ("programme", url_for("programs.detail", program_id=program.id)),
            ("programme-form", url_for("programs.edit_program", program_id=program.id)),
            ("stage-form", url_for("programs.edit_stage", stage_id=running.id)),
            ("organisations", url_for("programs.organizations")),
            (
                "organisation-form",
                url_for("programs.edit_organization", organization_id=data["organization"].id),
            ),
            ("registrations", url_for("registration.review", program_id=program.id)),
            (
                "registration",
                url_for("registration.registration_detail", registration_id=data["registration"].id),
            ),
            ("roster-upload", url_for("registration.roster_upload", program_id=program.id)),
            ("reminder-rules", url_for("reminders.rules", program_id=program.id)),
            ("reminder-rule-form", url_for("reminders.edit_rule", rule_id=data["rule"].id)),
            ("delivery-log", url_for("reminders.stage_log", stage_id=running.id)),
            (
                "reminder-preview",
                url_for(
                    "reminders.preview",
                    stage_id=running.id,
                    registration_id=data["registration"].id,
                    rule_id=data["rule"].id,
                ),
            ),
            ("outbox", url_for("reminders.outbox")),
            ("attendance-report", url_for("reports.attendance_report", program_id=program.id)),
            ("dashboard-running", url_for("reports.dashboard", stage_id=running.id)),
            ("dashboard-upcoming", url_for("reports.dashboard", stage_id=upcoming.id)),
            (
                "attendance-detail",
                url_for(
                    "reports.attendance_detail", stage_id=running.id, registration_id=data["registration"].id
                ),
            ),
            ("meeting-reports", url_for("attendance.meeting_reports", stage_id=running.id)),
            ("checkin", url_for("checkin.index")),
            ("scanner", url_for("checkin.scanner", stage_id=running.id)),
            ("live-control", url_for("live.control", stage_id=running.id)),
            ("poll-form", url_for("live.edit_poll", poll_id=data["poll"].id)),
            ("evaluation-questionnaire", url_for("evaluation.questionnaire", program_id=program.id)),
            ("evaluation-results", url_for("evaluation.results", program_id=program.id)),
            ("certificates", url_for("certificates.index", program_id=program.id)),
            ("laporan", url_for("laporan.index", program_id=program.id)),
            ("hall-count", url_for("live.hall_count_page", stage_id=running.id)),
            ("assignments", url_for("assignments.index", program_id=program.id)),
            ("assignment-form", url_for("assignments.new", program_id=program.id)),
            ("assignment", url_for("assignments.detail", assignment_id=data["assignment"])),
            (
                "assignment-review",
                url_for(
                    "assignments.submission",
                    assignment_id=data["assignment"],
                    organization_id=data["agency"],
                ),
            ),
        ]
        shots = [Shot("panitia", name, path) for name, path in organiser]
        shots.append(
            Shot(
                "panitia", "projector", url_for("live.projector", stage_id=running.id), tuple(PROJECTOR_SIZES)
            )
        )
        shots += [
            Shot("admin", "programmes", url_for("programs.index")),
            Shot("narasumber", "programmes", url_for("programs.index")),
            Shot("narasumber", "live-control", url_for("live.control", stage_id=running.id)),
            Shot("narasumber", "poll-new", url_for("live.new_poll", stage_id=running.id)),
            Shot("petugas", "checkin", url_for("checkin.index")),
            Shot("petugas", "scanner", url_for("checkin.scanner", stage_id=running.id)),
            Shot("anonim", "home", url_for("auth.home")),
            Shot("anonim", "login", url_for("auth.login")),
            Shot("anonim", "register", url_for("registration.register", slug=program.slug)),
            Shot("anonim", "link-confirm", url_for("auth.personal_link", token=data["daring_token"])),
            Shot("anonim", "link-needed", url_for("auth.link_needed")),
            Shot("anonim", "verification", url_for("certificates.verify", code=data["certificate_code"])),
        ]
        for role in ("peserta-daring", "peserta-luring"):
            shots += [
                Shot(role, "my-page", url_for("registration.participant_page", slug=program.slug)),
                Shot(role, "live", url_for("live.participant", stage_id=running.id)),
            ]
        shots.append(
            Shot(
                "peserta-luring",
                "assignment",
                url_for(
                    "assignments.participant_assignment", slug=program.slug, assignment_id=data["assignment"]
                ),
            )
        )
        shots.append(
            Shot(
                "peserta-daring",
                "evaluation-form",
                url_for("evaluation.participant_form", slug=program.slug, stage_id=running.id),
            )
        )
        shots.append(
            Shot(
                "peserta-daring",
                "join-upcoming",
                url_for("attendance.join", slug=program.slug, position=upcoming.position),
            )
        )
        return shots


@contextlib.contextmanager
def _serving(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(PROJECT_ROOT / ".venv" / "bin" / "python"), "app.py"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"the app did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _log_in(page: Page, role: str, passwords: dict[str, str], tokens: dict[str, str]) -> None:
    if role in tokens:
        page.goto(f"/p/{tokens[role]}")
        page.get_by_test_id("confirm-link").click()
        page.wait_for_url("**/saya/**")
    elif role in passwords:
        page.goto("/login")
        page.fill("#username", role)
        page.fill("#password", passwords[role])
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()


def _save(png: bytes, target: Path) -> None:
    """A palette PNG: screenshots have few colours, and this makes them several times smaller."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image = image.quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    image.save(target, optimize=True)


def _take(page: Page, shot: Shot, size: str, output: Path) -> int:
    """Screenshot one page at one size; returns how wide the page is (its scrollWidth)."""
    width, height = WIDTHS.get(size) or PROJECTOR_SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    page.goto(shot.path)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # live pages render their first state
    full = size in WIDTHS
    clip = None
    if full:
        total = page.evaluate("document.documentElement.scrollHeight")
        clip = {"x": 0, "y": 0, "width": width, "height": min(total, MAX_HEIGHT[size])}
    png = page.screenshot(full_page=full, clip=clip)
    _save(png, output / f"{shot.stem}-{size}.png")
    return page.evaluate("document.documentElement.scrollWidth")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="shell pattern over role-name, e.g. 'panitia-*' or '*-live'")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="folder for the PNG files (docs/screens)")
    options = parser.parse_args()

    options.output.mkdir(parents=True, exist_ok=True)
    passwords = {role.value: secrets.token_urlsafe(9) for role in STAFF}
    with tempfile.TemporaryDirectory(prefix="bimtek-screens-") as workdir:
        port = _free_port()
        env = {
            **{key: value for key, value in os.environ.items() if not key.startswith(("SMTP_", "WHATSAPP_"))},
            "DATABASE_URL": f"sqlite:///{workdir}/screens.sqlite3",
            "SECRET_KEY": secrets.token_urlsafe(32),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "RATELIMIT_ENABLED": "false",
            "HOST": "127.0.0.1",
            "ASSIGNMENT_FILES_DIR": f"{workdir}/assignment-files",
            "CERTIFICATE_DIR": f"{workdir}/certificates",
            "PORT": str(port),
            "FLASK_APP": "workshop",
        }
        env.pop("BIMTEK_ENV", None)
        flask = PROJECT_ROOT / ".venv" / "bin" / "flask"
        subprocess.run(
            [str(flask), "db", "upgrade"], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True
        )
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
                "SECRET_KEY": env["SECRET_KEY"],
                "ASSIGNMENT_FILES_DIR": env["ASSIGNMENT_FILES_DIR"],
            }
        )
        data = seed_screens(app, passwords)
        tokens = {"peserta-luring": data["luring_token"], "peserta-daring": data["daring_token"]}
        shots = [shot for shot in _shots(app, data) if not options.only or fnmatch(shot.stem, options.only)]

        wide = []
        with _serving(env, port, Path(workdir) / "server.log") as url, sync_playwright() as playwright:
            args = ["--disable-gpu", "--no-first-run"] + (["--no-sandbox"] if os.geteuid() == 0 else [])
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=args)
            for role in dict.fromkeys(shot.role for shot in shots):
                context = browser.new_context(base_url=url, locale="id-ID", timezone_id="Asia/Jakarta")
                page = context.new_page()
                _log_in(page, role, passwords, tokens)
                for shot in (shot for shot in shots if shot.role == role):
                    for size in shot.sizes:
                        scroll_width = _take(page, shot, size, options.output)
                        viewport = (WIDTHS.get(size) or PROJECTOR_SIZES[size])[0]
                        if scroll_width > viewport:
                            wide.append(f"{shot.stem} at {viewport} px: {scroll_width} px wide")
                        print(f"{shot.stem}-{size}.png", flush=True)
                context.close()
            browser.close()
    for line in wide:
        print(f"scrolls sideways: {line}")


if __name__ == "__main__":
    main()
