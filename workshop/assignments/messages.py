"""What the organisation's contact persons receive about an assignment, in every language at
once: the words are frozen in the participant message (reminders/outreach.py), and each person
gets theirs."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from workshop import i18n
from workshop.assignments.models import Assignment, Submission, SubmissionStatus
from workshop.programs.models import Organization

REVIEW_NEWS = {
    SubmissionStatus.RECEIVED: _l(
        '%(organization)s: your submission for "%(assignment)s" has been received.'
    ),
    SubmissionStatus.NEEDS_REVISION: _l(
        '%(organization)s: your submission for "%(assignment)s" needs revision. Comment: %(comment)s'
    ),
    SubmissionStatus.ACCEPTED: _l('%(organization)s: your submission for "%(assignment)s" is accepted.'),
}
REMINDER = _l(
    '%(organization)s has not handed in "%(assignment)s" yet. The deadline is %(deadline)s, in %(left)s. '
    "Open your personal link to hand it in."
)


def review_texts(submission: Submission) -> dict[str, str]:
    values = {
        "organization": submission.organization.label,
        "assignment": submission.assignment.title,
        "comment": submission.review_comment,
    }
    return _in_every_language(lambda language: str(REVIEW_NEWS[submission.status]) % values)


def reminder_texts(assignment: Assignment, organization: Organization, left: timedelta) -> dict[str, str]:
    zone = assignment.program.timezone
    return _in_every_language(
        lambda language: (
            str(REMINDER)
            % {
                "organization": organization.label,
                "assignment": assignment.title,
                "deadline": i18n.format_datetime_long(assignment.deadline, zone, language),
                "left": i18n.format_offset(left, language),
            }
        )
    )


def _in_every_language(text) -> dict[str, str]:
    texts = {}
    for language in i18n.LANGUAGES:
        with force_locale(language):
            texts[language] = text(language)
    return texts
