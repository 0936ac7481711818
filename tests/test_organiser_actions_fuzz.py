"""The organiser's registration actions (status changes, the personal link, sending it to one or to
many, approval as online), the meeting-report upload and the even spread of groups, with what a
careless or hostile client sends (hypothesis, a bounded number of examples): ids past any column,
negative, zero, control bytes, U+202E, very long strings, fields missing or sent twice, unknown
actions and channels, files that are not a Zoom CSV and names no file should have. Never a server
error: a refusal is a 4xx or the page with its Indonesian message, every table is as it was (no
message queued, so none is sent), and a good request right after still works."""

from __future__ import annotations

import io
import itertools
import re
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests import factories
from tests.test_evaluation_fuzz import BAD_IDS, HOSTILE, snapshot
from tests.test_group_ids_fuzz import bad_path_ids
from tests.test_meeting_reports import SAMPLE
from workshop.attendance.models import MeetingReport, MeetingReportRow
from workshop.attendance.reader import parse_report
from workshop.auth.models import Role
from workshop.groups import services as groups
from workshop.groups.models import GroupMember, GroupMode
from workshop.ids import id_from_text
from workshop.registration import links
from workshop.registration.models import Status
from workshop.reminders.models import Delivery, OutboxMessage

EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SECRET = "test-secret-key"  # the app fixture's SECRET_KEY
BEFORE = datetime(2021, 6, 1, tzinfo=UTC)  # before the factory programme's stages (July 2021)

CHOOSE_ONE = "Pilih sedikitnya satu pendaftaran."
CHOOSE_CHANNEL = "Pilih WhatsApp, email, atau keduanya."
NOT_APPROVED = "Hanya peserta yang telah disetujui yang memiliki tautan pribadi."
NOT_PROCESSED = "Permintaan tidak dapat diproses"
NOT_FOUND = "Halaman tidak ditemukan"
NO_GROUPS = "Atur kelompok terlebih dahulu."
NO_FILE = "Pilih berkas yang akan diunggah."
EMPTY = "Berkas kosong."
NOT_CSV = "Ini bukan berkas CSV. Di Zoom, ekspor laporan peserta sebagai CSV."
NO_TABLE = (
    "Tabel peserta tidak ditemukan: berkas memerlukan kolom “Name (Original Name)”, “Join Time” "
    "dan “Leave Time” (laporan peserta Zoom)."
)
# Every refusal of a meeting report's content begins with one of these.
REPORT_REFUSALS = (
    EMPTY,
    NOT_CSV,
    NO_TABLE,
    "Tabel peserta tidak berisi baris.",
    "Beberapa baris tidak dapat dibaca; tidak ada yang diimpor. Baris ",
    "Tidak ada baris laporan ini yang berada dalam hari-hari tahap ini",
)
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

# Form values that name no row (id_from_text refuses each: they must never reach a query).
not_ids = (
    st.sampled_from(
        [*HOSTILE, str(2**31), str(2**63), str(2**70), "\u202e1", "1\u202e", " 1", "1 ", "+1", "0x1", ""]
    )
    | st.integers(min_value=-(2**80), max_value=0).map(str)
    | st.integers(min_value=2**31, max_value=2**80).map(str)
    | st.text(max_size=30)
).filter(lambda value: id_from_text(value) is None)
hostile_text = st.sampled_from([*HOSTILE, "\u202eapprove", "x" * 10_000, "NaN", "null"]) | st.text(
    max_size=40
)


@pytest.fixture
def world(app, session, client, login, set_now):
    """A programme of two stages, not begun: Rina approved with her personal link, Budi pending,
    and an approved participant of another programme; the organiser is logged in on `client`."""
    set_now(BEFORE)
    program = factories.program(session, title="Bimtek Smart City", stages=2)
    rina = factories.registration(session, program, status=Status.APPROVED, name="Rina Siregar")
    links.issue(rina, SECRET)
    budi = factories.registration(session, program, name="Budi Nainggolan")
    other = factories.program(session, stages=1)
    elsewhere = factories.registration(session, other, status=Status.APPROVED, name="Peserta Lain")
    links.issue(elsewhere, SECRET)
    login(factories.staff(session, Role.PANITIA))
    session.commit()
    return {"program": program, "rina": rina, "budi": budi, "elsewhere": elsewhere, "client": client}


