"""Hostile values, found by hypothesis, against the real default server (`python app.py` as
scripts/run.sh starts it: gevent, the default settings and rate limits; SQLite, or PostgreSQL as
BIMTEK_TEST_DATABASE says). One server for the module.

- JSON bodies of any shape posted to the login form and to the public registration form, by a
  stranger with a valid CSRF token (each from an address of its own, 127.1.x.y, so the per-address
  limits of the default settings never answer instead): each answer is the exact 4xx, or the form
  page again, with its Indonesian message; no user or registration is created or changed.
- The hall desk's check-in API (`/api/stages/<id>/checkin`) as a logged-in petugas: codes of up to
  5,000 characters, control characters, U+202E, values of the wrong type, ids beyond any row, a
  nonce used again: the exact error code and Indonesian message of each, and no check-in or
  scan-log row but the one a scan leaves; after each, another desk's good scan is green and
  checks its ticket in exactly once.
- The offline desk's batch (`/api/stages/<id>/checkin/batch`) as the same petugas: bodies that are
  no list of scans, empty batches, batches of up to 10,000 items, bodies over the batch's cap, and
  batches of good scans (tickets among control characters and huge ids) with bad ones anywhere
  among them (each refusal of a single scan, items of the wrong type, a nonce used again for
  another code): the exact status, code, Indonesian message and index of the first bad scan, and
  no row; sent again without the bad scans, as the desk's queue does, each ticket checks in once
  and each nonce is logged once, and the same batch once more adds nothing.
- Afterwards the server runs, /healthz answers, and it logged no error and no traceback.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask_babel import force_locale, gettext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from sqlalchemy import select

from tests import factories, serving
from workshop.auth.models import Role, User
from workshop.checkin.api import BATCH_BODY_LIMIT, BATCH_MAX, CODE_MAX, DESK_MAX, SCAN_BODY_LIMIT
from workshop.db import db
from workshop.programs.models import Program
from workshop.registration.models import Status

FORM_BODY_LIMIT = 64 * 1024  # MAX_BODY_BYTES's default
JSON = "application/json"
HUGE_IDS = (2**70, 2**63, 2**31, 10**30, -1, 0)
# Control characters (C0, DEL, C1), bidirectional overrides and isolates (U+202E among them),
# invisible ones, lone surrogates: what workshop/text.py drops or trims. Only high surrogates: in
# escaped JSON a high one before a low one ("\ud800\udfff") is one character, not two lone ones.
HOSTILE_CHARS = "\x00\x01\x08\x0b\x1b\x1f\x7f\x85\x9f\u200b\u200e\u202a\u202e\u2066\u2069\ufeff\ud800\udbff"
INVISIBLE = (
    "\x00\x01\x08\x0b\x1b\x1f\x7f\x85\x9f\u202a\u202e\u2066\u2069\ud800\udbff"  # dropped by clean_line
)
USER_TABLES = ("user", "person", "registration", "registration_stage")
SCAN_TABLES = ("check_in", "scan_attempt")
EXAMPLES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@dataclass
class Desk:
    browser: serving.Browser
    csrf: str
    staff_id: int
    name: str


@dataclass
class World(serving.Served):
    program_id: int
    slug: str
    stage_id: int
    hostile: Desk  # the petugas who sends what a broken or malicious scanner sends
    good: Desk  # another desk (the admin) that scans good tickets in between


_addresses = itertools.count(2)


def _stranger(url: str) -> serving.Participant:
    """A browser without a session, from a loopback address no other example used."""
    number = next(_addresses)
    return serving.Participant(url, f"127.1.{number // 250}.{number % 250 + 2}")


def _form_token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _desk(url: str, username: str, password: str, stage_id: int, staff_id: int, name: str) -> Desk:
    browser = serving.Browser(url)
    browser.log_in(username, password)
    page = browser.get(f"/checkin/stages/{stage_id}").read().decode()
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    return Desk(browser, csrf, staff_id, name)


@pytest.fixture(scope="module")
def world(tmp_path_factory, make_database_url):
    directory = tmp_path_factory.mktemp("hostile-real-server")
    with serving.served_with_app(directory, make_database_url("hostilereal")) as (process, url, log, app):
        with app.app_context():
            program = factories.program(db.session, stages=1)
            stage = program.stages[0]
            stage.starts_at, stage.ends_at = factories.running_now(datetime.now(UTC), timedelta(hours=6))
            petugas = factories.staff(db.session, Role.PETUGAS)
            admin_id = db.session.scalar(select(User.id).where(User.username == "admin"))
            db.session.commit()
            program_id, slug, stage_id = program.id, program.slug, stage.id
            petugas_name, petugas_id = petugas.username, petugas.id
        hostile = _desk(url, petugas_name, factories.PASSWORD, stage_id, petugas_id, "Meja 1")
        good = _desk(url, "admin", serving.STAFF_PASSWORD, stage_id, admin_id, "Meja 2")
        yield World(url, process, log, app, program_id, slug, stage_id, hostile, good)


def _indonesian(world: World, message: str, **values: Any) -> str:
    """`message` (an English msgid) in Indonesian, checked to be a translation."""
    with world.app.test_request_context():
        with force_locale("id"):
            text = gettext(message, **values)
        with force_locale("en"):
            assert text != gettext(message, **values), f"no Indonesian for {message!r}"
    return text


def _rows(world: World, tables: tuple[str, ...]) -> dict[str, set[tuple]]:
    with world.app.app_context():
        rows = {name: set(db.session.execute(select(db.metadata.tables[name])).tuples()) for name in tables}
        db.session.remove()
    return rows


# -- 1. JSON bodies to the login and the registration forms -----------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
)
hostile_text = st.text(st.characters() | st.sampled_from(HOSTILE_CHARS), max_size=40)
json_values = st.recursive(
    scalars | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12,
)


def _is_text(value: object) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(item, str) for item in value)
    )


not_text = st.one_of(
    scalars,
    st.dictionaries(hostile_text, json_values, max_size=4),
    st.lists(json_values, min_size=1, max_size=4).filter(lambda items: not _is_text(items)),
)
LOGIN_FIELDS = ("csrf_token", "username", "password", "remember")
REGISTRATION_FIELDS = ("csrf_token", "name", "position", "organization", "phone", "email")


def _not_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return True
    return False


def _encoded(value: Any, ascii_only: bool) -> bytes:
    """The JSON of `value`, non-ASCII as UTF-8 or escaped; escaped when it holds a lone surrogate
    (no UTF-8 for it: such a body is "not JSON", a case of its own)."""
    try:
        return json.dumps(value, ensure_ascii=ascii_only).encode()
    except UnicodeEncodeError:
        return json.dumps(value).encode()


def _hostile_bodies(fields: tuple[str, ...]) -> st.SearchStrategy[tuple[str, bytes]]:
    """(kind, body): "not text" (an object with a value that is no text), "no object", "not JSON",
    "too large" (an object of texts over the body limit)."""
    keys = st.sampled_from(fields) | hostile_text
    with_a_number = st.builds(
        lambda body, key, value: {**body, key: value},
        st.dictionaries(keys, json_values, max_size=6),
        keys,
        not_text,
    )
    huge = st.builds(
        lambda body, key, size, char: {**body, key: char * size},
        st.dictionaries(keys, hostile_text, max_size=4),
        keys,
        st.integers(FORM_BODY_LIMIT, 3 * FORM_BODY_LIMIT),
        st.sampled_from(["x", "\u202e", "\x00"]),
    )
    return st.one_of(
        st.tuples(st.just("not text"), st.builds(_encoded, with_a_number, st.booleans())),
        st.tuples(
            st.just("no object"),
            st.builds(_encoded, json_values.filter(lambda value: not isinstance(value, dict)), st.booleans()),
        ),
        st.tuples(
            st.just("not JSON"),
            st.one_of(
                st.binary(max_size=200),
                hostile_text.map(lambda text: ("{" + text).encode("utf-8", "surrogatepass")),
            ).filter(_not_json),
        ),
        st.tuples(st.just("too large"), st.builds(_encoded, huge, st.booleans())),
    )


def _visible(text: str) -> str:
    return "".join(char for char in text if char not in HOSTILE_CHARS)


visible_text = st.text(st.characters(codec="utf-8", exclude_categories=["C", "Z"]), min_size=1, max_size=30)


def _mixed(core: str, noise: str) -> str:
    """`core` with the hostile characters of `noise` spread through it."""
    return "".join(a + b for a, b in itertools.zip_longest(core, noise, fillvalue=""))


hostile_mix = st.builds(_mixed, visible_text, st.text(st.sampled_from(HOSTILE_CHARS), max_size=30))


def _expected_refusal(world: World, kind: str, body: bytes) -> tuple[int, dict]:
    if kind == "too large" or len(body) > FORM_BODY_LIMIT:
        return 413, {"error": "too_large", "message": _indonesian(world, "The request is too large.")}
    return 400, {"error": "bad_request", "message": _indonesian(world, "The request could not be processed")}


def _stranger_with_token(world: World, path: str) -> tuple[serving.Participant, dict[str, str]]:
    stranger = _stranger(world.url)
    token = _form_token(stranger.get(path).read().decode())
    return stranger, {"Content-Type": JSON, "Origin": world.url, "X-CSRFToken": token}


def _assert_refused(world: World, path: str, kind: str, body: bytes) -> None:
    before = _rows(world, USER_TABLES)
    stranger, headers = _stranger_with_token(world, path)

    status, answer = serving.post(stranger, path, body, headers)

    assert (status, json.loads(answer)) == _expected_refusal(world, kind, body)
    assert _rows(world, USER_TABLES) == before


@EXAMPLES
@given(case=_hostile_bodies(LOGIN_FIELDS))
def test_a_hostile_json_body_to_the_login_form_is_refused_in_indonesian(world, case):
    kind, body = case
    _assert_refused(world, "/login", kind, body)


@EXAMPLES
@given(case=_hostile_bodies(REGISTRATION_FIELDS))
def test_a_hostile_json_body_to_the_registration_form_is_refused_in_indonesian(world, case):
    kind, body = case
    _assert_refused(world, f"/daftar/{world.slug}", kind, body)


def _form_answer(world: World, status: int, page: str) -> tuple[int, object]:
    """(status, the JSON answer), or (status, the English of the one form message the page shows)."""
    if page.startswith("{"):
        return status, json.loads(page)
    shown = [message for message in FORM_MESSAGES if str(escape(_indonesian(world, message))) in page]
    assert len(shown) == 1, shown
    return status, shown[0]


def _expected_form_answer(world: World, sent: str, status: int, message: str) -> tuple[int, object]:
    """A text with a lone surrogate is refused (400, JSON) before the form reads it."""
    if re.search("[\ud800-\udfff]", sent):
        return _expected_refusal(world, "not text", b"")
    return status, message


FORM_MESSAGES = (
    "Please fill in your username.",
    "Wrong username or password.",
    "Choose how you will attend.",
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    username=hostile_mix | st.text(st.sampled_from(INVISIBLE), max_size=20),
    password=hostile_mix,
    ascii_only=st.booleans(),
)
def test_a_login_of_hostile_texts_shows_the_form_again_and_logs_no_one_in(
    world, username, password, ascii_only
):
    before = _rows(world, USER_TABLES)
    stranger, headers = _stranger_with_token(world, "/login")

    body = _encoded({"username": username, "password": password}, ascii_only)
    status, page = serving.post(stranger, "/login", body, headers)

    blank = not _visible(username).strip()
    message = "Please fill in your username." if blank else "Wrong username or password."
    assert _form_answer(world, status, page) == _expected_form_answer(
        world, username + password, 200, message
    )
    assert _rows(world, USER_TABLES) == before
    assert stranger.get_json("/saya")[0] == 302  # still a stranger: sent to the personal-link page


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fields=st.dictionaries(st.sampled_from(REGISTRATION_FIELDS[1:]), hostile_mix | hostile_text, min_size=1),
    ascii_only=st.booleans(),
)
def test_a_registration_of_hostile_texts_shows_the_form_again_and_registers_no_one(world, fields, ascii_only):
    path = f"/daftar/{world.slug}"
    before = _rows(world, USER_TABLES)
    stranger, headers = _stranger_with_token(world, path)

    status, page = serving.post(stranger, path, _encoded(fields, ascii_only), headers)

    # No stage's attendance mode is chosen, so the form never passes, whatever the rest says.
    sent = "".join(fields.values())
    assert _form_answer(world, status, page) == _expected_form_answer(
        world, sent, 400, "Choose how you will attend."
    )
    assert _rows(world, USER_TABLES) == before


# -- 2. The hall check-in API -------------------------------------------------------------------------


def _fresh_ticket(world: World) -> tuple[int, str]:
    """A new approved in-person registration of the programme: (its id, its ticket code)."""
    with world.app.app_context():
        program = db.session.get_one(Program, world.program_id)
        registration = factories.registration(db.session, program, status=Status.APPROVED)
        db.session.commit()
        ticket = registration.id, registration.ticket_code
        db.session.remove()
    return ticket


def _nonce() -> str:
    return f"fuzz-{uuid.uuid4().hex}"


def _scan(world: World, desk: Desk, body: bytes, stage: object = None) -> tuple[int, dict]:
    headers = {"Content-Type": JSON, "Accept": JSON, "X-CSRFToken": desk.csrf}
    path = f"/api/stages/{world.stage_id if stage is None else stage}/checkin"
    status, answer = serving.post(desk.browser, path, body, headers)
    return status, json.loads(answer)


def _check_ins_of(world: World, registration_id: int) -> list[tuple]:
    table = db.metadata.tables["check_in"]
    with world.app.app_context():
        rows = (
            db.session.execute(
                select(table.c.stage_id, table.c.desk, table.c.staff_id, table.c.undone_at).where(
                    table.c.registration_id == registration_id
                )
            )
            .tuples()
            .all()
        )
        db.session.remove()
    return rows


def _good_scan_is_green(world: World) -> None:
    """Another desk's scan of a new ticket: green, one check-in."""
    registration_id, code = _fresh_ticket(world)
    scan = {"code": code, "desk": world.good.name, "nonce": _nonce(), "method": "typed"}
    status, answer = _scan(world, world.good, json.dumps(scan).encode())
    assert (status, answer["result"], answer["colour"]) == (200, "ok", "green"), answer
    assert _check_ins_of(world, registration_id) == [
        (world.stage_id, world.good.name, world.good.staff_id, None)
    ]


