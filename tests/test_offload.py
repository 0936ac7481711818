"""CPU-heavy work runs off the gevent loop: while one process builds the badge sheet of a whole stage,
the scanners at the door it also serves are answered at most 100 ms later than with nothing else
to do (the issue's budget; the one timed assertion of the suite besides the browser's).

A real server process (`python app.py`: gevent, as in production), seeded with 600 approved
in-person participants; the PDF of their badges takes seconds of CPU.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import pytest

from tests import factories, serving
from workshop import create_app
from workshop.db import db
from workshop.programs.models import OrgKind
from workshop.registration.models import Mode, Status

PARTICIPANTS = 600
BUDGET_SECONDS = 0.100
JAKARTA = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def server(make_database_url, tmp_path):
    database_url = make_database_url("offload")
    serving.prepare_database(database_url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": serving.SECRET_KEY})
    with app.app_context():
        program = factories.program(db.session, stages=1)
        stage = program.stages[0]
        today = datetime.now(JAKARTA).date()
        stage.starts_at = datetime.combine(today, clock_time(0, 0), tzinfo=JAKARTA).astimezone(UTC)
        stage.ends_at = datetime.combine(today, clock_time(23, 59), tzinfo=JAKARTA).astimezone(UTC)
        agency = factories.organization(db.session, kind=OrgKind.OPD, name="Dinas Komunikasi dan Informatika")
        for number in range(PARTICIPANTS):
            factories.registration(
                db.session,
                program,
                status=Status.APPROVED,
                mode=Mode.LURING,
                name=f"Peserta {number}",
                org=agency,
            )
        db.session.commit()
        stage_id = stage.id
        db.engine.dispose()
    port = serving.free_port()
    env = serving.environment(database_url, HOST="127.0.0.1", PORT=str(port), EMBEDDED_SCHEDULER="0")
    log = (tmp_path / "server.log").open("wb")
    process = serving.start(
        [sys.executable, "app.py"], cwd=serving.PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        serving.wait_for(base_url + "/healthz", process, status=503)  # no scheduler here: 503 is fine
        yield base_url, stage_id
    finally:
        serving.stop(process)
        log.close()


def test_the_scanner_is_answered_within_100_ms_while_a_whole_stages_badges_are_built(server):
    base_url, stage_id = server
    staff = serving.Browser(base_url)
    staff.log_in()  # the admin: door staff too
    search = f"/api/stages/{stage_id}/search?q=Peserta%2012"

    def timed_search() -> float:
        started = time.monotonic()
        with staff.get(search) as response:
            assert response.status == 200
            response.read()
        return time.monotonic() - started

    quiet = sorted(timed_search() for _ in range(20))  # the same requests with nothing else to do

    built: dict = {}

    def build_badges():
        started = time.monotonic()
        sheet = urllib.request.Request(f"{base_url}/admin/stages/{stage_id}/badges.pdf")
        with staff.opener.open(sheet, timeout=300) as response:
            built["status"], built["body"] = response.status, response.read()
        built["seconds"] = time.monotonic() - started

    builder = threading.Thread(target=build_badges)
    builder.start()
    time.sleep(0.3)  # the build is under way
    latencies = []
    while builder.is_alive():
        latency = timed_search()
        if builder.is_alive():  # answered while the badges were still being built
            latencies.append(latency)
        time.sleep(0.05)
    builder.join()

    assert built["status"] == 200 and built["body"].startswith(b"%PDF")
    assert built["seconds"] > 1.0, "the sheet was built too fast to show anything: add participants"
    assert len(latencies) >= 10
    # The delay the build adds to a scanner request (nine in ten of them), measured against the same
    # requests just before, on the same machine: the 100 ms the issue asks for, whatever else the
    # machine is doing. A build on the loop would add seconds (the whole build) to every one.
    slow, quiet_slow = sorted(latencies)[int(len(latencies) * 0.9)], quiet[18]
    assert slow - quiet_slow < BUDGET_SECONDS, (
        f"90% of {len(latencies)} scanner requests within {slow * 1000:.0f} ms "
        f"(median {statistics.median(latencies) * 1000:.0f} ms) while the badges took {built['seconds']:.1f} s; "
        f"with nothing else to do: 90% within {quiet_slow * 1000:.0f} ms (median {statistics.median(quiet) * 1000:.0f} ms)"
    )