def _flashes(client, url: str) -> list[str]:
    page = client.get(url).get_data(as_text=True)
    return [
        " ".join(text.split())
        for text in re.findall(r'<p class="flash flash-\w+" role="status">([^<]*)<', page)
    ]


def _count(session, model) -> int:
    count = session.scalar(select(func.count()).select_from(model))
    session.commit()
    return count or 0


def _status(session, registration) -> Status:
    session.expire_all()
    status = session.get(type(registration), registration.id).status
    session.commit()
    return status


def _good_status_change(world, session) -> None:
    """Budi between the waiting list and rejected, by his row's own button: it lands."""
    budi, program = world["budi"], world["program"]
    target = "reject" if _status(session, budi) == Status.WAITLISTED else "waitlist"
    response = world["client"].post(
        f"/admin/programs/{program.id}/registrations/status?one={budi.id}", data={"action": target}
    )
    assert response.status_code == 302
    expected = Status.REJECTED if target == "reject" else Status.WAITLISTED
    words = "ditolak" if target == "reject" else "daftar tunggu"
    assert _flashes(world["client"], response.location) == [f"1 pendaftaran kini berstatus {words}."]
    assert _status(session, budi) == expected


# -- status changes ---------------------------------------------------------------------------


@EXAMPLES
@given(data=st.data())
def test_a_status_change_with_an_unknown_action_no_id_or_another_programme_s_id_changes_nothing(
    app, session, world, data
):
    program, budi, client = world["program"], world["budi"], world["client"]
    url = f"/admin/programs/{program.id}/registrations/status"
    kind = data.draw(st.sampled_from(["action", "ids", "unknown"]))
    form: dict[str, object] = {"ids": [str(budi.id)]}
    query = ""
    if kind == "action":
        action = data.draw(
            st.sampled_from(["Approve", "approve ", " approve", "APPROVE", "pending", "approved", "delete"])
            | hostile_text.filter(lambda value: value not in {"approve", "waitlist", "reject", "cancel"})
            | st.none()
        )
        if action is not None:
            form["action"] = [action, "approve"]  # sent twice: the first one counts
    else:
        form["action"] = data.draw(st.sampled_from(["approve", "waitlist", "reject", "cancel"]))
        if kind == "ids":
            form["ids"] = data.draw(st.lists(not_ids, max_size=4))
            query = f"?one={data.draw(not_ids)}" if data.draw(st.booleans()) else ""
        else:
            strangers = [str(world["elsewhere"].id), str(2**31 - 1), str(budi.id + 1000)]
            form["ids"] = [
                str(budi.id),
                data.draw(st.sampled_from(strangers)),
                *data.draw(st.lists(not_ids, max_size=2)),
            ]
    form["next"] = data.draw(hostile_text)
    before = snapshot()

    response = client.post(url + query, data=form)

    if kind == "action":
        assert response.status_code == 400, form
        assert NOT_PROCESSED in response.get_data(as_text=True)
    elif kind == "ids":
        assert response.status_code == 302, form
        assert _flashes(client, response.location) == [CHOOSE_ONE]
    else:
        assert response.status_code == 404, form
        assert NOT_FOUND in response.get_data(as_text=True)
    assert snapshot() == before
    _good_status_change(world, session)


def test_a_status_change_names_each_registration_once_however_often_it_is_ticked(session, world):
    program, budi, client = world["program"], world["budi"], world["client"]
    response = client.post(
        f"/admin/programs/{program.id}/registrations/status",
        data={"action": "waitlist", "ids": [str(budi.id), str(budi.id), "\x00", str(2**63), "²", "9" * 5000]},
    )
    assert response.status_code == 302
    assert _flashes(client, response.location) == ["1 pendaftaran kini berstatus daftar tunggu."]
    assert _status(session, budi) == Status.WAITLISTED


# -- sending the personal link ----------------------------------------------------------------


