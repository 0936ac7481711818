"""Who has earned a certificate: one pure function over a participant's attendance records.

A stage counts when it has ended, the person was present (hadir or terlambat, as the attendance
report computes it from the evidence and the organiser's overrides) and, when the rule asks for
it, the person filled in that stage's evaluation. The JP of the counted stages add up. Each
criterion the rule sets must be met (at least `min_stages` stages, at least `min_jp` JP); a rule
that sets neither gives no certificate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from workshop.attendance.models import AttendanceStatus

PRESENT = frozenset({AttendanceStatus.HADIR, AttendanceStatus.TERLAMBAT})


@dataclass(frozen=True)
class Rule:
    min_stages: int | None = None
    min_jp: int | None = None
    require_evaluation: bool = False

    @property
    def is_set(self) -> bool:
        return self.min_stages is not None or self.min_jp is not None


@dataclass(frozen=True)
class Standing:
    stage_ids: tuple[int, ...]  # the stages that count, in programme order
    jp: int
    eligible: bool


def judge(
    rule: Rule,
    statuses: Iterable[tuple[int, AttendanceStatus]],
    jp_of: Mapping[int, int],
    evaluated: AbstractSet[int] | None = None,
) -> Standing:
    """`statuses`: (stage id, status) of the ended stages, in programme order; `jp_of`: JP per
    stage id; `evaluated`: the stage ids whose evaluation the person filled in (needed when the
    rule requires the evaluation)."""
    counted = tuple(
        stage_id
        for stage_id, status in statuses
        if status in PRESENT and (not rule.require_evaluation or stage_id in (evaluated or frozenset()))
    )
    jp = sum(jp_of.get(stage_id, 0) for stage_id in counted)
    eligible = (
        rule.is_set
        and (rule.min_stages is None or len(counted) >= rule.min_stages)
        and (rule.min_jp is None or jp >= rule.min_jp)
    )
    return Standing(stage_ids=counted, jp=jp, eligible=eligible)