def _good_fields(world: World) -> dict:
    return {"code": "ABCD-EFGH", "desk": world.hostile.name, "nonce": _nonce(), "method": "typed"}


@dataclass(frozen=True)
class Refusal:
    """A scan the API refuses before reading any ticket: (status, error code, English message)."""

    kind: str
    fields: dict | None  # merged into a good scan; None: `raw` is the whole body
    raw: Any = None
    stage: object = None


def _a_moment(text: str) -> bool:
    """Whether the API takes `text` as a scan time (an ISO 8601 moment with its UTC offset)."""
    try:
        moment = datetime.fromisoformat(text)
        return len(text) <= 40 and moment.tzinfo is not None and moment.astimezone(UTC) is not None
    except (ValueError, OverflowError):
        return False


# Moments with a UTC offset that UTC cannot hold (the year 0, the year 10000): were a 500.
BEYOND_UTC = ("0001-01-01T00:00:00+14:00", "0001-01-01T05:00+23:59", "9999-12-31T23:59:59-14:00")
long_visible = st.builds(
    lambda size, noise: _mixed("Z" * size, noise),
    st.integers(CODE_MAX + 1, 5_000),
    st.text(st.sampled_from(HOSTILE_CHARS), max_size=50),
)
blank = st.text(st.sampled_from(INVISIBLE + " \t\n\u200b\ufeff"), max_size=30)
wrong_type = st.one_of(
    scalars.filter(lambda value: value is not None),
    st.lists(json_values, max_size=3),
    st.dictionaries(hostile_text, json_values, max_size=3),
)
refusals = st.one_of(
    st.builds(
        Refusal,
        st.just("missing_code"),
        st.builds(lambda code: {"code": code}, wrong_type | blank | st.none()),
    ),
    st.builds(Refusal, st.just("bad_code"), st.builds(lambda code: {"code": code}, long_visible)),
    st.builds(
        Refusal,
        st.just("missing_desk"),
        st.builds(lambda desk: {"desk": desk}, wrong_type | blank | st.none()),
    ),
    st.builds(
        Refusal,
        st.just("bad_desk"),
        st.builds(
            lambda size, noise: {"desk": _mixed("M" * size, noise)},
            st.integers(DESK_MAX + 1, 1_000),
            hostile_text,
        ),
    ),
    st.builds(
        Refusal,
        st.just("bad_nonce"),
        st.builds(
            lambda nonce: {"nonce": nonce},
            wrong_type
            | st.none()
            | hostile_text.filter(lambda text: not re.fullmatch(r"[A-Za-z0-9_-]{8,64}", text))
            | st.from_regex(r"[A-Za-z0-9_-]{65,200}", fullmatch=True),
        ),
    ),
    st.builds(
        Refusal,
        st.just("bad_method"),
        st.builds(
            lambda method: {"method": method},
            wrong_type
            | st.none()
            | hostile_text.filter(lambda text: text not in {"camera", "typed", "search"}),
        ),
    ),
    st.builds(
        Refusal,
        st.just("bad_scanned_at"),
        st.builds(
            lambda moment: {"scanned_at": moment},
            wrong_type
            | hostile_text.filter(lambda text: not _a_moment(text))  # "0001-01-01000-0000" is one
            | st.datetimes().map(datetime.isoformat)
            | st.sampled_from(BEYOND_UTC)
            | st.text(min_size=41, max_size=100),
        ),
    ),
    st.builds(
        Refusal,
        st.just("bad_scan"),
        st.none(),
        json_values.filter(lambda value: value is not None and not isinstance(value, dict)),
    ),
    st.builds(
        Refusal, st.just("bad_json"), st.none(), st.just(None) | st.binary(max_size=200).filter(_not_json)
    ),
    st.builds(
        Refusal,
        st.just("not_found"),
        st.just({}),
        st.none(),
        st.sampled_from([*HUGE_IDS, "1e3", "abc", "%00", "1.5"]),
    ),
    st.builds(Refusal, st.just("unknown_stage"), st.just({}), st.none(), st.just(2**31 - 1)),
)
REFUSALS = {
    "missing_code": (400, "Scan or type a ticket code.", {}),
    "bad_code": (400, "The code is too long.", {}),
    "missing_desk": (400, "Choose the desk name first.", {}),
    "bad_desk": (400, "The desk name is too long (at most %(max)d characters).", {"max": DESK_MAX}),
    "bad_nonce": (400, "The scan has no valid identifier (nonce).", {}),
    "bad_method": (400, "Unknown scan method.", {}),
    "bad_scanned_at": (400, "The scan time must be an ISO 8601 date and time with its UTC offset.", {}),
    "bad_scan": (400, "A scan must be a JSON object.", {}),
    "bad_json": (400, "The request is not valid JSON.", {}),
    "not_found": (404, "Page not found", {}),
    "unknown_stage": (404, "This stage does not exist.", {}),
    "too_large": (413, "The request is too large.", {}),
}