def _good_send(world, session) -> None:
    """Rina's link by WhatsApp, the channel ticked twice beside one no page offers: one message."""
    rina, client = world["rina"], world["client"]
    deliveries = _count(session, Delivery)
    response = client.post(
        f"/admin/registrations/{rina.id}/send-link", data={"channels": ["whatsapp", "whatsapp", "sms"]}
    )
    assert response.status_code == 302
    assert _flashes(client, response.location) == [
        "Tautan pribadi Rina Siregar sedang dikirim melalui WhatsApp."
    ]
    assert _count(session, Delivery) == deliveries + 1


@EXAMPLES
@given(data=st.data())
def test_sending_links_to_no_registration_of_the_programme_queues_nothing_and_says_so(
    app, session, world, data
):
    program, client = world["program"], world["client"]
    review = f"/admin/programs/{program.id}/registrations"
    if data.draw(st.booleans()):
        # The ticked rows: none of them a row id, or another programme's registration.
        ids = data.draw(st.lists(not_ids | st.just(str(world["elsewhere"].id)), max_size=5))
        form: dict[str, object] = {
            "ids": ids,
            "scope": data.draw(hostile_text.filter(lambda s: s != "filtered")),
        }
    else:
        # The list's filter: a search nobody matches, every other filter value hostile.
        form = {
            "scope": ["filtered", "ticked"],
            "q": "zzqx" + data.draw(st.sampled_from(["", "\x00", "\u202e", "\x1b[31m", "٣"])),
            **{name: data.draw(hostile_text) for name in ("status", "kind", "kecamatan", "mode", "order")},
            "ids": [str(world["rina"].id)],  # ticked rows do not count for the filtered scope
        }
    before, deliveries = snapshot(), _count(session, Delivery)

    response = client.post(
        f"/admin/programs/{program.id}/registrations/send-link", data={**form, "next": review}
    )

    assert response.status_code == 302, form
    assert response.location == review
    assert _flashes(client, review) == [CHOOSE_ONE]
    assert snapshot() == before
    assert (_count(session, Delivery), _count(session, OutboxMessage)) == (deliveries, 0)
    _good_send(world, session)


def test_sending_links_to_ticked_rows_takes_the_real_ids_once_and_skips_the_rest(session, world):
    program, rina, budi, client = world["program"], world["rina"], world["budi"], world["client"]
    review = f"/admin/programs/{program.id}/registrations"
    response = client.post(
        f"/admin/programs/{program.id}/registrations/send-link",
        data={
            "ids": [str(rina.id), str(rina.id), str(budi.id), "²", "٣", str(2**70), f"{rina.id}\x00", "-1"],
            "next": review,
        },
    )
    assert response.status_code == 302
    assert _flashes(client, review) == [
        "Tautan pribadi sedang dikirim kepada 1 peserta (2 pesan).",
        "Tidak dikirim kepada 1 yang belum disetujui: Budi Nainggolan",
    ]
    sent = session.execute(
        select(Delivery.registration_id, Delivery.channel).order_by(Delivery.channel)
    ).all()
    assert sent == [(rina.id, "email"), (rina.id, "whatsapp")]


channel_lists = st.lists(
    st.sampled_from(
        ["", "sms", "WhatsApp", "EMAIL", " whatsapp", "email\x00", "\u202eemail", "whatsapp,email"]
    )
    | hostile_text.filter(lambda value: value not in {"whatsapp", "email"}),
    max_size=4,
)


@EXAMPLES
@given(data=st.data())
def test_sending_one_link_on_no_known_channel_or_to_a_pending_registration_queues_nothing(
    app, session, world, data
):
    client = world["client"]
    if data.draw(st.booleans()):
        registration, channels, expected = world["rina"], data.draw(channel_lists), CHOOSE_CHANNEL
    else:
        registration = world["budi"]
        channels = data.draw(st.lists(st.sampled_from(["whatsapp", "email"]), min_size=1, max_size=3))
        expected = NOT_APPROVED
    detail = f"/admin/registrations/{registration.id}"
    before, deliveries = snapshot(), _count(session, Delivery)

    response = client.post(f"{detail}/send-link", data={"channels": channels})

    assert response.status_code == 302, channels
    assert response.location == detail
    assert _flashes(client, detail) == [expected]
    assert snapshot() == before
    assert (_count(session, Delivery), _count(session, OutboxMessage)) == (deliveries, 0)
    _good_send(world, session)


