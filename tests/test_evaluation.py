"""Evaluation per stage: the window, one response per registration and stage edited until the
deadline, validation, the participant's form, the results (averages, split), the exports, and the
reminder at the stage's end."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from flask import current_app
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests import factories
from workshop.auth.models import Role
from workshop.checkin import services as checkin
from workshop.evaluation import exports, queries, services
from workshop.evaluation.models import EvaluationAnswer, EvaluationResponse, ItemKind
from workshop.programs.models import OrgKind
from workshop.registration import links
from workshop.registration import services as registration_services
from workshop.registration.models import Mode, Status
from workshop.reminders import services as reminder_services
from workshop.reminders.models import Anchor, Delivery, ReminderRule
from workshop.tickets import codes

SECRET = "test-secret-key"
OPENS = datetime(2021, 6, 25, 2, 0, tzinfo=UTC)  # Jumat, 25 Juni 2021, pukul 09.00 WIB: the last day
STAGE_END = datetime(2021, 6, 25, 9, 0, tzinfo=UTC)  # Jumat, 25 Juni 2021, pukul 16.00 WIB
CLOSES = STAGE_END + timedelta(days=7)  # Jumat, 2 Juli 2021, pukul 16.00 WIB
DURING = OPENS + timedelta(hours=8)


def _setup(session, *, stages=2):
    program = factories.program(session, stages=stages)
    questionnaire = services.create_default(session, program, actor=None, now=OPENS - timedelta(days=30))
    return program, questionnaire


def _items(questionnaire):
    scale = [item for item in questionnaire.items if item.kind == ItemKind.SCALE]
    [choice] = [item for item in questionnaire.items if item.kind == ItemKind.CHOICE]
    [text] = [item for item in questionnaire.items if item.kind == ItemKind.TEXT]
    return scale, choice, text


def _answers(questionnaire, ratings, choice_value="Sudah sesuai", text_value=""):
    scale, choice, text = _items(questionnaire)
    raw = {item.id: str(rating) for item, rating in zip(scale, ratings, strict=True)}
    raw[choice.id] = choice_value
    raw[text.id] = text_value
    return raw


def _approved(session, program, **kwargs):
    registration = factories.registration(session, program, **kwargs)
    registration_services.change_status(session, registration, Status.APPROVED, actor=None, secret_key=SECRET)
    return registration


# --- The window and the default questionnaire ---------------------------------------------------


def test_the_evaluation_opens_on_the_stages_last_day_and_closes_seven_days_after_its_end(session):
    program, questionnaire = _setup(session)
    window = services.window(program.stages[0], questionnaire.deadline_days)

    assert (window.opens_at, window.closes_at) == (OPENS, CLOSES)
    assert window.phase(OPENS - timedelta(seconds=1)) == "upcoming"
    assert window.phase(OPENS) == "open"
    assert window.phase(CLOSES - timedelta(seconds=1)) == "open"
    assert window.phase(CLOSES) == "closed"


def test_the_default_questionnaire_has_four_ratings_a_choice_and_a_text_and_a_reminder_at_the_end(session):
    program, questionnaire = _setup(session)

    assert [(item.position, item.kind, item.required) for item in questionnaire.items] == [
        (1, ItemKind.SCALE, True),
        (2, ItemKind.SCALE, True),
        (3, ItemKind.SCALE, True),
        (4, ItemKind.SCALE, True),
        (5, ItemKind.CHOICE, False),
        (6, ItemKind.TEXT, False),
    ]
    assert [item.prompt.split(":")[0] for item in questionnaire.items[:3]] == [
        "Materi",
        "Narasumber",
        "Penyelenggaraan",
    ]
    assert questionnaire.items[4].options == ["Terlalu singkat", "Sudah sesuai", "Terlalu panjang"]
    rules = session.scalars(select(ReminderRule).where(ReminderRule.program_id == program.id)).all()
    # The reminders' first use: the defaults (3 days, 1 day, 1 hour before), and the one at the end.
    assert sorted((rule.anchor, rule.offset_minutes) for rule in rules) == [
        (Anchor.END, 0),
        (Anchor.START, 60),
        (Anchor.START, 1440),
        (Anchor.START, 4320),
    ]
    [at_end] = [rule for rule in rules if rule.at_end]
    assert at_end.channel_list == ["whatsapp", "email", "inapp"]
    # a second click changes nothing
    assert services.create_default(session, program, actor=None, now=OPENS) is questionnaire
    assert session.scalar(select(func.count()).select_from(ReminderRule)) == 4


# --- Responses ----------------------------------------------------------------------------------


def test_one_response_per_registration_and_stage_edited_until_the_deadline_and_refused_after(session):
    program, questionnaire = _setup(session)
    stage = program.stages[0]
    registration = _approved(session, program)

    with pytest.raises(services.EvaluationError) as refused:
        services.submit(
            session,
            questionnaire,
            registration,
            stage,
            _answers(questionnaire, [4, 4, 4, 4]),
            now=OPENS - timedelta(seconds=1),
        )
    assert refused.value.code == "not_open_yet"

    first = services.submit(
        session, questionnaire, registration, stage, _answers(questionnaire, [4, 5, 3, 4]), now=OPENS
    )
    edited = services.submit(
        session,
        questionnaire,
        registration,
        stage,
        _answers(questionnaire, [5, 5, 5, 5], text_value="Waktu diskusi ditambah"),
        now=CLOSES - timedelta(seconds=1),
    )

    assert edited.id == first.id
    assert (edited.submitted_at, edited.updated_at) == (OPENS, CLOSES - timedelta(seconds=1))
    assert session.scalar(select(func.count()).select_from(EvaluationResponse)) == 1
    answers = {answer.item_id: (answer.rating, answer.text) for answer in edited.answers}
    scale, choice, text = _items(questionnaire)
    assert answers == {
        **{item.id: (5, "") for item in scale},
        choice.id: (None, "Sudah sesuai"),
        text.id: (None, "Waktu diskusi ditambah"),
    }
    with pytest.raises(services.EvaluationError) as refused:
        services.submit(
            session, questionnaire, registration, stage, _answers(questionnaire, [1, 1, 1, 1]), now=CLOSES
        )
    assert refused.value.code == "closed"
    assert sorted(answer.rating or 0 for answer in session.scalars(select(EvaluationAnswer))) == [
        0,
        0,
        5,
        5,
        5,
        5,
    ]


def test_wrong_answers_are_refused_item_by_item(session):
    program, questionnaire = _setup(session)
    registration = _approved(session, program)
    scale, choice, text = _items(questionnaire)
    raw = {
        scale[0].id: "6",
        scale[1].id: "",
        scale[2].id: "x",
        scale[3].id: "3",
        choice.id: "Lainnya",
        text.id: "a" * 2001,
    }

    with pytest.raises(services.EvaluationError) as refused:
        services.submit(session, questionnaire, registration, program.stages[0], raw, now=DURING)

    assert refused.value.code == "invalid_answers"
    assert refused.value.problems == {
        scale[0].id: "bad_rating",
        scale[1].id: "required",
        scale[2].id: "bad_rating",
        choice.id: "bad_choice",
        text.id: "too_long",
    }
    assert session.scalar(select(func.count()).select_from(EvaluationResponse)) == 0


@pytest.mark.parametrize("rating", ["²", "٣", "9" * 5000, "04", "+4", "4.0"])
def test_a_rating_is_one_of_the_digits_1_to_5_and_nothing_that_python_reads_as_a_number(session, rating):
    program, questionnaire = _setup(session)
    registration = _approved(session, program)
    scale, _choice, _text = _items(questionnaire)
    raw = _answers(questionnaire, [4, 4, 4, 4]) | {scale[0].id: rating}

    with pytest.raises(services.EvaluationError) as refused:  # "²" was a ValueError (a 500)
        services.submit(session, questionnaire, registration, program.stages[0], raw, now=DURING)

    assert refused.value.problems == {scale[0].id: "bad_rating"}


def test_only_an_approved_registration_of_the_programme_may_answer(session):
    program, questionnaire = _setup(session)
    pending = factories.registration(session, program)
    other_program = factories.program(session, stages=1)
    stranger = _approved(session, other_program)

    for registration in (pending, stranger):
        with pytest.raises(services.EvaluationError) as refused:
            services.submit(
                session,
                questionnaire,
                registration,
                program.stages[0],
                _answers(questionnaire, [3, 3, 3, 3]),
                now=DURING,
            )
        assert refused.value.code == "not_registered"


# --- Results ------------------------------------------------------------------------------------


def _hall_check_in(session, stage, registration, at):
    outcome = checkin.check_in(
        session,
        stage=stage,
        code=codes.qr_payload(registration.ticket_secret),
        desk="Meja 1",
        actor=None,
        client_nonce=None,
        secret_key=current_app.config["SECRET_KEY"],
        scanned_at=at,
        now=at + timedelta(seconds=1),
    )
    assert outcome.colour == "green"


@pytest.fixture
def answered(session):
    """Stage I answered by three: two in the hall (one registered online but checked in at the
    hall), one online; stage II by one."""
    program, questionnaire = _setup(session)
    first, second = program.stages
    desa = factories.organization(session, kind=OrgKind.DESA, name="Hutatoruan I")
    ani = _approved(session, program, mode=Mode.LURING, name="Ani")
    budi = _approved(session, program, mode=Mode.DARING, name="Budi")
    cici = _approved(session, program, mode=Mode.DARING, name="Cici", org=desa)
    _approved(session, program, mode=Mode.LURING, name="Dodi")  # never answers
    _hall_check_in(session, first, ani, first.starts_at)
    _hall_check_in(session, first, budi, first.starts_at)
    services.submit(session, questionnaire, ani, first, _answers(questionnaire, [5, 4, 3, 5]), now=DURING)
    services.submit(
        session,
        questionnaire,
        budi,
        first,
        _answers(questionnaire, [4, 4, 2, 5], "Terlalu singkat"),
        now=DURING,
    )
    services.submit(
        session,
        questionnaire,
        cici,
        first,
        _answers(questionnaire, [2, 5, 3, 4], text_value="Sinyal lemah di desa"),
        now=DURING,
    )
    services.submit(
        session, questionnaire, ani, second, _answers(questionnaire, [1, 1, 1, 1]), now=second.ends_at
    )
    session.commit()
    return program, questionnaire


def test_results_per_stage_give_exact_averages_distribution_and_the_split(session, answered):
    program, questionnaire = answered
    results = queries.results(session, questionnaire, [program.stages[0]])
    materi, narasumber, penyelenggaraan, _manfaat, choice, text = results.items

    assert results.responded == {program.stages[0].id: 3}
    assert results.approved == {program.stages[0].id: 4}
    assert (materi.overall.count, materi.overall.mean) == (3, 11 / 3)
    assert materi.overall.counts == {5: 1, 4: 1, 2: 1}
    assert narasumber.overall.mean == 13 / 3
    assert penyelenggaraan.overall.mean == 8 / 3
    # Ani and Budi were checked in at the hall (Budi registered online): luring; Cici online.
    assert {mode: tally.mean for mode, tally in materi.by_mode.items()} == {
        Mode.LURING: 4.5,
        Mode.DARING: 2.0,
    }
    assert {kind: tally.mean for kind, tally in materi.by_kind.items()} == {
        OrgKind.OPD: 4.5,
        OrgKind.DESA: 2.0,
    }
    assert choice.overall.counts == {"Sudah sesuai": 2, "Terlalu singkat": 1}
    assert [(answer.text, answer.mode, answer.kind) for answer in text.texts] == [
        ("Sinyal lemah di desa", Mode.DARING, OrgKind.DESA)
    ]
    assert results.kinds == [OrgKind.OPD, OrgKind.DESA]


def test_results_across_stages_count_every_response(session, answered):
    program, questionnaire = answered
    results = queries.results(session, questionnaire, list(program.stages))

    assert results.items[0].overall.mean == (5 + 4 + 2 + 1) / 4
    assert results.responded == {program.stages[0].id: 3, program.stages[1].id: 1}


def test_the_csv_and_xlsx_exports_read_back(session, answered):
    program, questionnaire = answered
    results = queries.results(session, questionnaire, [program.stages[0]])

    rows = list(
        csv.reader(
            io.StringIO(exports.to_csv(results, timezone="Asia/Jakarta", locale="id").decode("utf-8-sig")),
            delimiter=";",
        )
    )
    assert rows[0][:6] == ["Tahap", "Nama", "Instansi", "Jenis instansi", "Kehadiran", "Disimpan"]
    assert [row[:5] + row[6:] for row in rows[1:]] == [
        [
            "Tahap I",
            "Ani",
            rows[1][2],
            "Perangkat daerah (OPD)",
            "Luring",
            "5",
            "4",
            "3",
            "5",
            "Sudah sesuai",
            "",
        ],
        [
            "Tahap I",
            "Budi",
            rows[2][2],
            "Perangkat daerah (OPD)",
            "Luring",
            "4",
            "4",
            "2",
            "5",
            "Terlalu singkat",
            "",
        ],
        [
            "Tahap I",
            "Cici",
            "Hutatoruan I",
            "Desa/Kelurahan",
            "Daring",
            "2",
            "5",
            "3",
            "4",
            "Sudah sesuai",
            "Sinyal lemah di desa",
        ],
    ]
    assert rows[1][5] == "Jumat, 25 Juni 2021, pukul 17.00 WIB"

    book = load_workbook(
        io.BytesIO(exports.to_xlsx(results, title=program.title, timezone="Asia/Jakarta", locale="id"))
    )
    responses, summary = book.worksheets
    assert [cell.value for cell in responses[2]][:5] == [
        "Tahap I",
        "Ani",
        rows[1][2],
        "Perangkat daerah (OPD)",
        "Luring",
    ]
    assert [cell.value for cell in responses[2]][6:10] == [5, 4, 3, 5]
    header = [cell.value for cell in summary[1]]
    assert header == [
        "Pertanyaan",
        "Jawaban",
        "Rata-rata",
        "Rata-rata Luring",
        "Rata-rata Daring",
        "Rata-rata Perangkat daerah (OPD)",
        "Rata-rata Desa/Kelurahan",
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
    first = [cell.value for cell in summary[2]]
    assert first[1:] == [3, pytest.approx(11 / 3), 4.5, 2.0, 4.5, 2.0, 0, 1, 0, 1, 1]


# --- The participant's form ---------------------------------------------------------------------


def _logged_in(session, client, program, **kwargs):
    registration = _approved(session, program, **kwargs)
    session.commit()
    assert client.post(f"/p/{links.token_for(registration, SECRET)}").status_code == 302
    return registration


def _form_data(questionnaire, ratings, choice_value="Sudah sesuai", text_value=""):
    return {
        f"item_{item_id}": value
        for item_id, value in _answers(questionnaire, ratings, choice_value, text_value).items()
    }


def test_a_participant_fills_in_the_evaluation_from_their_page_and_changes_it(session, client, set_now):
    program, questionnaire = _setup(session)
    stage = program.stages[0]
    registration = _logged_in(session, client, program)
    url = f"/saya/{program.slug}/evaluasi/{stage.id}"

    set_now(OPENS - timedelta(minutes=1))
    assert "Isi evaluasi" not in client.get(f"/saya/{program.slug}").get_data(as_text=True)
    assert "Evaluasi dibuka pada Jumat, 25 Juni 2021, pukul 09.00 WIB." in client.get(url).get_data(
        as_text=True
    )

    set_now(DURING)
    page = client.get(f"/saya/{program.slug}").get_data(as_text=True)
    assert f'href="{url}"' in page and "Isi evaluasi" in page
    response = client.post(url, data=_form_data(questionnaire, [4, 5, 3, 4], text_value="Materi bagus"))
    assert response.status_code == 302 and response.location == url
    page = client.get(url).get_data(as_text=True)
    assert "Terima kasih: evaluasi Anda tersimpan." in page
    assert "Anda dapat mengubah jawaban sampai Jumat, 2 Juli 2021, pukul 16.00 WIB." in page
    assert "Materi bagus</textarea>" in page
    assert "Ubah evaluasi saya" in client.get(f"/saya/{program.slug}").get_data(as_text=True)

    client.post(url, data=_form_data(questionnaire, [5, 5, 5, 5]))
    [saved] = session.scalars(select(EvaluationResponse)).all()
    assert saved.registration_id == registration.id
    assert sorted(answer.rating for answer in saved.answers if answer.rating) == [5, 5, 5, 5]


def test_while_its_stage_runs_the_evaluation_comes_after_the_stage_and_its_join_button(
    session, client, set_now
):
    program, _questionnaire = _setup(session)
    _logged_in(session, client, program, mode=Mode.DARING)

    set_now(OPENS + timedelta(hours=1))  # the last day, the stage still running
    page = client.get(f"/saya/{program.slug}").get_data(as_text=True)
    assert page.index('data-testid="stage-1"') < page.index('data-testid="evaluation-1"')

    set_now(STAGE_END + timedelta(minutes=1))  # ended: the evaluation first, then Tahap II
    page = client.get(f"/saya/{program.slug}").get_data(as_text=True)
    assert page.index('data-testid="evaluation-1"') < page.index('data-testid="stage-2"')


def test_wrong_answers_show_translated_errors_and_keep_what_was_typed(session, client, set_now):
    program, questionnaire = _setup(session)
    stage = program.stages[0]
    _logged_in(session, client, program)
    scale, _choice, _text = _items(questionnaire)
    set_now(DURING)
    data = _form_data(questionnaire, [4, 5, 3, 4], text_value="Ruangan terlalu dingin")
    data[f"item_{scale[1].id}"] = ""

    response = client.post(f"/saya/{program.slug}/evaluasi/{stage.id}", data=data)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Beberapa jawaban perlu diperbaiki: lihat pertanyaan yang ditandai di bawah." in page
    assert page.count("Mohon jawab pertanyaan ini.") == 1
    assert "Ruangan terlalu dingin</textarea>" in page
    assert (
        f'<input checked id="item_{scale[0].id}-3" name="item_{scale[0].id}" type="radio" value="4">' in page
    )
    assert session.scalar(select(func.count()).select_from(EvaluationResponse)) == 0


def test_after_the_deadline_the_form_is_closed_and_a_late_post_changes_nothing(session, client, set_now):
    program, questionnaire = _setup(session)
    stage = program.stages[0]
    _logged_in(session, client, program)
    url = f"/saya/{program.slug}/evaluasi/{stage.id}"
    set_now(DURING)
    client.post(url, data=_form_data(questionnaire, [4, 4, 4, 4]))

    set_now(CLOSES)
    page = client.get(url).get_data(as_text=True)
    assert "Evaluasi ditutup pada Jumat, 2 Juli 2021, pukul 16.00 WIB." in page
    assert 'data-testid="evaluation-submit"' not in page
    response = client.post(url, data=_form_data(questionnaire, [1, 1, 1, 1], text_value="Terlambat"))
    assert response.status_code == 200
    assert "Evaluasi tahap ini sudah ditutup: jawaban tidak dapat disimpan lagi." in response.get_data(
        as_text=True
    )
    assert sorted(answer.rating for answer in session.scalars(select(EvaluationAnswer)) if answer.rating) == [
        4,
        4,
        4,
        4,
    ]


def test_a_participant_answers_only_for_their_own_registration(session, client, set_now):
    program, _questionnaire = _setup(session)
    other, _ = _setup(session)
    _logged_in(session, client, program)
    set_now(DURING)

    # another programme's stage under one's own programme, and another programme's page: not found
    assert client.get(f"/saya/{program.slug}/evaluasi/{other.stages[0].id}").status_code == 404
    assert client.get(f"/saya/{other.slug}/evaluasi/{other.stages[0].id}").status_code == 404
    assert client.post(f"/saya/{other.slug}/evaluasi/{other.stages[0].id}", data={}).status_code == 404
    assert session.scalar(select(func.count()).select_from(EvaluationResponse)) == 0


# --- The organiser ------------------------------------------------------------------------------


def test_the_organiser_creates_the_questionnaire_adds_and_removes_questions(session, client, login, set_now):
    program = factories.program(session, stages=1)
    login(factories.staff(session, Role.PANITIA))
    session.commit()
    set_now(OPENS - timedelta(days=30))

    assert "Buat kuesioner standar" in client.get(f"/admin/programs/{program.id}/evaluasi").get_data(
        as_text=True
    )
    assert client.post(f"/admin/programs/{program.id}/evaluasi/default").status_code == 302
    response = client.post(
        f"/admin/programs/{program.id}/evaluasi/items",
        data={"kind": "choice", "prompt": "Sesi favorit", "options": "Pagi", "required": "y"},
    )
    assert response.status_code == 200
    assert "Tuliskan paling sedikit dua pilihan, satu per baris." in response.get_data(as_text=True)
    response = client.post(
        f"/admin/programs/{program.id}/evaluasi/items",
        data={"kind": "choice", "prompt": "Sesi favorit", "options": "Pagi\nSiang\n", "required": "y"},
    )
    assert response.status_code == 302
    questionnaire = services.questionnaire_of(session, program)
    session.refresh(questionnaire)
    added = questionnaire.items[-1]
    assert (added.position, added.prompt, added.options) == (7, "Sesi favorit", ["Pagi", "Siang"])

    assert client.post(f"/admin/evaluasi/items/{added.id}/hapus").status_code == 302
    session.expire_all()
    assert len(services.questionnaire_of(session, program).items) == 6


def test_a_question_with_answers_cannot_be_removed(session):
    program, questionnaire = _setup(session)
    registration = _approved(session, program)
    services.submit(
        session,
        questionnaire,
        registration,
        program.stages[0],
        _answers(questionnaire, [3, 3, 3, 3]),
        now=DURING,
    )

    with pytest.raises(services.EvaluationError) as refused:
        services.remove_item(session, questionnaire.items[0], actor=None, now=DURING)
    assert refused.value.code == "item_answered"


def test_the_results_page_shows_averages_with_charts_and_the_downloads(session, client, login, answered):
    program, _questionnaire = answered
    login(factories.staff(session, Role.PANITIA))
    session.commit()
    stage = program.stages[0]

    page = client.get(f"/admin/programs/{program.id}/evaluasi/hasil?tahap={stage.id}").get_data(as_text=True)
    assert '<span class="big-value" data-testid="average-1">3,67</span>' in page
    assert '<rect class="bar-evaluation" x="0" y="0" width="33.333" height="8"></rect>' in page
    assert "Sinyal lemah di desa" in page
    csv_response = client.get(f"/admin/programs/{program.id}/evaluasi/hasil.csv?tahap={stage.id}")
    assert (
        csv_response.headers["Content-Disposition"]
        == f"attachment; filename=evaluasi-{program.slug}-tahap-I.csv"
    )
    xlsx = client.get(f"/admin/programs/{program.id}/evaluasi/hasil.xlsx")
    assert (
        xlsx.headers["Content-Disposition"]
        == f"attachment; filename=evaluasi-{program.slug}-semua-tahap.xlsx"
    )
    assert len(load_workbook(io.BytesIO(xlsx.data)).worksheets[0]["A"]) == 5  # header + 4 responses


# --- The reminder at the stage's end ------------------------------------------------------------


def test_the_reminder_at_the_end_invites_to_the_evaluation_once_with_the_personal_link(session, app):
    program, _questionnaire = _setup(session, stages=1)
    stage = program.stages[0]
    registration = _approved(session, program)
    session.commit()

    reminder_services.expand_due(session, STAGE_END - timedelta(seconds=1))
    assert session.scalars(select(Delivery).where(Delivery.rule.has(anchor=Anchor.END))).all() == []
    reminder_services.expand_due(session, STAGE_END)
    reminder_services.expand_due(session, STAGE_END + timedelta(minutes=5))
    deliveries = session.scalars(
        select(Delivery).join(Delivery.rule).where(ReminderRule.anchor == Anchor.END)
    ).all()
    assert sorted(d.channel for d in deliveries) == ["email", "inapp", "whatsapp"]
    assert {(d.due_at, d.late_at) for d in deliveries} == {(STAGE_END, STAGE_END + timedelta(days=1))}

    [whatsapp] = [d for d in deliveries if d.channel == "whatsapp"]
    message = reminder_services.preview(stage, registration, app.config, rule=whatsapp.rule)["whatsapp"]
    assert message.subject == "Evaluasi: Tahap I: Tahap ke-1"
    assert "Terima kasih telah mengikuti *Tahap I: Tahap ke-1*" in message.text
    assert 'pilih "Isi evaluasi"' in message.text
    assert f"/p/{links.token_for(registration, SECRET)}" in message.text
    assert "zoom.us" not in message.text


def test_the_organiser_adds_a_reminder_at_the_stage_end_and_sees_it_as_such(session, client, login):
    program = factories.program(session, stages=1)
    login(factories.staff(session, Role.PANITIA))
    session.commit()
    new_rule = f"/admin/programs/{program.id}/reminders/rules/new"
    data = {
        "offset_value": "",
        "offset_unit": "hours",
        "channels": ["whatsapp"],
        "audience": "all",
        "stage_id": "0",
    }

    refused = client.post(new_rule, data={**data, "anchor": "start"})
    assert refused.status_code == 200 and "Wajib diisi." in refused.get_data(as_text=True)
    assert client.post(new_rule, data={**data, "anchor": "end"}).status_code == 302

    rule = session.scalar(select(ReminderRule).where(ReminderRule.anchor == Anchor.END))
    assert (rule.offset_minutes, rule.window_minutes, rule.channels) == (0, None, "whatsapp")
    page = client.get(f"/admin/programs/{program.id}/reminders").get_data(as_text=True)
    assert "Saat tahap selesai" in page
    assert "Jumat, 25 Juni 2021, pukul 16.00 WIB" in page  # goes out when the stage ends
