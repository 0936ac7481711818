import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import assume, given
from hypothesis import strategies as st

from workshop.attendance.attendance import Evidence, Rules, compute, merge, stage_minutes
from workshop.attendance.models import AttendanceStatus
from workshop.programs.windows import StageWindow
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
AFTER = datetime(2021, 7, 1, tzinfo=UTC)  # both stages have ended: the final figures


def wib(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A WIB time of June 2021 (any hour, the small hours too), in UTC."""
    return datetime(2021, 6, day, tzinfo=UTC) + timedelta(hours=hour - 7, minutes=minute, seconds=second)


def test_a_two_day_stage_has_two_daily_windows():
    assert TWO_DAYS.days() == [
        (wib(24, 9), wib(24, 16)),
        (wib(25, 9), wib(25, 16)),
    ]
    assert stage_minutes(TWO_DAYS) == 840


def test_hall_check_in_on_time_both_days_is_hadir():
    result = compute(TWO_DAYS, RULES, Evidence(check_ins=(wib(24, 8, 45), wib(25, 8, 50))), AFTER)

    assert (result.status, result.mode, result.minutes_present) == (AttendanceStatus.HADIR, Mode.LURING, 840)
    assert result.first_seen == wib(24, 8, 45)


def test_check_in_after_the_late_allowance_is_terlambat():
    result = compute(TWO_DAYS, RULES, Evidence(check_ins=(wib(24, 9, 20), wib(25, 9, 0))), AFTER)

    assert (result.status, result.minutes_present) == (AttendanceStatus.TERLAMBAT, 820)


def test_check_in_within_the_allowance_is_still_hadir():
    result = compute(TWO_DAYS, RULES, Evidence(check_ins=(wib(24, 9, 15), wib(25, 9, 0))), AFTER)

    assert result.status == AttendanceStatus.HADIR


def test_one_day_out_of_two_is_below_the_threshold():
    result = compute(TWO_DAYS, RULES, Evidence(check_ins=(wib(24, 9),)), AFTER)

    assert (result.status, result.minutes_present) == (AttendanceStatus.TIDAK_HADIR, 420)


def test_a_late_hall_arrival_is_terlambat_not_absent():
    result = compute(ONE_DAY, RULES, Evidence(check_ins=(wib(24, 11),)), AFTER)

    assert (result.status, result.minutes_present) == (AttendanceStatus.TERLAMBAT, 300)


def test_lateness_on_the_second_day_counts_too():
    result = compute(TWO_DAYS, RULES, Evidence(check_ins=(wib(24, 8, 50), wib(25, 10))), AFTER)

    assert result.status == AttendanceStatus.TERLAMBAT


def test_hall_on_one_day_and_online_on_the_other_is_hadir():
    evidence = Evidence(check_ins=(wib(24, 8, 50),), online=((wib(25, 8, 55), wib(25, 16)),))

    result = compute(TWO_DAYS, RULES, evidence, AFTER)

    assert (result.status, result.mode, result.minutes_present) == (AttendanceStatus.HADIR, Mode.LURING, 840)


def test_online_counts_from_75_percent_of_the_stage_time():
    just_enough = (wib(24, 10, 45), wib(24, 16))  # 315 of 420 minutes = 75%
    just_short = (wib(24, 10, 46), wib(24, 16))

    enough = compute(ONE_DAY, RULES, Evidence(online=(just_enough,)), AFTER)
    short = compute(ONE_DAY, RULES, Evidence(online=(just_short,)), AFTER)

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

    result = compute(ONE_DAY, RULES, Evidence(online=(phone, laptop, rejoin)), AFTER)

    assert (result.status, result.minutes_present) == (AttendanceStatus.HADIR, 420)


def test_a_join_click_alone_shows_the_mode_but_no_minutes():
    result = compute(
        ONE_DAY, RULES, Evidence(online=((wib(24, 9), wib(24, 9)),), registered_mode=Mode.LURING), AFTER
    )

    assert (result.status, result.mode, result.minutes_present) == (
        AttendanceStatus.TIDAK_HADIR,
        Mode.DARING,
        0,
    )


def test_no_evidence_keeps_the_registered_mode():
    result = compute(ONE_DAY, RULES, Evidence(registered_mode=Mode.DARING), AFTER)

    assert (result.status, result.mode, result.minutes_present, result.first_seen) == (
        AttendanceStatus.TIDAK_HADIR,
        Mode.DARING,
        0,
        None,
    )


def test_an_override_wins_over_the_evidence():
    result = compute(ONE_DAY, RULES, Evidence(check_ins=(wib(24, 9),), override=AttendanceStatus.IZIN), AFTER)

    assert (result.status, result.minutes_present) == (AttendanceStatus.IZIN, 420)


def test_the_programme_rules_set_threshold_and_allowance():
    strict = Rules(threshold_percent=90, late_after_minutes=0)
    evidence = Evidence(online=((wib(24, 9, 30), wib(24, 16)),))  # 390 of 420 = 92.9%

    assert compute(ONE_DAY, strict, evidence, AFTER).status == AttendanceStatus.TERLAMBAT
    assert (
        compute(ONE_DAY, Rules(threshold_percent=95), evidence, AFTER).status == AttendanceStatus.TIDAK_HADIR
    )


HADIR, TELAT, ABSEN, BELUM = (
    AttendanceStatus.HADIR,
    AttendanceStatus.TERLAMBAT,
    AttendanceStatus.TIDAK_HADIR,
    AttendanceStatus.BELUM_DIMULAI,
)


def outcome(stage, evidence, now):
    result = compute(stage, RULES, evidence, now)
    return result.status, result.mode, result.minutes_present


# The check-in window: from 120 minutes before each day's start (by default) to the day's end.


def test_a_check_in_window_runs_from_two_hours_before_the_start_to_the_end_of_each_day():
    assert TWO_DAYS.check_in_windows() == [(wib(24, 7), wib(24, 16)), (wib(25, 7), wib(25, 16))]
    assert TWO_DAYS.check_in_day(wib(24, 7)) == (wib(24, 9), wib(24, 16))
    assert TWO_DAYS.check_in_day(wib(24, 6, 59, 59)) is None
    assert TWO_DAYS.check_in_day(wib(24, 15, 59, 59)) == (wib(24, 9), wib(24, 16))
    assert TWO_DAYS.check_in_day(wib(24, 16)) is None
    assert TWO_DAYS.check_in_day(wib(25, 1)) is None  # eight hours before day 2


def test_a_scan_at_the_opening_of_the_window_counts_and_one_second_before_credits_nothing():
    opening = Evidence(check_ins=(wib(24, 7),), registered_mode=Mode.DARING)
    too_early = Evidence(check_ins=(wib(24, 6, 59, 59),), registered_mode=Mode.DARING)

    assert outcome(ONE_DAY, opening, AFTER) == (HADIR, Mode.LURING, 420)
    assert outcome(ONE_DAY, too_early, AFTER) == (ABSEN, Mode.DARING, 0)
    assert compute(ONE_DAY, RULES, too_early, AFTER).first_seen is None


def test_a_scan_just_before_the_end_of_the_day_counts_late_and_one_at_the_end_credits_nothing():
    assert outcome(ONE_DAY, Evidence(check_ins=(wib(24, 15, 59, 59),)), AFTER) == (TELAT, Mode.LURING, 0)
    assert outcome(ONE_DAY, Evidence(check_ins=(wib(24, 16),)), AFTER) == (ABSEN, None, 0)


def test_the_opening_is_a_setting_of_the_stage():
    half_hour = StageWindow(ONE_DAY.starts_at, ONE_DAY.ends_at, ONE_DAY.timezone, timedelta(minutes=30))
    evidence = Evidence(check_ins=(wib(24, 8, 29),))

    assert outcome(half_hour, evidence, AFTER) == (ABSEN, None, 0)
    assert outcome(ONE_DAY, evidence, AFTER) == (HADIR, Mode.LURING, 420)


def test_a_scan_eight_hours_before_day_two_credits_nothing():
    """The scan of the issue: 01.00 on day 2 was credited a full day and left the person absent."""
    evidence = Evidence(check_ins=(wib(24, 8, 50), wib(25, 1)))

    assert outcome(TWO_DAYS, evidence, wib(25, 8)) == (HADIR, Mode.LURING, 420)
    assert outcome(TWO_DAYS, evidence, AFTER) == (ABSEN, Mode.LURING, 420)


# A stage that has not started, a day not yet begun, a stage running, a stage ended.


def test_before_the_check_in_opens_the_stage_has_not_started_for_anyone():
    result = compute(TWO_DAYS, RULES, Evidence(registered_mode=Mode.LURING), wib(24, 6))

    assert (result.status, result.mode, result.minutes_present, result.first_seen) == (
        BELUM,
        Mode.LURING,
        0,
        None,
    )


def test_before_the_start_those_not_yet_arrived_are_not_started_and_a_hall_check_in_is_present_at_once():
    assert outcome(ONE_DAY, Evidence(registered_mode=Mode.LURING), wib(24, 8, 59, 59)) == (
        BELUM,
        Mode.LURING,
        0,
    )
    assert outcome(ONE_DAY, Evidence(check_ins=(wib(24, 8, 30),)), wib(24, 8, 31)) == (HADIR, Mode.LURING, 0)


def test_from_the_start_those_not_arrived_are_absent_so_far():
    assert outcome(ONE_DAY, Evidence(registered_mode=Mode.LURING), wib(24, 9)) == (ABSEN, Mode.LURING, 0)


def test_minutes_are_credited_as_they_pass_not_ahead():
    evidence = Evidence(check_ins=(wib(24, 8, 50),))

    assert outcome(TWO_DAYS, evidence, wib(24, 10)) == (HADIR, Mode.LURING, 60)
    assert outcome(TWO_DAYS, evidence, wib(24, 16)) == (HADIR, Mode.LURING, 420)


def test_a_two_day_stage_counts_the_second_day_only_once_it_begins_or_the_person_arrives():
    first_day_only = Evidence(check_ins=(wib(24, 8, 50),))
    both_days = Evidence(check_ins=(wib(24, 8, 50), wib(25, 8, 30)))

    assert outcome(TWO_DAYS, first_day_only, wib(25, 8)) == (HADIR, Mode.LURING, 420)
    assert outcome(TWO_DAYS, first_day_only, wib(25, 9)) == (ABSEN, Mode.LURING, 420)
    assert outcome(TWO_DAYS, both_days, wib(25, 8, 45)) == (HADIR, Mode.LURING, 420)
    assert outcome(TWO_DAYS, both_days, wib(25, 12)) == (HADIR, Mode.LURING, 600)


def test_online_during_the_day_counts_while_the_threshold_can_still_be_reached():
    # Online 09.00-09.10 only: 10 minutes + the time left must reach 315 of 420 (75%).
    left_early = Evidence(online=((wib(24, 9), wib(24, 9, 10)),))

    assert outcome(ONE_DAY, left_early, wib(24, 10, 55)) == (HADIR, Mode.DARING, 10)  # 10 + 305 = 315
    assert outcome(ONE_DAY, left_early, wib(24, 10, 56)) == (ABSEN, Mode.DARING, 10)  # 10 + 304


def test_online_arrival_after_the_allowance_is_late_while_the_day_runs():
    evidence = Evidence(online=((wib(24, 9, 20), wib(24, 9, 25)),))

    assert outcome(ONE_DAY, evidence, wib(24, 9, 25)) == (TELAT, Mode.DARING, 5)


def test_online_before_the_start_is_present_at_once():
    evidence = Evidence(online=((wib(24, 8, 45), wib(24, 8, 50)),), registered_mode=Mode.DARING)

    assert outcome(ONE_DAY, evidence, wib(24, 8, 50)) == (HADIR, Mode.DARING, 0)


def test_online_evidence_before_the_opening_does_not_start_the_day():
    evidence = Evidence(online=((wib(24, 6), wib(24, 6, 30)),), registered_mode=Mode.DARING)

    assert outcome(ONE_DAY, evidence, wib(24, 8)) == (BELUM, Mode.DARING, 0)


def test_an_ended_stage_gives_the_final_figures():
    evidence = Evidence(online=((wib(24, 9), wib(24, 9, 10)),))

    assert outcome(ONE_DAY, evidence, wib(24, 16)) == (ABSEN, Mode.DARING, 10)
    assert outcome(ONE_DAY, evidence, AFTER) == (ABSEN, Mode.DARING, 10)


def test_an_override_set_before_the_stage_wins():
    result = compute(ONE_DAY, RULES, Evidence(override=AttendanceStatus.IZIN), wib(24, 6))

    assert (result.status, result.minutes_present) == (AttendanceStatus.IZIN, 0)


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
    assert 0 <= compute(stage, RULES, evidence, AFTER).minutes_present <= stage_minutes(stage)


@given(stages, evidences, moments)
def test_minutes_never_exceed_the_stage_time_passed_so_far(stage, evidence, now):
    passed = sum((max(min(end, now) - start, timedelta(0)) for start, end in stage.days()), timedelta(0))

    assert 0 <= compute(stage, RULES, evidence, now).minutes_present <= passed.total_seconds() // 60


@given(stages, evidences)
def test_before_any_check_in_window_opens_nothing_has_started(stage, evidence):
    before = stage.starts_at - stage.check_in_opens_before - timedelta(seconds=1)

    assert compute(stage, RULES, evidence, before).status == AttendanceStatus.BELUM_DIMULAI


@given(stages, evidences, st.data())
def test_adding_a_duplicate_interval_or_scan_changes_nothing(stage, evidence, data):
    assume(evidence.online and evidence.check_ins)
    duplicate = data.draw(st.sampled_from(evidence.online))
    rescan = data.draw(st.sampled_from(evidence.check_ins))
    doubled = Evidence(check_ins=(*evidence.check_ins, rescan), online=(*evidence.online, duplicate))

    assert compute(stage, RULES, doubled, AFTER) == compute(stage, RULES, evidence, AFTER)


@given(stages, evidences, st.randoms())
def test_the_order_of_evidence_does_not_matter(stage, evidence, random):
    online, check_ins = list(evidence.online), list(evidence.check_ins)
    random.shuffle(online)
    random.shuffle(check_ins)
    shuffled = Evidence(check_ins=tuple(check_ins), online=tuple(online))

    assert compute(stage, RULES, shuffled, AFTER) == compute(stage, RULES, evidence, AFTER)


@given(st.lists(intervals, max_size=10))
def test_merged_intervals_are_sorted_and_disjoint(items):
    merged = merge(items)

    assert all(start < end for start, end in merged)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(merged))