def test_nothing_sent_names_the_one_missing_address_of_the_channel_chosen_even_when_ticked_twice(
    session, world
):
    rina, client = world["rina"], world["client"]
    rina.person.email = ""
    session.commit()
    detail = f"/admin/registrations/{rina.id}"
    response = client.post(f"{detail}/send-link", data={"channels": ["email", "email", "sms"]})
    assert _flashes(client, response.location) == [
        "Tidak ada yang dikirim: Rina Siregar tidak memiliki alamat email."
    ]
    assert _count(session, Delivery) == 0


# -- the personal link: regenerate, revoke ----------------------------------------------------


@EXAMPLES
@given(action=hostile_text.filter(lambda value: value not in {"regenerate", "revoke"}) | st.none())
def test_a_link_action_no_page_sends_is_refused_and_the_link_still_works(app, session, world, action):
    rina, client = world["rina"], world["client"]
    token = links.token_for(rina, SECRET)
    before = snapshot()

    response = client.post(
        f"/admin/registrations/{rina.id}/link", data={} if action is None else {"action": [action, "revoke"]}
    )

    assert response.status_code == 400, action
    assert NOT_PROCESSED in response.get_data(as_text=True)
    assert snapshot() == before
    session.expire_all()
    assert links.token_for(session.get(type(rina), rina.id), SECRET) == token


def test_a_new_link_for_a_pending_registration_is_refused_in_indonesian_and_changes_nothing(session, world):
    budi, client = world["budi"], world["client"]
    detail = f"/admin/registrations/{budi.id}"
    before = snapshot()
    response = client.post(f"{detail}/link", data={"action": "regenerate"})
    assert response.status_code == 302
    assert _flashes(client, detail) == [NOT_APPROVED]
    assert snapshot() == before


# -- ids in the path of every route here ------------------------------------------------------


def _id_routes(world) -> list[str]:
    return [
        "/admin/programs/{}/registrations/status",
        "/admin/programs/{}/registrations/send-link",
        "/admin/registrations/{}/link",
        "/admin/registrations/{}/send-link",
        "/admin/registrations/{}/approve-online",
        "/admin/stages/{}/meeting-reports",
        "/admin/stages/{}/kelompok/ratakan",
    ]