def _refusal_body(world: World, refusal: Refusal, ascii_only: bool) -> bytes:
    if refusal.fields is not None:
        return _encoded(_good_fields(world) | refusal.fields, ascii_only)
    return refusal.raw if isinstance(refusal.raw, bytes) else _encoded(refusal.raw, ascii_only)


def _refused(world: World, kind: str) -> tuple[int, dict]:
    status, message, values = REFUSALS[kind]
    return status, {"error": kind, "message": _indonesian(world, message, **values)}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(refusal=refusals, ascii_only=st.booleans())
def test_a_hostile_scan_is_refused_with_its_code_and_leaves_no_row(world, refusal, ascii_only):
    body = _refusal_body(world, refusal, ascii_only)
    too_large = len(body) > SCAN_BODY_LIMIT and refusal.kind != "not_found"
    before = _rows(world, SCAN_TABLES)

    answer = _scan(world, world.hostile, body, refusal.stage)

    assert answer == _refused(world, "too_large" if too_large else refusal.kind)
    assert _rows(world, SCAN_TABLES) == before
    _good_scan_is_green(world)


extras = st.dictionaries(
    st.sampled_from(["registration_id", "check_in_id", "stage_id", "staff_id", "id", "result", "colour"]),
    st.sampled_from(HUGE_IDS) | json_values,
    max_size=5,
)
noise = st.text(st.sampled_from(INVISIBLE), max_size=12)


