"""The translated strings the live pages' scripts show (static/js/live*.js).

The view puts `ui_texts(role)` into the page's `data-config` (config["text"]): the scripts never
hold English or Indonesian text themselves. Placeholders in braces ({answered}, {present}, ...)
are filled in by the script.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import pgettext


def _common() -> dict[str, str]:
    return {
        "luring": _("In person"),
        "daring": _("Remote"),
        "anonymous": _("Anonymous"),
        "pinned": _("Pinned"),
        "answered_badge": pgettext("question status", "Answered"),
        "answered_of_present": _("{answered} of {present} present have answered"),
        "total_answers": _("{total} answers in total"),
        "average": _("Average: {average}"),
        "upvotes_count": _("{count} upvotes"),
        "network_error": _("No connection. Please try again."),
        "rate_limited": _("Too many requests. Please wait a moment and try again."),
        "status_live": _("Live"),
        "status_polling": _("Updating every 10 seconds"),
        "status_offline": _("Offline: showing the last known state"),
        "status_connecting": _("Connecting..."),
        # The stage's phase mark once it moved while the page was open (templates/macros.html phase_mark).
        "phase_running": _("In progress"),
        "phase_ended": _("Ended"),
        "closes_in": _("Closes in {time}"),
        "time_up": _("Time is up"),
        # A hall hand count merged with the online votes: each source labelled.
        "hall_part": _("Hall: {count}"),
        "online_part": _("Online: {count}"),
        "hall_total": _("Hall: {hall} · Online: {online}"),
        # What the two colours of a bar split: the votes' source, or (no hall count) the voters' mode.
        "legend_sources": _("Colours by where the votes came from:"),
        "source_hall": _("hands counted in the hall"),
        "source_online": _("votes in the app or by WhatsApp"),
        "legend_modes": _("Colours by how the voters are registered:"),
        "from_stage": _("from Stage {number}"),
        "carried_to": _("carried to Stage {number}"),
    }


def _participant() -> dict[str, str]:
    return {
        "send_answer": _("Send answer"),
        "change_answer": _("Change answer"),
        "your_answer": _("Your answer"),
        "choose_at_most": _("Choose at most {max}."),
        "add_word": _("Add"),
        "word_placeholder": _("A word or short phrase"),
        "words_limit": _("Up to {max} words or short phrases, one at a time."),
        "remove": _("Remove"),
        "text_placeholder": _("Your answer"),
        "results_after_close": _("The results are shown when the poll closes."),
        "results_hidden": _("The results are not shown to participants."),
        "upvote": _("Support this question"),
        "upvoted": _("You support this question"),
        "own_question": _("Your question"),
        "status_pending": _("Awaiting moderation"),
        "status_approved": _("Shown to everyone"),
        "status_answered": pgettext("question status", "Answered"),
        "status_dismissed": _("Dismissed"),
        "reason": _("Reason: {reason}"),
        "question_sent": _("Your question has been sent."),
        "question_sent_pending": _("Your question has been sent and awaits moderation."),
        "chars_left": _("{count} characters left"),
        "waiting_for_connection": _("Waiting for connection"),
        "answer_queued": _("Waiting for connection: your answer is sent as soon as you are back online."),
        "question_queued": _("Waiting for connection: your question is sent as soon as you are back online."),
    }


def _staff() -> dict[str, str]:
    return {
        "approve": _("Approve"),
        "dismiss": _("Dismiss"),
        "mark_answered": _("Mark answered"),
        "pin": _("Pin"),
        "unpin": _("Unpin"),
        # The placeholder fits the field on a phone; the field's accessible name says it in full.
        "reason_placeholder": _("Reason for the asker (optional)"),
        "reason_label": _("Reason (optional, shown to the asker)"),
        "anonymous_to_participants": _("anonymous to participants"),
        "status_pending": _("Awaiting moderation"),
        "status_approved": _("Approved"),
        "status_answered": pgettext("question status", "Answered"),
        "status_dismissed": _("Dismissed"),
        "reason": _("Reason: {reason}"),
        "by_kind": _("By kind of organisation"),
        # Beside a hall count: the online votes by how their voters take part.
        "online_modes": _("(from in-person participants {luring}, remote {daring})"),
        "results_hidden_note": _("Participants do not see these results."),
        "results_after_close_note": _("Participants see these results when the poll closes."),
        "poll_closed": _("This poll is closed."),
        "poll_status_open": pgettext("poll status", "Open"),
        "poll_status_closed": pgettext("poll status", "Closed"),
        "carry": _("Discuss at the next stage"),
        "carry_over": _("To the next stage"),
        "uncarry": _("Discuss at this stage"),
        "hall_count_help": _(
            "Hands raised in the hall for each option. Checked in at the hall now: {present}."
        ),
        # A closed poll: the hands were counted then, so no "checked in now" beside them.
        "hall_count_help_closed": _("Hands raised in the hall for each option."),
        "hall_count_saved": _("Hall count saved."),
        "hall_count_closed": _("This poll is closed: its hall count can no longer be changed."),
    }


def ui_texts(role: str) -> dict[str, str]:
    """The strings for a page of `role`: "participant" or "staff" (control panel, projector)."""
    return {**_common(), **(_staff() if role == "staff" else _participant())}
