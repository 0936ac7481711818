"""When a stage runs and when its hall check-in is open: the daily windows of a stage.

A stage runs on each of its days between the daily start and end times of the stage (09.00 to
16.00 on both days of a two-day stage); a stage whose end time is not after its start time (it
crosses midnight) is one span. The hall check-in of a day is accepted from the stage's check-in
opening (`check_in_opens_before_minutes` before the day's start) until the day's end.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from workshop.programs.models import DEFAULT_CHECK_IN_OPENS_BEFORE_MINUTES

Interval = tuple[datetime, datetime]

DEFAULT_CHECK_IN_OPENS_BEFORE = timedelta(minutes=DEFAULT_CHECK_IN_OPENS_BEFORE_MINUTES)


class CheckInState(enum.StrEnum):
    """Where a moment stands against a stage's hall check-in windows."""

    BEFORE = "before"  # the stage's first check-in has not opened yet
    OPEN = "open"
    BETWEEN = "between"  # a day's check-in has closed, the next day's has not opened
    AFTER = "after"  # the last day's check-in has closed: the stage is over for the desk


@dataclass(frozen=True)
class StageWindow:
    starts_at: datetime
    ends_at: datetime
    timezone: str
    check_in_opens_before: timedelta = DEFAULT_CHECK_IN_OPENS_BEFORE

    def days(self) -> list[Interval]:
        """The stage's daily windows (UTC-aware), or the whole span if it crosses midnight."""
        windows = _daily_windows(self.starts_at, self.ends_at, self.timezone)
        return list(windows) if windows is not None else [(self.starts_at, self.ends_at)]

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.timezone)).date()

    def local_days(self) -> list[date]:
        """The stage's days as dates in its time zone."""
        return [self.day_of(start) for start, _ in self.days()]

    def check_in_windows(self) -> list[Interval]:
        """Per day, when a hall check-in is accepted: from the opening to the day's end (excluded)."""
        return [(start - self.check_in_opens_before, end) for start, end in self.days()]

    def check_in_day(self, moment: datetime) -> Interval | None:
        """The day (start, end) whose check-in window holds the moment, if any."""
        for (opens, closes), day in zip(self.check_in_windows(), self.days(), strict=True):
            if opens <= moment < closes:
                return day
        return None

    def check_in_state(self, moment: datetime) -> CheckInState:
        windows = self.check_in_windows()
        if moment < windows[0][0]:
            return CheckInState.BEFORE
        if moment >= windows[-1][1]:
            return CheckInState.AFTER
        return CheckInState.OPEN if self.check_in_day(moment) is not None else CheckInState.BETWEEN

    def check_in_date(self, moment: datetime) -> date | None:
        """The date of the stage day a hall check-in at this moment is for, if its window is open:
        the day's start date, also after midnight in a stage that crosses it."""
        day = self.check_in_day(moment)
        return self.day_of(day[0]) if day is not None else None

    def hall_date(self, moment: datetime) -> date | None:
        """The date of the stage day whose hall check-ins count at this moment: the day whose
        check-in window holds it, or the day whose window closed earlier on the moment's date
        (a stage crossing midnight: the day that began the evening before); else None (before
        the next day's check-in opens)."""
        for (opens, closes), (start, _end) in reversed(
            list(zip(self.check_in_windows(), self.days(), strict=True))
        ):
            if opens <= moment:
                held = moment < closes or self.day_of(closes) == self.day_of(moment)
                return self.day_of(start) if held else None
        return None


@functools.lru_cache(maxsize=1024)
def _daily_windows(starts_at: datetime, ends_at: datetime, timezone: str) -> tuple[Interval, ...] | None:
    """StageWindow.days of a stage held over several days (None for one span), kept per stage
    times: every participant page, presence heartbeat and scan asks for them."""
    zone = ZoneInfo(timezone)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if start.date() == end.date() or end.time() <= start.time():
        return None
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
    return tuple(windows)


class _Zoned(Protocol):
    @property
    def timezone(self) -> str: ...


class Timed(Protocol):
    """What `stage_window` reads of a stage: a Stage, or a view of one with the same fields (the
    participant page's StageView, the check-in desk's ScanStage)."""

    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def check_in_opens_before_minutes(self) -> int: ...
    @property
    def program(self) -> _Zoned: ...


def stage_window(stage: Timed) -> StageWindow:
    """The windows of a stage (a Stage, or a view of one with the same fields)."""
    return StageWindow(
        stage.starts_at,
        stage.ends_at,
        stage.program.timezone,
        timedelta(minutes=stage.check_in_opens_before_minutes),
    )