def _new_rows(world: World, before: dict[str, set[tuple]]) -> dict[str, list[dict]]:
    """The rows added since `before` (none may have changed or gone), as mappings."""
    after = _rows(world, SCAN_TABLES)
    assert {name: before[name] - rows for name, rows in after.items()} == {
        name: set() for name in SCAN_TABLES
    }
    columns = {name: db.metadata.tables[name].c.keys() for name in SCAN_TABLES}
    return {
        name: [dict(zip(columns[name], row, strict=True)) for row in rows - before[name]]
        for name, rows in after.items()
    }


def _logged(row: dict) -> tuple:
    return (
        row["registration_id"],
        row["check_in_id"],
        row["desk"],
        row["staff_id"],
        row["client_nonce"],
        str(row["result"]),
    )


@EXAMPLES
@given(
    visible=visible_text.filter(lambda text: len(text) <= CODE_MAX),
    code_noise=noise,
    desk_noise=noise,
    extra=extras,
    ascii_only=st.booleans(),
)
def test_an_unknown_code_among_control_characters_and_huge_ids_is_logged_once_as_unknown(
    world, visible, code_noise, desk_noise, extra, ascii_only
):
    nonce = _nonce()
    scan = extra | {
        "code": _mixed(visible, code_noise),
        "desk": _mixed("Meja 9", desk_noise),
        "nonce": nonce,
        "method": "camera",
    }
    body = _encoded(scan, ascii_only)
    before = _rows(world, SCAN_TABLES)

    answer = _scan(world, world.hostile, body)

    if len(body) > SCAN_BODY_LIMIT:
        assert answer == _refused(world, "too_large")
        assert _new_rows(world, before) == {"check_in": [], "scan_attempt": []}
    else:
        assert answer == (
            200,
            {
                "result": "unknown_code",
                "colour": "red",
                "message": _indonesian(world, "Unknown code"),
                "person": None,
                "first": None,
                "check_in_id": None,
                "undo_until": None,
            },
        )
        new = _new_rows(world, before)
        assert new["check_in"] == []
        assert [_logged(row) for row in new["scan_attempt"]] == [
            (None, None, "Meja 9", world.hostile.staff_id, nonce, "unknown_code")
        ]
    _good_scan_is_green(world)


