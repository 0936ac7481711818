"""What a WhatsApp reply says: a question ("T: <text>"), or an answer to the open poll.

A choice is given by its number ("2"), its letter ("B") or its text ("Setuju"), case and spaces
aside; several ("1 3", "A, C") on a multiple-choice poll. When the number or letter reading and
the text reading point at different options, or a text names two options, the reply is ambiguous.
The answer is then checked by the vote service like any other (`live.votes.normalise_answer`).
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass

from workshop.live.models import Poll, PollKind
from workshop.live.votes import normalise_word

SEPARATORS = re.compile(r"[\s,;/]+")
LETTERS = string.ascii_lowercase


@dataclass(frozen=True)
class Reading:
    kind: str  # "answer" | "ambiguous" | "not_understood"
    answer: dict | None = None


def question_text(text: str, keywords: Sequence[str]) -> str | None:
    """The question in "T: <text>" (any of `keywords`, any case), or None."""
    head, colon, rest = text.partition(":")
    if not colon:
        return None
    if " ".join(head.split()).casefold() in {keyword.casefold() for keyword in keywords}:
        return rest.strip()
    return None


def read_answer(poll: Poll, text: str) -> Reading:
    if poll.kind in (PollKind.SINGLE, PollKind.MULTIPLE):
        return _read_choice(poll, text)
    if poll.kind == PollKind.RATING:
        value = text.strip()
        if value.isascii() and value.isdigit() and len(value) <= 3:
            return Reading("answer", {"rating": int(value)})
        return Reading("not_understood")
    if poll.kind == PollKind.WORDCLOUD:
        return Reading("answer", {"words": [word for word in re.split(r"[,;\n]+", text) if word.strip()]})
    return Reading("answer", {"text": text})


def _read_choice(poll: Poll, text: str) -> Reading:
    options = list(poll.options)
    wanted = normalise_word(text)
    by_label = [option.id for option in options if normalise_word(option.label) == wanted]
    by_index = _by_index(options, wanted)
    if len(by_label) > 1:
        return Reading("ambiguous")
    readings = {tuple(found) for found in (by_label, by_index) if found}
    if len(readings) > 1:
        return Reading("ambiguous")
    if not readings:
        return Reading("not_understood")
    chosen = list(readings.pop())
    if poll.kind == PollKind.SINGLE and len(chosen) > 1:
        return Reading("ambiguous")
    return Reading("answer", {"option_ids": chosen})


def _by_index(options: list, wanted: str) -> list[int]:
    """The options a reply of numbers ("2", "1 3") or letters ("b", "a, c") names; [] if not such
    a reply, or if one of its numbers or letters names no option."""
    tokens = [token for token in SEPARATORS.split(wanted) if token]
    chosen: list[int] = []
    for token in tokens:
        if token.isascii() and token.isdigit() and len(token) <= 3:
            position = int(token) - 1
        elif len(token) == 1 and token in LETTERS:
            position = LETTERS.index(token)
        else:
            return []
        if not 0 <= position < len(options):
            return []
        if options[position].id not in chosen:
            chosen.append(options[position].id)
    return chosen
