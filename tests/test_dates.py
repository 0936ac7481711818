"""workshop/i18n.py: the one place that formats dates, times and stage names, in both languages."""

from datetime import UTC, date, datetime, timedelta

import pytest

from workshop.i18n import (
    format_clock,
    format_datetime_long,
    format_day,
    format_day_range,
    format_offset,
    format_range,
    format_short_day,
    format_time,
    stage_label,
    stages_label,
)

STAGE_START = datetime(2021, 6, 24, 2, 0, tzinfo=UTC)
SAME_DAY_END = datetime(2021, 6, 24, 9, 0, tzinfo=UTC)
NEXT_DAY_END = datetime(2021, 6, 25, 9, 0, tzinfo=UTC)


def test_indonesian_long_format_uses_wib_and_a_full_stop_in_the_time(app):
    assert format_datetime_long(STAGE_START, "Asia/Jakarta", "id") == "Kamis, 24 Juni 2021, pukul 09.00 WIB"


def test_english_long_format_has_no_indonesian_word_and_the_english_clock(app):
    assert format_datetime_long(STAGE_START, "Asia/Jakarta", "en") == "Thursday, 24 June 2021 at 09:00 WIB"


def test_time_zone_of_the_programme_sets_the_day_and_the_zone_name(app):
    late_evening_utc = datetime(2021, 6, 24, 17, 30, tzinfo=UTC)
    assert (
        format_datetime_long(late_evening_utc, "Asia/Jakarta", "id") == "Jumat, 25 Juni 2021, pukul 00.30 WIB"
    )
    assert format_clock(late_evening_utc, "Asia/Makassar", "id") == "01.30 WITA"
    assert format_clock(late_evening_utc, "Asia/Jayapura", "id") == "02.30 WIT"
    assert format_clock(late_evening_utc, "Asia/Jayapura", "en") == "02:30 WIT"


def test_clock_without_a_language_follows_the_current_one(app):
    with app.test_request_context():
        assert format_clock(STAGE_START, "Asia/Jakarta") == "09.00 WIB"  # Indonesian by default
        assert format_time(STAGE_START, "Asia/Jakarta") == "09.00"
    with app.test_request_context():
        from flask import session

        session["lang"] = "en"
        assert format_clock(STAGE_START, "Asia/Jakarta") == "09:00 WIB"


def test_range_on_one_day_and_over_two_days(app):
    assert format_range(STAGE_START, SAME_DAY_END, "Asia/Jakarta", "id") == (
        "Kamis, 24 Juni 2021, pukul 09.00 WIB s.d. 16.00 WIB"
    )
    assert format_range(STAGE_START, NEXT_DAY_END, "Asia/Jakarta", "id") == (
        "Kamis, 24 Juni 2021, pukul 09.00 WIB s.d. Jumat, 25 Juni 2021, pukul 16.00 WIB"
    )


def test_english_range_says_to(app):
    assert format_range(STAGE_START, SAME_DAY_END, "Asia/Jakarta", "en") == (
        "Thursday, 24 June 2021 at 09:00 WIB to 16:00 WIB"
    )


def test_days_of_a_stage_and_a_single_day(app):
    assert format_day_range(STAGE_START, NEXT_DAY_END, "Asia/Jakarta", "id") == (
        "Kamis, 24 Juni 2021 s.d. Jumat, 25 Juni 2021"
    )
    assert format_day_range(STAGE_START, SAME_DAY_END, "Asia/Jakarta", "en") == "Thursday, 24 June 2021"
    assert format_day(date(2021, 6, 25), "Asia/Jakarta", "id") == "Jumat, 25 Juni 2021"
    assert format_short_day(NEXT_DAY_END, "Asia/Jakarta", "id") == "25/6"


def test_stage_names_in_each_language(app):
    assert stage_label("II", "id") == "Tahap II"
    assert stage_label("II", "en") == "Stage II"
    assert stages_label(["I", "III"], "id") == "Tahap I, III"
    assert stages_label(["I", "III"], "en") == "Stages I, III"
    assert stages_label(["IV"], "en") == "Stage IV"
    assert stages_label([], "en") == ""


def test_formatting_outside_the_app_fails_instead_of_dropping_the_indonesian_words():
    with pytest.raises(RuntimeError, match="app context"):
        format_datetime_long(STAGE_START, "Asia/Jakarta", "id")


@pytest.mark.parametrize(
    ("minutes", "indonesian", "english"),
    [
        (3 * 24 * 60, "3 hari", "3 days"),
        (14 * 24 * 60, "14 hari", "14 days"),
        (60, "1 jam", "1 hour"),
        (90, "90 menit", "90 minutes"),
        (0, "0 menit", "0 minutes"),
    ],
)
def test_a_reminder_offset_is_said_in_the_largest_unit_that_divides_it(app, minutes, indonesian, english):
    with app.app_context():
        assert format_offset(timedelta(minutes=minutes), "id") == indonesian
        assert format_offset(timedelta(minutes=minutes), "en") == english