@EXAMPLES
@given(code_noise=noise, lower=st.booleans(), desk_noise=noise, extra=extras, ascii_only=st.booleans())
def test_a_ticket_among_control_characters_and_huge_ids_checks_in_its_own_registration_once(
    world, code_noise, lower, desk_noise, extra, ascii_only
):
    registration_id, code = _fresh_ticket(world)
    nonce = _nonce()
    typed = _mixed(code.lower() if lower else code, code_noise)
    scan = extra | {"code": typed, "desk": _mixed("Meja 9", desk_noise), "nonce": nonce, "method": "typed"}
    body = _encoded(scan, ascii_only)
    before = _rows(world, SCAN_TABLES)

    status, answer = _scan(world, world.hostile, body)

    if len(body) > SCAN_BODY_LIMIT:
        assert (status, answer) == _refused(world, "too_large")
        assert _new_rows(world, before) == {"check_in": [], "scan_attempt": []}
        assert _check_ins_of(world, registration_id) == []
    else:
        assert (status, answer["result"], answer["colour"]) == (200, "ok", "green"), answer
        assert answer["message"] == _indonesian(world, "Checked in")
        new = _new_rows(world, before)
        assert [(row["registration_id"], row["desk"], row["staff_id"]) for row in new["check_in"]] == [
            (registration_id, "Meja 9", world.hostile.staff_id)
        ]
        check_in_id = new["check_in"][0]["id"]
        assert answer["check_in_id"] == check_in_id
        assert [_logged(row) for row in new["scan_attempt"]] == [
            (registration_id, check_in_id, "Meja 9", world.hostile.staff_id, nonce, "ok")
        ]
    _good_scan_is_green(world)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(other=st.sampled_from(["another ticket", "unknown"]), unknown=visible_text, ascii_only=st.booleans())
