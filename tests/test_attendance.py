import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import assume, given
from hypothesis import strategies as st

from workshop.checkin.attendance import Evidence, Rules, StageWindow, compute, merge, stage_minutes
from workshop.checkin.models import AttendanceStatus
from workshop.registration.models import Mode

# Tahap I: Kamis 24 Juni 2021 09.00 WIB to Jumat 25 Juni 16.00 WIB -> two days of 09.00-16.00.
TWO_DAYS = StageWindow(
    starts_at=datetime(2021, 6, 24, 2, 0, tzinfo=UTC),
    ends_at=datetime(2021, 6, 25, 9, 0, tzinfo=UTC),
    timezone="Asia/Jakarta",
)
ONE_DAY = StageWindow(
    starts_at=datetime(2021, 6, 24, 2, 0, tzinfo=UTC),
    ends_at=datetime(2021, 6, 24, 9, 0, tzinfo=UTC),
    timezone="Asia/Jakarta",
)
RULES = Rules()


def wib(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2021, 6, day, hour - 7, minute, tzinfo=UTC)


def test_a_two_day_stage_has_two_daily_windows():
    assert TWO_DAYS.days() == [
        (wib(24, 9), wib(24, 16)),
        (wib(25, 9), wib(25, 16)),
    ]
    assert stage_minutes(TWO_DAYS) == 840


def test_hall_check_in_on_time_both_days_is_hadir():
    result = compute(TWO_DAYS, RULES, Evidence(check_ins=(wib(24, 8, 45), wib(25, 8, 50))))

    assert (result.status, result.mode, result.minutes_present) == (AttendanceStatus.HADIR, Mode.LURING, 840)
    assert result.first_seen == wib(24, 8, 45)


def test_check_in_after_the_late_allowance_is_terlambat():
    result = compute(TWO_DAYS, RULES, Evidence(check_ins=(wib(24, 9, 20), wib(25, 9, 0))))

    assert (result.status, result.minutes_present) == (AttendanceStatus.TERLAMBAT, 820)


def test_check_in_within_the_allowance_is_still_hadir():
    result = compute(TWO_DAYS, RULES, Evidence(check_ins=(wib(24, 9, 15), wib(25, 9, 0))))

    assert result.status == AttendanceStatus.HADIR


def test_one_day_out_of_two_is_below_the_threshold():
    result = compute(TWO_DAYS, RULES, Evidence(check_ins=(wib(24, 9),)))

    assert (result.status, result.minutes_present) == (AttendanceStatus.TIDAK_HADIR, 420)


def test_a_late_hall_arrival_is_terlambat_not_absent():
    result = compute(ONE_DAY, RULES, Evidence(check_ins=(wib(24, 11),)))

    assert (result.status, result.minutes_present) == (AttendanceStatus.TERLAMBAT, 300)


def test_lateness_on_the_second_day_counts_too():
    result = compute(TWO_DAYS, RULES, Evidence(check_ins=(wib(24, 8, 50), wib(25, 10))))

    assert result.status == AttendanceStatus.TERLAMBAT


def test_hall_on_one_day_and_online_on_the_other_is_hadir():
    evidence = Evidence(check_ins=(wib(24, 8, 50),), online=((wib(25, 8, 55), wib(25, 16)),))

    result = compute(TWO_DAYS, RULES, evidence)

    assert (result.status, result.mode, result.minutes_present) == (AttendanceStatus.HADIR, Mode.LURING, 840)


def test_online_counts_from_75_percent_of_the_stage_time():
    just_enough = (wib(24, 10, 45), wib(24, 16))  # 315 of 420 minutes = 75%
    just_short = (wib(24, 10, 46), wib(24, 16))

    enough = compute(ONE_DAY, RULES, Evidence(online=(just_enough,)))
    short = compute(ONE_DAY, RULES, Evidence(online=(just_short,)))

    assert (enough.status, enough.mode, enough.minutes_present) == (
        AttendanceStatus.TERLAMBAT,
        Mode.DARING,
        315,
    )
    assert (short.status, short.minutes_present) == (AttendanceStatus.TIDAK_HADIR, 314)


