"""The evaluation's operations: the questionnaire (the default one in one click, items added,
changed, removed), a participant's response (saved, edited until the deadline) and the window
in which a stage can be evaluated.

Services take the session, the acting user and `now`; they flush, never commit, and raise
`EvaluationError` with a code (the views turn codes into text).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from workshop import audit
from workshop.auth.models import User
from workshop.db import Session
from workshop.errors import ServiceError
from workshop.evaluation.models import (
    MAX_DEADLINE_DAYS,
    SCALE_MAX,
    SCALE_MIN,
    EvaluationAnswer,
    EvaluationResponse,
    ItemKind,
    Questionnaire,
    QuestionnaireItem,
)
from workshop.programs.models import Program, Stage
from workshop.registration.models import Registration, Status
from workshop.reminders import services as reminder_services
from workshop.reminders.models import Anchor, Audience, ReminderRule

MAX_PROMPT = 300
MAX_OPTION = 100
MAX_OPTIONS = 10
MAX_TEXT_ANSWER = 2000
RATINGS = {str(value): value for value in range(SCALE_MIN, SCALE_MAX + 1)}

# The questionnaire an organiser gets in one click, in Indonesian (the programme's words, which
# the organiser may change): the four usual ratings, one choice, one free text.
DEFAULT_ITEMS: tuple[tuple[ItemKind, str, tuple[str, ...], bool], ...] = (
    (ItemKind.SCALE, "Materi: isi dan kegunaan materi yang disampaikan", (), True),
    (ItemKind.SCALE, "Narasumber: penguasaan dan cara penyampaian", (), True),
    (ItemKind.SCALE, "Penyelenggaraan: tempat, waktu, jaringan dan pelayanan panitia", (), True),
    (ItemKind.SCALE, "Manfaat bagi tugas dan pekerjaan Anda", (), True),
    (
        ItemKind.CHOICE,
        "Apakah durasi tahap ini sudah sesuai?",
        ("Terlalu singkat", "Sudah sesuai", "Terlalu panjang"),
        False,
    ),
    (ItemKind.TEXT, "Saran dan masukan untuk tahap berikutnya", (), False),
)
DEFAULT_END_CHANNELS = ("whatsapp", "email", "inapp")


class EvaluationError(ServiceError):
    """`code` why; `problems` (a refused response): item id -> code, one per wrong answer."""

    def __init__(self, code: str, field: str | None = None, problems: Mapping[int, str] | None = None):
        super().__init__(code, field)
        self.problems = dict(problems or {})


# --- The window --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    opens_at: datetime  # the start of the stage's last day
    closes_at: datetime  # the deadline: `deadline_days` after the stage's end

    def phase(self, now: datetime) -> str:
        """ "upcoming", "open" or "closed"."""
        if now < self.opens_at:
            return "upcoming"
        return "open" if now < self.closes_at else "closed"


def window(stage: Stage, deadline_days: int) -> Window:
    """The stage's last day starts at the stage's daily start time on the date of its end (in the
    programme's time zone): a one-day stage opens at its start."""
    zone = ZoneInfo(stage.program.timezone)
    start, end = stage.starts_at.astimezone(zone), stage.ends_at.astimezone(zone)
    last_day = datetime.combine(end.date(), start.timetz()).astimezone(stage.starts_at.tzinfo)
    opens_at = min(max(last_day, stage.starts_at), stage.ends_at)
    return Window(opens_at=opens_at, closes_at=stage.ends_at + timedelta(days=deadline_days))


# Built once (its cache key is memoised on the statement): the participant page asks on every view.
_QUESTIONNAIRE_OF = select(Questionnaire).where(Questionnaire.program_id == bindparam("program_id"))


def questionnaire_of(session: Session, program: Program) -> Questionnaire | None:
    return session.scalar(_QUESTIONNAIRE_OF, {"program_id": program.id})


# --- The questionnaire -------------------------------------------------------------------------


def create_default(session: Session, program: Program, *, actor: User | None, now: datetime) -> Questionnaire:
    """The default questionnaire, and a reminder "at the stage's end" that invites to it (unless the
    programme has one already). A programme that has a questionnaire keeps it (returned as it is)."""
    existing = questionnaire_of(session, program)
    if existing is not None:
        return existing
    questionnaire = Questionnaire(program_id=program.id, created_at=now, updated_at=now)
    for position, (kind, prompt, options, required) in enumerate(DEFAULT_ITEMS, start=1):
        item = QuestionnaireItem(kind=kind, prompt=prompt, position=position, required=required)
        item.options = list(options)
        questionnaire.items.append(item)
    session.add(questionnaire)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # created meanwhile by another request
        created = questionnaire_of(session, program)
        assert created is not None
        return created
    has_end_rule = session.execute(
        select(func.count())
        .select_from(ReminderRule)
        .where(ReminderRule.program_id == program.id, ReminderRule.anchor == Anchor.END)
    ).scalar_one()
    if not has_end_rule:
        reminder_services.create_rule(
            session,
            program,
            stage=None,
            offset_minutes=0,
            window_minutes=None,
            channels=DEFAULT_END_CHANNELS,
            audience=Audience.ALL,
            anchor=Anchor.END,
            actor=actor,
            now=now,
        )
    audit.record(session, actor, "evaluation.create", f"program:{program.id}", "default questionnaire")
    return questionnaire


def _clean_options(kind: ItemKind, options: Sequence[str]) -> list[str]:
    if kind != ItemKind.CHOICE:
        return []
    cleaned: list[str] = []
    for option in options:
        text = " ".join(option.split())
        if text and text not in cleaned:
            cleaned.append(text)
    if len(cleaned) < 2:
        raise EvaluationError("too_few_options", "options")
    if len(cleaned) > MAX_OPTIONS:
        raise EvaluationError("too_many_options", "options")
    if any(len(option) > MAX_OPTION for option in cleaned):
        raise EvaluationError("option_too_long", "options")
    return cleaned


def _clean_prompt(prompt: str) -> str:
    text = " ".join((prompt or "").split())
    if not text:
        raise EvaluationError("prompt_required", "prompt")
    if len(text) > MAX_PROMPT:
        raise EvaluationError("prompt_too_long", "prompt")
    return text


def _answered(session: Session, item: QuestionnaireItem) -> int:
    return session.execute(
        select(func.count()).select_from(EvaluationAnswer).where(EvaluationAnswer.item_id == item.id)
    ).scalar_one()


def add_item(
    session: Session,
    questionnaire: Questionnaire,
    *,
    kind: ItemKind,
    prompt: str,
    options: Sequence[str] = (),
    required: bool = True,
    actor: User | None,
    now: datetime,
) -> QuestionnaireItem:
    item = QuestionnaireItem(
        kind=kind,
        prompt=_clean_prompt(prompt),
        position=max((existing.position for existing in questionnaire.items), default=0) + 1,
        required=required,
    )
    item.options = _clean_options(kind, options)
    questionnaire.items.append(item)
    questionnaire.updated_at = now
    session.flush()
    audit.record(session, actor, "evaluation.item.add", f"questionnaire_item:{item.id}", item.prompt)
    return item


def update_item(
    session: Session,
    item: QuestionnaireItem,
    *,
    prompt: str,
    options: Sequence[str] = (),
    required: bool,
    actor: User | None,
    now: datetime,
) -> None:
    """Change an item's words, options or whether it must be answered; its kind stays (answers given
    already keep their meaning). An option that was chosen already cannot be taken out."""
    cleaned = _clean_options(item.kind, options)
    if item.kind == ItemKind.CHOICE:
        chosen = set(
            session.scalars(
                select(EvaluationAnswer.text).where(EvaluationAnswer.item_id == item.id).distinct()
            )
        )
        if chosen - set(cleaned):
            raise EvaluationError("option_in_use", "options")
    item.prompt = _clean_prompt(prompt)
    item.options = cleaned
    item.required = required
    item.questionnaire.updated_at = now
    session.flush()
    audit.record(session, actor, "evaluation.item.update", f"questionnaire_item:{item.id}", item.prompt)


def remove_item(session: Session, item: QuestionnaireItem, *, actor: User | None, now: datetime) -> None:
    """Remove an item nobody answered yet; one with answers stays (its results would be lost)."""
    if _answered(session, item):
        raise EvaluationError("item_answered")
    questionnaire = item.questionnaire
    questionnaire.items.remove(item)
    for position, remaining in enumerate(questionnaire.items, start=1):
        remaining.position = position
    questionnaire.updated_at = now
    session.flush()
    audit.record(session, actor, "evaluation.item.remove", f"questionnaire:{questionnaire.id}", item.prompt)


def set_deadline(
    session: Session, questionnaire: Questionnaire, deadline_days: int, *, actor: User | None, now: datetime
) -> None:
    if not 0 <= deadline_days <= MAX_DEADLINE_DAYS:
        raise EvaluationError("bad_deadline", "deadline_days")
    questionnaire.deadline_days = deadline_days
    questionnaire.updated_at = now
    session.flush()
    audit.record(
        session, actor, "evaluation.deadline", f"questionnaire:{questionnaire.id}", f"{deadline_days} days"
    )


# --- Responses ---------------------------------------------------------------------------------


def response_of(session: Session, registration: Registration, stage: Stage) -> EvaluationResponse | None:
    return session.scalar(
        select(EvaluationResponse).where(
            EvaluationResponse.registration_id == registration.id, EvaluationResponse.stage_id == stage.id
        )
    )


def check_answers(questionnaire: Questionnaire, raw: Mapping[int, str]) -> dict[int, int | str]:
    """The answers given as typed (item id -> text), checked: item id -> rating (scale) or text
    (choice, free text); items left empty are left out. Raises EvaluationError("invalid_answers")
    with one problem per wrong item: "required", "bad_rating", "bad_choice", "too_long"."""
    answers: dict[int, int | str] = {}
    problems: dict[int, str] = {}
    for item in questionnaire.items:
        text = (raw.get(item.id) or "").strip()
        if not text:
            if item.required:
                problems[item.id] = "required"
            continue
        if item.kind == ItemKind.SCALE:
            rating = RATINGS.get(text)  # "1" to "5" only: not "²", "٣" or 5,000 nines
            if rating is None:
                problems[item.id] = "bad_rating"
            else:
                answers[item.id] = rating
        elif item.kind == ItemKind.CHOICE:
            if text not in item.options:
                problems[item.id] = "bad_choice"
            else:
                answers[item.id] = text
        elif len(text) > MAX_TEXT_ANSWER:
            problems[item.id] = "too_long"
        else:
            answers[item.id] = text
    if problems:
        raise EvaluationError("invalid_answers", problems=problems)
    return answers


def submit(
    session: Session,
    questionnaire: Questionnaire,
    registration: Registration,
    stage: Stage,
    raw: Mapping[int, str],
    *,
    now: datetime,
) -> EvaluationResponse:
    """Save (or replace) the registration's evaluation of the stage, inside the stage's window."""
    if (
        registration.status != Status.APPROVED
        or registration.program_id != stage.program_id
        or questionnaire.program_id != stage.program_id
    ):
        raise EvaluationError("not_registered")
    phase = window(stage, questionnaire.deadline_days).phase(now)
    if phase == "upcoming":
        raise EvaluationError("not_open_yet")
    if phase == "closed":
        raise EvaluationError("closed")
    answers = check_answers(questionnaire, raw)
    response = response_of(session, registration, stage)
    if response is None:
        response = EvaluationResponse(
            registration_id=registration.id, stage_id=stage.id, submitted_at=now, updated_at=now
        )
        session.add(response)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:  # the same participant's other tab saved first: edit that one
            saved = response_of(session, registration, stage)
            assert saved is not None
            response = saved
    response.updated_at = now
    response.answers = [
        EvaluationAnswer(
            item_id=item_id,
            rating=value if isinstance(value, int) else None,
            text=value if isinstance(value, str) else "",
        )
        for item_id, value in answers.items()
    ]
    session.flush()
    return response