def test_a_nonce_used_again_for_another_code_is_refused_and_changes_nothing(
    world, other, unknown, ascii_only
):
    registration_id, code = _fresh_ticket(world)
    nonce = _nonce()
    first = {"code": code, "desk": world.hostile.name, "nonce": nonce, "method": "typed"}
    status, answer = _scan(world, world.hostile, json.dumps(first).encode())
    assert (status, answer["result"]) == (200, "ok"), answer
    before = _rows(world, SCAN_TABLES)
    other_id, other_code = _fresh_ticket(world) if other == "another ticket" else (None, unknown)

    reused = _scan(world, world.hostile, _encoded(first | {"code": other_code}, ascii_only))
    again = _scan(world, world.hostile, json.dumps(first).encode())

    message = _indonesian(world, "This scan id was already used for another scan.")
    assert reused == (409, {"error": "nonce_reused", "message": message})
    assert again == (200, answer)  # the first scan once more: its answer, once
    assert _rows(world, SCAN_TABLES) == before
    assert _check_ins_of(world, registration_id) == [
        (world.stage_id, world.hostile.name, world.hostile.staff_id, None)
    ]
    if other_id is not None:
        assert _check_ins_of(world, other_id) == []
    _good_scan_is_green(world)


# -- 2b. The offline desk's batch ------------------------------------------------------------------


