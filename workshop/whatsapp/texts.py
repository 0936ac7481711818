"""The words of WhatsApp polls and replies, in every language a participant may have chosen:
the reminder engine picks the participant's (ParticipantMessage keeps one text per language)."""

from __future__ import annotations

import string
from collections.abc import Sequence

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from workshop.i18n import LANGUAGES, stage_label
from workshop.live.models import Poll, PollKind

REPLIES = {
    "vote_counted": _l('Thank you, your answer to "%(question)s" is counted: %(answer)s.'),
    "vote_changed": _l('Your answer to "%(question)s" is changed to: %(answer)s.'),
    "already_voted": _l('You have already answered "%(question)s"; this poll keeps the first answer.'),
    "question_received": _l("Thank you, your question is received and shows on the screen."),
    "question_moderated": _l(
        "Thank you, your question is received; it shows on the screen once the facilitator approves it."
    ),
    "no_poll": _l('No poll is open right now. To ask a question, write "%(keyword)s: your question".'),
    "poll_closed": _l('The poll "%(question)s" is closed; answers are no longer accepted.'),
    "ambiguous": _l('Your answer "%(text)s" could mean more than one option. %(how)s'),
    "not_understood": _l('We could not read "%(text)s" as an answer. %(how)s'),
    "invalid": _l('"%(text)s" is not a valid answer to this poll. %(how)s'),
    "too_long": _l("That is too long. Please shorten it and send it again."),
    "empty": _l("Please write something first."),
    "rate_limited": _l("You are sending questions too quickly. Please wait a minute."),
    "no_stage": _l("No stage is running right now: questions can be asked during a stage."),
    "not_approved": _l(
        "This number is not among the approved participants, so it cannot vote or ask yet. "
        "Please contact the organisers."
    ),
    "unknown_number": _l(
        "This number is not registered as a participant of the Bimtek. Register at %(url)s "
        "or contact the organisers."
    ),
    "unknown_number_no_url": _l(
        "This number is not registered as a participant of the Bimtek. Please contact the organisers."
    ),
    "server_error": _l("Something went wrong on our side. Please send your answer again."),
    "polls_stopped": _l(
        "Polls will no longer come to this number. To get them again, turn them on on your live page."
    ),
}
HOW_CHOICE = _l('Reply with the number of one option (e.g. "2"), or its letter or its text.')
HOW_MULTIPLE = _l('Reply with the numbers of your options (e.g. "1 3"), or their letters.')
HOW_RATING = _l("Reply with a number from 1 to %(scale)s.")
HOW_WORDS = _l("Reply with a few words, separated by commas.")
HOW_TEXT = _l("Reply with your answer.")
ASK = _l('To ask a question, write "%(keyword)s: your question".')
POLL_HEADER = _l("Poll, %(stage)s")
MAX_QUOTE = 60


def in_every_language(render) -> dict[str, str]:
    """{language: render()} under each language of the site."""
    texts = {}
    for language in LANGUAGES:
        with force_locale(language):
            texts[language] = render()
    return texts


def reply(code: str, **values) -> dict[str, str]:
    return in_every_language(lambda: _reply(code, values))


def _reply(code: str, values: dict) -> str:
    values = dict(values)  # rendered once per language: each takes its own copy
    poll = values.pop("poll", None)
    text = values.pop("text", "")
    answer = values.pop("answer", None)
    quote = " ".join(text.split())
    if len(quote) > MAX_QUOTE:
        quote = quote[: MAX_QUOTE - 1] + "…"
    facts = {
        "question": poll.question if poll else "",
        "text": quote,
        "how": how_to_answer(poll) if poll else "",
        "answer": answer_label(poll, answer) if poll and answer else "",
        **values,
    }
    return str(REPLIES[code] % facts)


def how_to_answer(poll: Poll) -> str:
    if poll.kind == PollKind.SINGLE:
        return str(HOW_CHOICE)
    if poll.kind == PollKind.MULTIPLE:
        return str(HOW_MULTIPLE)
    if poll.kind == PollKind.RATING:
        return str(HOW_RATING % {"scale": poll.scale or 5})
    if poll.kind == PollKind.WORDCLOUD:
        return str(HOW_WORDS)
    return str(HOW_TEXT)


def answer_label(poll: Poll, answer: dict) -> str:
    """The stored answer as the participant reads it: "2. Setuju", "4", the words, the text."""
    if "option_ids" in answer:
        positions = {option.id: index for index, option in enumerate(poll.options, start=1)}
        labels = {option.id: option.label for option in poll.options}
        return ", ".join(f"{positions[id_]}. {labels[id_]}" for id_ in answer["option_ids"] if id_ in labels)
    if "rating" in answer:
        return str(answer["rating"])
    if "words" in answer:
        return ", ".join(answer["words"])
    return str(answer.get("text", ""))


def poll_question(poll: Poll, stage_number: str, keywords: Sequence[str]) -> dict[str, str]:
    """The question with its numbered options and how to answer, in every language."""

    def render() -> str:
        lines = [f"*{POLL_HEADER % {'stage': stage_label(stage_number)}}*", poll.question, ""]
        for index, option in enumerate(poll.options):
            letter = string.ascii_uppercase[index] if index < 26 else ""
            lines.append(f"{index + 1}. {option.label}" + (f" ({letter})" if letter else ""))
        if poll.options:
            lines.append("")
        lines.append(how_to_answer(poll))
        if keywords:
            lines.append(str(ASK % {"keyword": keywords[0]}))
        return "\n".join(lines)

    return in_every_language(render)


__all__ = ["REPLIES", "answer_label", "how_to_answer", "poll_question", "reply"]
