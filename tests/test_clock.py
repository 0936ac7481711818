"""The app's one clock (workshop/clock.py): tests set it, every "now" reads it."""

from datetime import UTC, datetime, timedelta

import pytest

from workshop import clock
from workshop.db import utcnow

MOMENT = datetime(2021, 6, 24, 3, 0, tzinfo=UTC)


def test_a_set_moment_is_what_now_and_row_stamps_read(set_now):
    set_now(MOMENT)

    assert (clock.now(), utcnow()) == (MOMENT, MOMENT)


def test_a_callable_clock_moves_as_the_test_moves_it(set_now):
    moments = iter([MOMENT, MOMENT + timedelta(seconds=1)])
    set_now(lambda: next(moments))

    assert [clock.now(), clock.now()] == [MOMENT, MOMENT + timedelta(seconds=1)]


def test_a_naive_moment_is_refused(set_now):
    with pytest.raises(ValueError):
        set_now(datetime(2021, 6, 24, 10, 0))


def test_without_a_set_moment_the_clock_is_the_wall_clock():
    before = datetime.now(UTC)

    assert before <= clock.now() <= datetime.now(UTC)