def _batch(world: World, body: bytes) -> tuple[int, dict]:
    headers = {"Content-Type": JSON, "Accept": JSON, "X-CSRFToken": world.hostile.csrf}
    status, answer = serving.post(
        world.hostile.browser, f"/api/stages/{world.stage_id}/checkin/batch", body, headers
    )
    return status, json.loads(answer)


@dataclass(frozen=True)
class BatchRefusal:
    """A body the batch endpoint refuses whole before reading any scan."""

    kind: str  # "bad_batch", "bad_json", "too_many" (each: "too_large" once over the cap)
    body: Any  # JSON, or bytes as they are


tiny_items = st.sampled_from([{}, 0, None, "x", [], {"code": 2**70}, {"scans": []}])
batch_refusals = st.one_of(
    st.builds(
        BatchRefusal,
        st.just("bad_batch"),
        st.one_of(
            st.builds(
                lambda scans, extra: extra | {"scans": scans},
                json_values.filter(lambda v: not isinstance(v, list)),
                extras,
            ),
            json_values.filter(lambda value: value is not None and not isinstance(value, dict)),
            st.dictionaries(hostile_text.filter(lambda key: key != "scans"), json_values, max_size=3),
        ),
    ),
    st.builds(BatchRefusal, st.just("bad_json"), st.just(None) | st.binary(max_size=200).filter(_not_json)),
    st.builds(
        BatchRefusal,
        st.just("too_many"),
        st.builds(
            lambda size, item: {"scans": [item] * size}, st.integers(BATCH_MAX + 1, 10_000), tiny_items
        ),
    ),
    st.builds(
        BatchRefusal,
        st.just("too_many"),  # good-looking scans: most of these are over the cap
        st.builds(
            lambda size, padding: {
                "scans": [
                    {
                        "code": "ABCD-EFGH",
                        "desk": "Meja 9",
                        "nonce": _nonce(),
                        "method": "typed",
                        "x": padding,
                    }
                ]
                * size
            },
            st.integers(BATCH_MAX + 1, 10_000),
            st.text(st.sampled_from(HOSTILE_CHARS + "x"), max_size=60),
        ),
    ),
)


BATCH_REFUSALS = {
    "bad_batch": (400, "Send the scans as a list.", {}),
    "too_many": (400, "At most %(max)d scans at a time.", {"max": BATCH_MAX}),
}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(refusal=batch_refusals, ascii_only=st.booleans())
def test_a_batch_that_is_no_list_of_scans_or_too_long_is_refused_whole_and_leaves_no_row(
    world, refusal, ascii_only
):
    body = refusal.body if isinstance(refusal.body, bytes) else _encoded(refusal.body, ascii_only)
    kind = "too_large" if len(body) > BATCH_BODY_LIMIT else refusal.kind
    before = _rows(world, SCAN_TABLES)

    answer = _batch(world, body)

    status, message, values = BATCH_REFUSALS[kind] if kind in BATCH_REFUSALS else REFUSALS[kind]
    assert answer == (status, {"error": kind, "message": _indonesian(world, message, **values)})
    assert _rows(world, SCAN_TABLES) == before
    _good_scan_is_green(world)


ITEM_REFUSALS = (
    "missing_code",
    "bad_code",
    "missing_desk",
    "bad_desk",
    "bad_nonce",
    "bad_method",
    "bad_scanned_at",
    "bad_scan",
)
item_refusals = refusals.filter(lambda refusal: refusal.kind in ITEM_REFUSALS)


