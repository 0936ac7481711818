"""Attendance of one registration at one stage, computed from its evidence by one pure function.

A stage runs on each of its days between the daily start and end times of the stage (09.00 to
16.00 on both days of a two-day stage); that is the stage's time. Time present is, per day:
from the hall check-in to the end of the day, united with the intervals online (live
presence, meeting-report rows), all clipped to the day's window, so rejoins and two devices
are not counted twice.

A day is attended with a hall check-in that day, or online for at least the programme's
threshold share of the day (75% by default). The stage is attended ("hadir") when all its days
are; late ("terlambat") when, on some day, the person arrived (check-in or first moment
online) after the day's start + the late allowance (15 minutes by default). An organiser's
override (izin, or a correction) wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from workshop.checkin.models import AttendanceStatus
from workshop.registration.models import Mode

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class StageWindow:
    starts_at: datetime
    ends_at: datetime
    timezone: str

    def days(self) -> list[Interval]:
        """The stage's daily windows (UTC-aware), or the whole span if it crosses midnight."""
        zone = ZoneInfo(self.timezone)
        start, end = self.starts_at.astimezone(zone), self.ends_at.astimezone(zone)
        if start.date() == end.date() or end.time() <= start.time():
            return [(self.starts_at, self.ends_at)]
        windows = []
        day = start.date()
        while day <= end.date():
            windows.append(
                (
                    datetime.combine(day, start.time(), tzinfo=zone),
                    datetime.combine(day, end.time(), tzinfo=zone),
                )
            )
            day += timedelta(days=1)
        return windows

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.timezone)).date()

    def local_days(self) -> list[date]:
        """The stage's days as dates in its time zone."""
        return [self.day_of(start) for start, _ in self.days()]


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


def _hall_intervals(stage: StageWindow, check_ins: Iterable[datetime]) -> list[Interval]:
    """A hall check-in counts from the scan (or the day's start) to the end of that day."""
    days = stage.days()
    by_local_day = {stage.day_of(day_start): (day_start, day_end) for day_start, day_end in days}
    intervals = []
    for scanned_at in check_ins:
        window = by_local_day.get(stage.day_of(scanned_at))
        if window is None and len(days) == 1 and scanned_at < days[0][1]:
            window = days[0]
        if window is not None:
            intervals.append((max(scanned_at, window[0]), window[1]))
    return intervals


def _attended_day(
    window: Interval, hall: list[datetime], online: list[Interval], rules: Rules
) -> tuple[bool, bool]:
    """(attended, late) for one day of the stage."""
    late_from = window[0] + timedelta(minutes=rules.late_after_minutes)
    if hall:
        return True, min(hall) > late_from
    present = clip(online, window)
    if present and _seconds(present) * 100 >= rules.threshold_percent * _seconds([window]):
        return True, present[0][0] > late_from
    return False, False


def compute(stage: StageWindow, rules: Rules, evidence: Evidence) -> Attendance:
    days = stage.days()
    online = merge(evidence.online)
    everything = merge([*online, *_hall_intervals(stage, evidence.check_ins)])
    seconds = _seconds(merge(interval for window in days for interval in clip(everything, window)))

    if evidence.check_ins:
        mode: Mode | None = Mode.LURING
    elif evidence.online:
        mode = Mode.DARING
    else:
        mode = evidence.registered_mode

    if evidence.override is not None:
        status = evidence.override
    else:
        hall_by_day: dict[date, list[datetime]] = {}
        for start, _ in _hall_intervals(stage, evidence.check_ins):
            hall_by_day.setdefault(stage.day_of(start), []).append(start)
        checked = [
            _attended_day(window, hall_by_day.get(stage.day_of(window[0]), []), online, rules)
            for window in days
        ]
        if all(attended for attended, _ in checked):
            status = (
                AttendanceStatus.TERLAMBAT if any(late for _, late in checked) else AttendanceStatus.HADIR
            )
        else:
            status = AttendanceStatus.TIDAK_HADIR
    first_seen = min([*evidence.check_ins, *(start for start, _ in evidence.online)], default=None)
    return Attendance(status=status, mode=mode, minutes_present=int(seconds // 60), first_seen=first_seen)


def stage_minutes(stage: StageWindow) -> int:
    return int(_seconds(stage.days()) // 60)
