"""Attendance of one registration at one stage, computed from its evidence by one pure function.

A stage runs on each of its days between the daily start and end times of the stage (09.00 to
16.00 on both days of a two-day stage); that is the stage's time. Time present is, per day:
from the hall check-in to the end of the day, united with the intervals online (live
presence, meeting-report rows), all clipped to the day's window and to the present moment, so
rejoins and two devices are not counted twice and no minute is credited before it has passed.

The hall check-in of a day is accepted from the stage's check-in opening (120 minutes before the
day's start by default) until the day's end; a scan outside every such window credits nothing.

A day is attended with a hall check-in that day, or online for at least the programme's
threshold share of the day (75% by default). While a day runs, an online participant counts as
attended as long as they have shown up and can still reach the threshold (the time online so
far plus the time left in the day), so the figure at the day's end is the final one. A day not
yet begun counts only for whoever already arrived for it (a hall check-in, or online from the
check-in opening on); for the others it is no absence. A stage of which no day counts yet for
the person is "belum dimulai" (not started).

The stage is attended ("hadir") when all its days that count are; late ("terlambat") when, on
some day, the person arrived (check-in or first moment online) after the day's start + the late
allowance (15 minutes by default). An organiser's override (izin, or a correction) wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from workshop.attendance.models import AttendanceStatus
from workshop.programs.windows import Interval, StageWindow
from workshop.registration.models import Mode


@dataclass(frozen=True)
class Rules:
    threshold_percent: int = 75
    late_after_minutes: int = 15


@dataclass(frozen=True)
class Evidence:
    check_ins: tuple[datetime, ...] = ()  # first hall scan of each day
    online: tuple[Interval, ...] = ()  # presence and meeting-report intervals; a click is (t, t)
    override: AttendanceStatus | None = None
    registered_mode: Mode | None = None


@dataclass(frozen=True)
class Attendance:
    status: AttendanceStatus
    mode: Mode | None
    minutes_present: int
    first_seen: datetime | None


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """The union of intervals, as sorted disjoint intervals."""
    merged: list[list[datetime]] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def clip(intervals: Iterable[Interval], window: Interval) -> list[Interval]:
    low, high = window
    return [(max(s, low), min(e, high)) for s, e in intervals if min(e, high) > max(s, low)]


def _seconds(intervals: Iterable[Interval]) -> float:
    return sum((end - start).total_seconds() for start, end in intervals)


def _first_scans(stage: StageWindow, check_ins: Iterable[datetime]) -> dict[datetime, datetime]:
    """The earliest hall scan of each day (by the day's start), of the scans inside a check-in window."""
    first: dict[datetime, datetime] = {}
    for scanned_at in check_ins:
        day = stage.check_in_day(scanned_at)
        if day is not None and (day[0] not in first or scanned_at < first[day[0]]):
            first[day[0]] = scanned_at
    return first


@dataclass(frozen=True)
class _Day:
    attended: bool
    late: bool


def _judge_day(
    stage: StageWindow,
    day: Interval,
    first_scan: datetime | None,
    evidence_online: Iterable[Interval],
    online: list[Interval],
    rules: Rules,
    now: datetime,
) -> _Day | None:
    """How one day stands at `now`, or None when it has not begun for this person."""
    start, end = day
    late_from = start + timedelta(minutes=rules.late_after_minutes)
    if first_scan is not None:
        return _Day(attended=True, late=first_scan > late_from)
    opens, upto = start - stage.check_in_opens_before, min(now, end)
    arrivals = sorted(low for low, high in evidence_online if low <= upto and high >= opens)
    if now < start and not arrivals:
        return None
    so_far = clip(online, (start, upto)) if upto > start else []
    remaining = max((end - max(now, start)).total_seconds(), 0.0)
    reachable = (_seconds(so_far) + remaining) * 100 >= rules.threshold_percent * _seconds([day])
    if not arrivals or not reachable:
        return _Day(attended=False, late=False)
    arrived = so_far[0][0] if so_far else arrivals[0]
    return _Day(attended=True, late=arrived > late_from)


def compute(stage: StageWindow, rules: Rules, evidence: Evidence, now: datetime) -> Attendance:
    """The attendance at `now`, from the evidence up to `now`."""
    days = stage.days()
    scans = _first_scans(stage, (scanned_at for scanned_at in evidence.check_ins if scanned_at <= now))
    seen_online = tuple((start, min(end, now)) for start, end in evidence.online if start <= now)
    online = merge(seen_online)
    hall = [(scanned_at, end) for start, end in days if (scanned_at := scans.get(start)) is not None]
    everything = merge([*online, *hall])
    elapsed = [(start, min(end, now)) for start, end in days if min(end, now) > start]
    seconds = _seconds(merge(interval for window in elapsed for interval in clip(everything, window)))

    if scans:
        mode: Mode | None = Mode.LURING
    elif seen_online:
        mode = Mode.DARING
    else:
        mode = evidence.registered_mode

    if evidence.override is not None:
        status = evidence.override
    else:
        judged = [
            verdict
            for day in days
            if (verdict := _judge_day(stage, day, scans.get(day[0]), seen_online, online, rules, now))
            is not None
        ]
        if not judged:
            status = AttendanceStatus.BELUM_DIMULAI
        elif not all(verdict.attended for verdict in judged):
            status = AttendanceStatus.TIDAK_HADIR
        elif any(verdict.late for verdict in judged):
            status = AttendanceStatus.TERLAMBAT
        else:
            status = AttendanceStatus.HADIR
    first_seen = min([*scans.values(), *(start for start, _ in seen_online)], default=None)
    return Attendance(status=status, mode=mode, minutes_present=int(seconds // 60), first_seen=first_seen)


def stage_minutes(stage: StageWindow) -> int:
    return int(_seconds(stage.days()) // 60)