@EXAMPLES
@given(route_id=bad_path_ids | st.sampled_from(BAD_IDS), route=st.integers(min_value=0, max_value=6))
def test_an_id_no_row_has_is_a_translated_404_on_every_route_and_changes_nothing(
    app, session, world, route_id, route
):
    path = _id_routes(world)[route].format(route_id)
    before = snapshot()

    response = world["client"].post(
        path,
        data={
            "action": "approve",
            "ids": [str(world["budi"].id)],
            "channels": ["whatsapp"],
            "file": (io.BytesIO(SAMPLE.read_bytes()), "a.csv"),
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 404, (path, response.status_code)
    assert NOT_FOUND in response.get_data(as_text=True)
    assert snapshot() == before


def test_approve_online_takes_only_its_path_s_registration_whatever_the_form_says(session, world):
    budi, rina, client = world["budi"], world["rina"], world["client"]
    response = client.post(
        f"/admin/registrations/{budi.id}/approve-online",
        data={"ids": [str(rina.id)], "status": "cancelled", "registration_id": str(2**63), "action": "\x00"},
    )
    assert response.status_code == 302
    assert _flashes(client, response.location) == ["1 pendaftaran kini berstatus disetujui."]
    assert (_status(session, budi), _status(session, rina)) == (Status.APPROVED, Status.APPROVED)


# -- spreading a stage's participants over its groups -----------------------------------------


@EXAMPLES
@given(form=st.dictionaries(st.sampled_from(["stage_id", "group_id", "ids", "mode"]), hostile_text))
def test_spreading_a_stage_without_groups_is_refused_in_indonesian_whatever_the_form_says(
    app, session, world, form
):
    stage = world["program"].stages[0]
    before = snapshot()

    response = world["client"].post(f"/admin/stages/{stage.id}/kelompok/ratakan", data=form)

    assert response.status_code == 422
    assert NO_GROUPS in response.get_data(as_text=True)
    assert snapshot() == before


def test_spreading_ignores_what_the_form_names_and_moves_only_the_stage_s_participants(session, world):
    program, rina, budi = world["program"], world["rina"], world["budi"]
    first, second = program.stages
    groups.set_up(
        session, first, dimensions=["economy", "governance"], mode=GroupMode.ORGANISER, cap=None, actor=None
    )
    groups.set_up(session, second, dimensions=["economy"], mode=GroupMode.ORGANISER, cap=None, actor=None)
    session.commit()

    response = world["client"].post(
        f"/admin/stages/{first.id}/kelompok/ratakan",
        data={"stage_id": str(second.id), "ids": [str(budi.id)], "group_id": str(2**70)},
    )

    assert response.status_code == 302
    assert _flashes(world["client"], response.location) == ["1 peserta dipindahkan."]
    members = session.execute(select(GroupMember.stage_id, GroupMember.registration_id)).all()
    assert members == [(first.id, rina.id)]  # Budi is not approved; Tahap II untouched


# -- the meeting-report upload ----------------------------------------------------------------

UNIQUE = itertools.count(1)


def _report_csv(
    name: str = "Tamu", join: str = "07/15/2021 09:05:00 AM", leave: str = "07/15/2021 11:00:00 AM"
) -> bytes:
    """A one-row participants CSV of Tahap II (15-16 Juli 2021), its row new each time."""
    return (
        "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes)\n"
        f'"{name} {next(UNIQUE)}",,{join},{leave},115\n'
    ).encode()


def _upload(world, data: bytes | None, filename: str = "participants.csv"):
    stage = world["program"].stages[1]
    form = {} if data is None else {"file": (io.BytesIO(data), filename)}
    return world["client"].post(
        f"/admin/stages/{stage.id}/meeting-reports", data=form, content_type="multipart/form-data"
    )


def _upload_errors(response) -> list[str]:
    return re.findall(r'data-testid="upload-error">([^<]*)</p>', response.get_data(as_text=True))


def _xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Name (Original Name)", "Join Time", "Leave Time"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
# (content, filename, the refusal): files that are not what the page asks for.
NOT_A_REPORT = [
    (b"", "participants.csv", EMPTY),
    (b" \r\n\t\n", "participants.csv", EMPTY),
    (_xlsx(), "participants.xlsx", NOT_CSV),
    (_xlsx()[:300], "participants.csv", NOT_CSV),  # an xlsx cut short, renamed
    (PNG, "participants.png", NOT_CSV),
    (PNG, "participants.csv", NOT_CSV),
    (PDF, "participants.pdf", NOT_CSV),
    (PDF, "participants.csv", NO_TABLE),
    (b"\x00" * 64, "participants.csv", NOT_CSV),
    (b"nama,no_hp\nBudi,0812\n", "participants.csv", NO_TABLE),
    (b"Name (Original Name),Join Time,Leave Time\n", "participants.csv", "Tabel peserta tidak berisi baris."),
    (SAMPLE.read_bytes(), "participants.exe", NOT_CSV),
    (SAMPLE.read_bytes(), "participants", NOT_CSV),
    (SAMPLE.read_bytes(), "", NO_FILE),
    (None, "", NO_FILE),
]


@pytest.mark.parametrize(("content", "filename", "refusal"), NOT_A_REPORT)
def test_a_file_that_is_not_a_zoom_csv_is_refused_on_the_upload_page_and_imports_nothing(
    session, world, content, filename, refusal
):
    before = snapshot()
    response = _upload(world, content, filename)
    assert response.status_code == 400
    assert _upload_errors(response) == [refusal]
    assert snapshot() == before
    assert _upload(world, _report_csv()).status_code == 303


@pytest.fixture
def full_rows(world) -> set[tuple]:
    """The rows of the whole sample, read as the app reads them."""
    report = parse_report(SAMPLE.read_bytes(), world["program"].timezone)
    return {(row.row_number, row.name, row.joined_at, row.left_at) for row in report.rows}


@EXAMPLES
@given(cut=st.integers(min_value=0, max_value=len(SAMPLE.read_bytes()) - 1))
@example(cut=483)  # inside a leave time: "07/15/2021 10:3" was read as 10.03 (of 10.31.40)
@example(cut=486)  # "07/15/2021 10:31:4" was read as 10.31.04
def test_a_zoom_csv_cut_short_is_imported_whole_rows_only_or_refused_with_its_reason(
    app, session, world, full_rows, cut
):
    """Cut inside a row, its times cannot be read (the file is refused); cut between rows, the
    rows before are the file. Never a half row."""
    before = snapshot()
    newest = session.scalar(select(func.max(MeetingReport.id))) or 0
    session.commit()

    response = _upload(world, SAMPLE.read_bytes()[:cut])

    if response.status_code == 400:
        (error,) = _upload_errors(response)
        assert error.startswith(REPORT_REFUSALS), error
        assert snapshot() == before
        return
    assert response.status_code == 303, response.status_code
    rows = session.execute(
        select(
            MeetingReportRow.row_number,
            MeetingReportRow.name,
            MeetingReportRow.joined_at,
            MeetingReportRow.left_at,
        ).where(MeetingReportRow.report_id > newest)
    ).all()
    session.commit()
    assert {tuple(row) for row in rows} <= full_rows, cut


hostile_names = st.builds(
    lambda before, byte, after: f"{before}{byte}{after}.csv",
    st.text(max_size=20),
    st.sampled_from(["\x00", "\x01", "\x1b[31m", "\x7f", "\u0085", "\u202e", "\u2066", "/", "\\", "../"]),
    st.text(max_size=20),
) | st.sampled_from(
    ["x" * 5000 + ".csv", "\u202evsc.csv", "C:\\Users\\panitia\\laporan.csv", "../../etc/passwd.csv"]
)


@EXAMPLES
@given(filename=hostile_names)
@example(filename="laporan\x00zoom.csv")
def test_a_report_s_name_is_kept_without_folders_or_control_characters(app, session, world, filename):
    reports = _count(session, MeetingReport)

    response = _upload(world, _report_csv(), filename)

    if response.status_code == 400:  # a name a browser cannot send (a line break): not a file
        assert _upload_errors(response) in ([NO_FILE], [NOT_CSV]), filename
        assert _count(session, MeetingReport) == reports
        return
    assert response.status_code == 303, (filename, response.status_code)
    stored = session.scalars(select(MeetingReport.filename).order_by(MeetingReport.id.desc())).first()
    session.commit()
    assert stored and len(stored) <= 255 and "/" not in stored and "\\" not in stored
    assert not CONTROL.search(stored), stored
    assert stored.endswith(".csv") or len(stored) == 255
    if filename == "laporan\x00zoom.csv":
        assert stored == "laporanzoom.csv"


@EXAMPLES
@example(name="Tamu\u202e\x1b[31m", join="07/15/2021 09:05:00 AM")
@given(
    name=hostile_text,
    join=st.sampled_from(["\u202e07/15/2021 09:05:00 AM", "\x0007/15/2021", "1e9", str(2**70), "٠٧/١٥/٢٠٢١"])
    | hostile_text,
)
def test_hostile_cells_are_stored_clean_or_the_file_is_refused_without_them_in_the_reason(
    app, session, world, name, join
):
    before = snapshot()
    response = _upload(world, _report_csv(name=name.replace('"', "'"), join=join))

    if response.status_code == 303:
        row = session.scalars(select(MeetingReportRow).order_by(MeetingReportRow.id.desc())).first()
        session.commit()
        assert row is not None and not CONTROL.search(row.name) and not CONTROL.search(row.email)
        if name == "Tamu\u202e\x1b[31m":
            assert row.name.startswith("Tamu[31m ")
        return
    assert response.status_code == 400, (name, join, response.status_code)
    (error,) = _upload_errors(response)
    assert error.startswith(REPORT_REFUSALS), error
    assert not CONTROL.search(error), error
    assert snapshot() == before
