"""The hall hand count of a poll: entered by the facilitator while the poll is open, checked field
by field, merged with the online votes on every page (labelled, both sources kept), audited and
exported."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from tests import factories, test_live
from tests.test_live import (
    NOW,
    client_id,
    joined_socket,
    make_poll,
    open_now,
    participant_client,
    received,
    staff_client,
)
from workshop.auth.models import AuditEntry, Role
from workshop.checkin.models import CheckIn
from workshop.live import services
from workshop.live.models import Poll, PollHallCount, PollHallRating, PollKind
from workshop.registration.models import Status

world = test_live.world
fixed_clock = test_live.fixed_clock


def check_in(session, stage, registration):
    session.add(
        CheckIn(registration=registration, stage=stage, day=NOW.date(), scanned_at=NOW, desk="Meja 1")
    )


def stored_counts(session, poll):
    session.expire_all()
    rows = session.scalars(select(PollHallCount).where(PollHallCount.poll_id == poll.id))
    return {row.option_id: row.count for row in rows}


def url(world, poll):
    return f"/live/{world['stage'].id}/polls/{poll.id}/hall-count"


@pytest.fixture
def hall(app, session, world):
    """An open poll, three people checked in at the hall, the online participant voting "Ya"."""
    stage = world["stage"]
    poll = make_poll(session, stage, world["moderator"])
    open_now(session, poll, world["moderator"])
    check_in(session, stage, world["luring"])
    for _ in range(2):
        check_in(session, stage, factories.registration(session, world["program"], status=Status.APPROVED))
    session.commit()
    online = participant_client(app, session, world["daring"])
    body = {"client_id": client_id("d"), "answer": {"option_ids": [poll.options[0].id]}}
    assert online.post(f"/live/{stage.id}/polls/{poll.id}/vote", json=body).status_code == 200
    return poll


def test_the_hall_count_merges_with_the_online_votes_for_everyone_with_both_sources(
    app, session, world, hall
):
    yes, no, unsure = (option.id for option in hall.options)
    moderator = staff_client(app, world["moderator"])
    staff_socket = joined_socket(app, moderator, world["stage"])
    participant_socket = joined_socket(app, participant_client(app, session, world["luring"]), world["stage"])

    response = moderator.post(url(world, hall), json={"counts": {str(yes): 2, str(no): 1}})

    assert response.status_code == 200
    assert response.get_json() == {
        "ok": True,
        "poll_id": hall.id,
        "counts": {str(yes): 2, str(no): 1},
        "hall_present": 3,
        "warning": None,
    }
    for socket in (staff_socket, participant_socket):
        results = received(socket, "poll_results")[-1]["results"]
        assert [(bar["label"], bar["count"], bar["hall"], bar["online"]) for bar in results["bars"]] == [
            ("Ya", 3, 2, 1),
            ("Tidak", 1, 1, 0),
            ("Ragu", 0, 0, 0),
        ]
        assert results["hall"] == {"entered": True, "total": 3, "online": 1, "present": 3}
        assert results["total"] == 1  # people who answered online
    assert stored_counts(session, hall) == {yes: 2, no: 1}
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "poll.hall_count")).one()
    assert (entry.actor_id, entry.subject, entry.detail) == (
        world["moderator"].id,
        f"poll:{hall.id}",
        "Ya=2; Tidak=1",
    )

    # Editable while open: a new count replaces the old, options not sent keep theirs.
    again = moderator.post(url(world, hall), json={"counts": {str(no): 0, str(unsure): 1}})
    assert again.get_json()["counts"] == {str(yes): 2, str(no): 0, str(unsure): 1}
    state = moderator.get(f"/live/{world['stage'].id}/state").get_json()
    assert [bar["count"] for bar in state["poll"]["results"]["bars"]] == [3, 0, 1]


def test_more_hands_than_people_checked_in_is_saved_with_a_warning(app, session, world, hall):
    yes, no, _unsure = (option.id for option in hall.options)
    moderator = staff_client(app, world["moderator"])

    one_option = moderator.post(url(world, hall), json={"counts": {str(yes): 4}}).get_json()
    assert one_option["ok"] is True
    assert one_option["warning"] == (
        "Jumlah tangan melebihi 3 orang yang check-in di aula: hitungan disimpan, mohon diperiksa."
    )
    # Single choice: one hand each, so the sum counts too.
    summed = moderator.post(url(world, hall), json={"counts": {str(yes): 2, str(no): 2}}).get_json()
    assert summed["warning"] is not None
    within = moderator.post(url(world, hall), json={"counts": {str(yes): 2, str(no): 1}}).get_json()
    assert within["warning"] is None
    assert stored_counts(session, hall) == {yes: 2, no: 1}


BAD_COUNTS = [
    ({"{yes}": -1}, 400, "invalid_count"),
    ({"{yes}": 10_001}, 400, "invalid_count"),
    ({"{yes}": 2**70}, 400, "invalid_count"),
    ({"{yes}": 1.5}, 400, "invalid_count"),
    ({"{yes}": "3"}, 400, "invalid_count"),
    ({"{yes}": True}, 400, "invalid_count"),
    ({"{yes}": None}, 400, "invalid_count"),
    ({"{yes}": 2, "999999": 1}, 404, "unknown_option"),
    ({"{yes}": 2, "abc": 1}, 404, "unknown_option"),
    ({"{other}": 1}, 404, "unknown_option"),  # an option of another poll
    ({}, 400, "no_counts"),
    ([1, 2], 400, "no_counts"),
    ("23", 400, "no_counts"),
]


@pytest.mark.parametrize(("counts", "status", "error"), BAD_COUNTS)
def test_a_bad_hall_count_is_refused_with_a_translated_reason_and_changes_nothing(
    app, session, world, hall, counts, status, error
):
    yes = hall.options[0].id
    other = make_poll(session, world["stage"], world["moderator"])
    moderator = staff_client(app, world["moderator"])
    assert moderator.post(url(world, hall), json={"counts": {str(yes): 2}}).status_code == 200
    session.expire_all()
    version = session.get(Poll, hall.id).results_version
    if isinstance(counts, dict):
        names = {"{yes}": str(yes), "{other}": str(other.options[0].id)}
        counts = {names.get(key, key): value for key, value in counts.items()}

    response = moderator.post(url(world, hall), json={"counts": counts})

    assert response.status_code == status
    reply = response.get_json()
    assert (reply["ok"], reply["error"]) == (False, error)
    messages = {
        "invalid_count": "Setiap hitungan aula harus bilangan bulat dari 0 sampai 10.000.",
        "unknown_option": "Pilihan ini bukan bagian dari polling ini.",
        "no_counts": "Isi hitungan aula untuk sedikitnya satu pilihan.",
    }
    assert reply["message"] == messages[error]
    assert stored_counts(session, hall) == {yes: 2}
    assert session.get(Poll, hall.id).results_version == version


def test_the_hall_count_is_refused_once_the_poll_closed_or_before_it_opened(
    app, session, world, hall, set_now
):
    yes = hall.options[0].id
    moderator = staff_client(app, world["moderator"])
    draft = make_poll(session, world["stage"], world["moderator"])
    words = make_poll(session, world["stage"], world["moderator"], PollKind.WORDCLOUD)
    timed = make_poll(session, world["stage"], world["moderator"], duration_seconds=60)

    refused = moderator.post(url(world, draft), json={"counts": {str(draft.options[0].id): 1}})
    assert (refused.status_code, refused.get_json()["error"]) == (409, "poll_not_open")
    services.open_poll(session, words, actor=world["moderator"], now=NOW)
    session.commit()
    refused = moderator.post(url(world, words), json={"counts": {"1": 1}})
    assert (refused.status_code, refused.get_json()["message"]) == (
        409,
        "Tangan hanya dapat dihitung untuk polling pilihan dan penilaian.",
    )

    services.close_poll(session, session.get(Poll, words.id), actor=world["moderator"], now=NOW)
    services.reopen_poll(session, session.get(Poll, hall.id), actor=world["moderator"], now=NOW)
    session.commit()
    assert moderator.post(url(world, hall), json={"counts": {str(yes): 2}}).status_code == 200
    services.close_poll(session, session.get(Poll, hall.id), actor=world["moderator"], now=NOW)
    session.commit()
    refused = moderator.post(url(world, hall), json={"counts": {str(yes): 5}})
    assert (refused.status_code, refused.get_json()["message"]) == (
        409,
        "Polling ini sudah ditutup: hitungan aulanya tidak dapat diubah lagi.",
    )
    assert stored_counts(session, hall) == {yes: 2}

    # A countdown that ran out closes it too, whether or not a process has closed it since.
    services.open_poll(session, session.get(Poll, timed.id), actor=world["moderator"], now=NOW)
    session.commit()
    set_now(NOW + timedelta(seconds=61))
    refused = moderator.post(url(world, timed), json={"counts": {str(timed.options[0].id): 1}})
    assert refused.get_json()["error"] == "hall_count_closed"
    assert stored_counts(session, timed) == {}


def test_a_rating_poll_counts_hands_per_value_and_its_average_counts_them_too(app, session, world, hall):
    stage = world["stage"]
    services.close_poll(session, session.get(Poll, hall.id), actor=world["moderator"], now=NOW)
    rating = make_poll(session, stage, world["moderator"], PollKind.RATING, scale=5)
    open_now(session, rating, world["moderator"])
    online = participant_client(app, session, world["daring"])
    body = {"client_id": client_id("rate"), "answer": {"rating": 4}}
    assert online.post(f"/live/{stage.id}/polls/{rating.id}/vote", json=body).status_code == 200
    moderator = staff_client(app, world["moderator"])

    reply = moderator.post(url(world, rating), json={"counts": {"5": 2, "3": 1}}).get_json()

    assert (reply["ok"], reply["counts"], reply["warning"]) == (True, {"3": 1, "5": 2}, None)
    session.expire_all()
    stored = session.scalars(select(PollHallRating).where(PollHallRating.poll_id == rating.id))
    assert sorted((row.rating, row.count) for row in stored) == [(3, 1), (5, 2)]
    results = moderator.get(f"/live/{stage.id}/state").get_json()["poll"]["results"]
    assert [(bar["key"], bar["count"], bar["hall"], bar["online"]) for bar in results["bars"]] == [
        ("1", 0, 0, 0),
        ("2", 0, 0, 0),
        ("3", 1, 1, 0),
        ("4", 1, 0, 1),
        ("5", 2, 2, 0),
    ]
    assert results["hall"] == {"entered": True, "total": 3, "online": 1, "present": 3}
    assert results["average"] == 4.25  # (4 + 3 + 5 + 5) / 4: the online vote and the three hands
    entry = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "poll.hall_count", AuditEntry.subject == f"poll:{rating.id}"
        )
    ).one()
    assert entry.detail == "3=1; 5=2"
    # A value outside the scale is no answer of this poll; one answer each: more hands than people warn.
    beyond = moderator.post(url(world, rating), json={"counts": {"6": 1}})
    assert (beyond.status_code, beyond.get_json()["message"]) == (
        404,
        "Pilihan ini bukan bagian dari polling ini.",
    )
    over = moderator.post(url(world, rating), json={"counts": {"1": 1}}).get_json()
    assert over["warning"].startswith("Jumlah tangan melebihi 3 orang")
    # The hall page offers the values to count, with the online votes beside them.
    page = staff_client(app, factories.staff(session, Role.PETUGAS)).get(f"/live/{stage.id}/hall")
    text = page.get_data(as_text=True)
    assert [f'name="option-{value}"' in text for value in range(1, 7)] == [True] * 5 + [False]


def test_participants_cannot_enter_a_hall_count(app, session, world, hall):
    participant = participant_client(app, session, world["luring"])
    body = {"counts": {str(hall.options[0].id): 1}}
    assert participant.post(url(world, hall), json=body).status_code == 403
    assert participant.post(f"/live/{world['stage'].id}/hall", data={"poll_id": hall.id}).status_code == 403
    assert stored_counts(session, hall) == {}


def test_a_petugas_counts_hands_on_the_hall_page_without_a_script(app, session, world, hall):
    yes, no, unsure = (option.id for option in hall.options)
    petugas = factories.staff(session, Role.PETUGAS)
    session.commit()
    door = staff_client(app, petugas)
    page_url = f"/live/{world['stage'].id}/hall"

    page = door.get(page_url).get_data(as_text=True)
    assert f'name="option-{yes}" value="0"' in page
    assert "Check-in di aula saat ini: 3." in page
    assert "Daring: 1" in page  # the online vote for "Ya"

    sent = door.post(
        page_url,
        data={"poll_id": str(hall.id), f"option-{yes}": "2", f"option-{no}": " 1 ", f"option-{unsure}": "0"},
    )
    assert sent.status_code == 302
    assert stored_counts(session, hall) == {yes: 2, no: 1, unsure: 0}
    page = door.get(page_url).get_data(as_text=True)
    assert "Hitungan aula disimpan." in page
    assert f'name="option-{yes}" value="2"' in page
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "poll.hall_count")).one()
    assert entry.actor_id == petugas.id

    too_many = door.post(
        page_url, data={"poll_id": str(hall.id), f"option-{yes}": "9"}, follow_redirects=True
    )
    assert "Jumlah tangan melebihi 3 orang yang check-in di aula" in too_many.get_data(as_text=True)
    wrong = door.post(page_url, data={"poll_id": str(hall.id), f"option-{yes}": "dua"}, follow_redirects=True)
    assert "Setiap hitungan aula harus bilangan bulat dari 0 sampai 10.000." in wrong.get_data(as_text=True)
    assert stored_counts(session, hall) == {yes: 9, no: 1, unsure: 0}

    services.close_poll(session, session.get(Poll, hall.id), actor=world["moderator"], now=NOW)
    session.commit()
    closed = door.get(page_url).get_data(as_text=True)
    assert "Polling ini sudah ditutup: hitungan aulanya tidak dapat diubah lagi." in closed
    assert 'data-testid="hall-save"' not in closed


def test_the_results_workbook_shows_the_hall_count_and_the_online_votes(app, session, world, hall):
    yes, no, _unsure = (option.id for option in hall.options)
    moderator = staff_client(app, world["moderator"])
    moderator.post(url(world, hall), json={"counts": {str(yes): 2, str(no): 1}})
    organiser = staff_client(app, factories.staff(session, Role.PANITIA))
    session.commit()

    book = load_workbook(io.BytesIO(organiser.get(f"/live/polls/{hall.id}/results.xlsx").data))

    rows = [[cell.value for cell in row] for row in book.worksheets[1].iter_rows(max_row=8)]
    assert rows[1:7] == [
        ["Sudah menjawab", 1, None, None, None, None],
        ["Tangan dihitung di aula", 3, None, None, None, None],
        [None, None, None, None, None, None],
        ["Jawaban", "Jumlah", "Luring", "Daring", "Hitungan tangan di aula", "Suara daring"],
        ["Ya", 3, 0, 1, 2, 1],
        ["Tidak", 1, 0, 0, 1, 0],
    ]


def test_the_hall_count_csv_has_one_row_per_answer_with_who_counted_it_and_when(app, session, world, hall):
    yes, no, _unsure = (option.id for option in hall.options)
    moderator = staff_client(app, world["moderator"])
    moderator.post(url(world, hall), json={"counts": {str(yes): 2, str(no): 1}})
    organiser = staff_client(app, factories.staff(session, Role.PANITIA))
    words = make_poll(session, world["stage"], world["moderator"], PollKind.WORDCLOUD)
    session.commit()

    response = organiser.get(f"/live/polls/{hall.id}/hall.csv")

    assert response.status_code == 200
    assert f"hitungan-aula-{world['stage'].id}-{hall.id}.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    name = world["moderator"].name
    assert rows == [
        ["Jawaban", "Jumlah", "Hitungan tangan di aula", "Suara daring", "Waktu", "Dihitung oleh"],
        ["Ya", "3", "2", "1", "2021-06-24 10:00:00", name],
        ["Tidak", "1", "1", "0", "2021-06-24 10:00:00", name],
        ["Ragu", "0", "0", "0", "", ""],
    ]
    # The answers' CSV stays one row per person: the online voter only.
    answers = organiser.get(f"/live/polls/{hall.id}/results.csv").data.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(answers), delimiter=";"))) == 2
    # No hands are counted for a word cloud; the facilitator exports no names.
    assert organiser.get(f"/live/polls/{words.id}/hall.csv").status_code == 404
    assert moderator.get(f"/live/polls/{hall.id}/hall.csv").status_code == 403


counts_payloads = st.dictionaries(
    st.sampled_from(["1", "2", "3", "4", "0", "-1", "x", "01", "2147483648"]),
    st.integers(min_value=-5, max_value=20_000)
    | st.floats(allow_nan=False)
    | st.text(max_size=3)
    | st.none(),
    max_size=4,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(counts=counts_payloads)
def test_any_hall_count_is_stored_exactly_as_sent_or_refused_without_a_change(
    app, session, world, hall, counts
):
    moderator = staff_client(app, world["moderator"])
    before = stored_counts(session, hall)
    options = {str(option.id) for option in hall.options}

    response = moderator.post(url(world, hall), json={"counts": counts})

    valid = (
        counts
        and set(counts) <= options
        and all(type(value) is int and 0 <= value <= 10_000 for value in counts.values())
    )
    if valid:
        assert response.status_code == 200
        assert stored_counts(session, hall) == before | {int(key): value for key, value in counts.items()}
    else:
        assert response.status_code in (400, 404)
        assert stored_counts(session, hall) == before