def test_rejoins_and_two_devices_are_not_counted_twice():
    phone = (wib(24, 8, 55), wib(24, 12))
    laptop = (wib(24, 11), wib(24, 13))
    rejoin = (wib(24, 12, 30), wib(24, 16, 30))

    result = compute(ONE_DAY, RULES, Evidence(online=(phone, laptop, rejoin)))

    assert (result.status, result.minutes_present) == (AttendanceStatus.HADIR, 420)


def test_a_join_click_alone_shows_the_mode_but_no_minutes():
    result = compute(
        ONE_DAY, RULES, Evidence(online=((wib(24, 9), wib(24, 9)),), registered_mode=Mode.LURING)
    )

    assert (result.status, result.mode, result.minutes_present) == (
        AttendanceStatus.TIDAK_HADIR,
        Mode.DARING,
        0,
    )


def test_no_evidence_keeps_the_registered_mode():
    result = compute(ONE_DAY, RULES, Evidence(registered_mode=Mode.DARING))

    assert (result.status, result.mode, result.minutes_present, result.first_seen) == (
        AttendanceStatus.TIDAK_HADIR,
        Mode.DARING,
        0,
        None,
    )


def test_an_override_wins_over_the_evidence():
    result = compute(ONE_DAY, RULES, Evidence(check_ins=(wib(24, 9),), override=AttendanceStatus.IZIN))

    assert (result.status, result.minutes_present) == (AttendanceStatus.IZIN, 420)


def test_the_programme_rules_set_threshold_and_allowance():
    strict = Rules(threshold_percent=90, late_after_minutes=0)
    evidence = Evidence(online=((wib(24, 9, 30), wib(24, 16)),))  # 390 of 420 = 92.9%

    assert compute(ONE_DAY, strict, evidence).status == AttendanceStatus.TERLAMBAT
    assert compute(ONE_DAY, Rules(threshold_percent=95), evidence).status == AttendanceStatus.TIDAK_HADIR


# Properties

BASE = datetime(2021, 6, 23, 20, 0, tzinfo=UTC)
moments = st.integers(min_value=0, max_value=60 * 48).map(lambda minutes: BASE + timedelta(minutes=minutes))
intervals = st.tuples(moments, st.integers(min_value=0, max_value=600)).map(
    lambda pair: (pair[0], pair[0] + timedelta(minutes=pair[1]))
)
evidences = st.builds(
    Evidence,
    check_ins=st.lists(moments, max_size=4).map(tuple),
    online=st.lists(intervals, max_size=8).map(tuple),
)
stages = st.sampled_from([ONE_DAY, TWO_DAYS])


@given(stages, evidences)
def test_minutes_never_exceed_the_stage_time(stage, evidence):
    assert 0 <= compute(stage, RULES, evidence).minutes_present <= stage_minutes(stage)


@given(stages, evidences, st.data())
def test_adding_a_duplicate_interval_or_scan_changes_nothing(stage, evidence, data):
    assume(evidence.online and evidence.check_ins)
    duplicate = data.draw(st.sampled_from(evidence.online))
    rescan = data.draw(st.sampled_from(evidence.check_ins))
    doubled = Evidence(check_ins=(*evidence.check_ins, rescan), online=(*evidence.online, duplicate))

    assert compute(stage, RULES, doubled) == compute(stage, RULES, evidence)


@given(stages, evidences, st.randoms())
def test_the_order_of_evidence_does_not_matter(stage, evidence, random):
    online, check_ins = list(evidence.online), list(evidence.check_ins)
    random.shuffle(online)
    random.shuffle(check_ins)
    shuffled = Evidence(check_ins=tuple(check_ins), online=tuple(online))

    assert compute(stage, RULES, shuffled) == compute(stage, RULES, evidence)


@given(st.lists(intervals, max_size=10))
def test_merged_intervals_are_sorted_and_disjoint(items):
    merged = merge(items)

    assert all(start < end for start, end in merged)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(merged))