@dataclass(frozen=True)
class Item:
    scan: Any
    refusal: str | None = None  # the kind of a bad scan; "nonce_reused" is found only when checking in


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tickets=st.integers(0, 3),
    code_noise=noise,
    extra=extras,
    bad=st.lists(item_refusals, max_size=3),
    reused=st.booleans(),
    repeated=st.booleans(),
    ascii_only=st.booleans(),
    data=st.data(),
)
def test_a_batch_with_bad_scans_anywhere_is_refused_naming_the_first_and_then_checks_each_ticket_in_once(
    world, tickets, code_noise, extra, bad, reused, repeated, ascii_only, data
):
    registrations = [_fresh_ticket(world) for _ in range(tickets)]
    good = [
        Item(
            extra | {"code": _mixed(code, code_noise), "desk": "Meja 9", "nonce": _nonce(), "method": "typed"}
        )
        for _registration_id, code in registrations
    ]
    items = list(good)
    if repeated and good:  # the same scan twice (a retry queued again): counted once
        items.insert(data.draw(st.integers(1, len(items))), good[0])
    for refusal in bad:
        scan = _good_fields(world) | refusal.fields if refusal.fields is not None else refusal.raw
        items.insert(data.draw(st.integers(0, len(items))), Item(scan, refusal.kind))
    if reused and good:  # another code under the nonce of a good scan before it
        after = items.index(good[-1]) + 1
        items.insert(
            data.draw(st.integers(after, len(items))),
            Item(good[-1].scan | {"code": "KODE-LAIN"}, "nonce_reused"),
        )
    before = _rows(world, SCAN_TABLES)

    status, answer = _batch(world, _encoded({"scans": [item.scan for item in items]}, ascii_only))

    invalid = [index for index, item in enumerate(items) if item.refusal not in (None, "nonce_reused")]
    refused = invalid or [index for index, item in enumerate(items) if item.refusal == "nonce_reused"]
    if refused:
        index = refused[0]
        kind = items[index].refusal
        code, message, values = (
            (409, "This scan id was already used for another scan.", {})
            if kind == "nonce_reused"
            else REFUSALS[kind]
        )
        inner = _indonesian(world, message, **values)
        assert (status, answer) == (
            code,
            {
                "error": kind,
                "message": _indonesian(world, "Scan %(number)d: %(message)s")
                % {"number": index + 1, "message": inner},
                "index": index,
            },
        )
        assert _rows(world, SCAN_TABLES) == before

    # The desk's queue drops the bad scans and sends the rest (again).
    resend = _encoded({"scans": [item.scan for item in items if item.refusal is None]}, ascii_only)
    status, answer = _batch(world, resend)
    new, after = _new_rows(world, before), _rows(world, SCAN_TABLES)
    once_more = _batch(world, resend)

    assert status == 200, answer
    sent = [item.scan["nonce"] for item in items if item.refusal is None]
    results = answer["results"]
    assert [(result["result"], result["colour"]) for result in results] == [("ok", "green")] * len(sent)
    first_answers = dict(reversed(list(zip(sent, results, strict=True))))
    assert results == [first_answers[nonce] for nonce in sent]  # a scan sent twice: the same answer
    check_ins = {row["registration_id"]: row["id"] for row in new["check_in"]}
    assert sorted(check_ins) == sorted(registration_id for registration_id, _code in registrations)
    assert [(row["desk"], row["staff_id"]) for row in new["check_in"]] == [
        ("Meja 9", world.hostile.staff_id)
    ] * tickets
    assert sorted(_logged(row) for row in new["scan_attempt"]) == sorted(
        (
            registration_id,
            check_ins[registration_id],
            "Meja 9",
            world.hostile.staff_id,
            item.scan["nonce"],
            "ok",
        )
        for (registration_id, _code), item in zip(registrations, good, strict=True)
    )
    assert once_more == (200, answer)  # each scan once more: its answer, and no row
    assert _rows(world, SCAN_TABLES) == after
    _good_scan_is_green(world)


# -- 3. Afterwards ------------------------------------------------------------------------------------


def test_afterwards_the_server_runs_answers_its_health_check_and_logged_no_error(world):
    serving.assert_ran_cleanly(world.process, world.url, world.log)
