from datetime import UTC, datetime

from workshop.i18n import format_clock, format_datetime_long, format_range

STAGE_START = datetime(2021, 6, 24, 2, 0, tzinfo=UTC)


def test_indonesian_long_format_uses_wib_and_a_full_stop_in_the_time():
    assert format_datetime_long(STAGE_START, "Asia/Jakarta", "id") == "Kamis, 24 Juni 2021, pukul 09.00 WIB"


def test_english_long_format():
    assert format_datetime_long(STAGE_START, "Asia/Jakarta", "en") == "Thursday, 24 June 2021, 09.00 WIB"


def test_time_zone_of_the_programme_sets_the_day_and_the_zone_name():
    late_evening_utc = datetime(2021, 6, 24, 17, 30, tzinfo=UTC)
    assert (
        format_datetime_long(late_evening_utc, "Asia/Jakarta", "id") == "Jumat, 25 Juni 2021, pukul 00.30 WIB"
    )
    assert format_clock(late_evening_utc, "Asia/Makassar") == "01.30 WITA"
    assert format_clock(late_evening_utc, "Asia/Jayapura") == "02.30 WIT"


def test_range_on_one_day_and_over_two_days():
    same_day_end = datetime(2021, 6, 24, 9, 0, tzinfo=UTC)
    assert format_range(STAGE_START, same_day_end, "Asia/Jakarta", "id") == (
        "Kamis, 24 Juni 2021, pukul 09.00 WIB s.d. 16.00 WIB"
    )
    next_day_end = datetime(2021, 6, 25, 9, 0, tzinfo=UTC)
    assert format_range(STAGE_START, next_day_end, "Asia/Jakarta", "id") == (
        "Kamis, 24 Juni 2021, pukul 09.00 WIB s.d. Jumat, 25 Juni 2021, pukul 16.00 WIB"
    )
