use super::*;
use DateOrder::{DayFirst, MonthFirst};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> NaiveDateTime {
    day(y, m, d).and_hms_opt(h, min, s).unwrap()
}

#[test]
fn every_common_way_of_writing_1_march_2026_is_read() {
    for s in [
        "2026-03-01",
        "2026/03/01",
        "2026-3-1",
        "20260301",
        "01/03/2026",
        "1/3/2026",
        "01-03-2026",
        "01.03.2026",
        "1.3.26",
        "2026年3月1日",
        "2026年03月01日",
        "２０２６年３月１日",
        "1. marts 2026",
        "1 marts 2026",
        "1. mar. 2026",
        "søndag den 1. marts 2026",
        "1 March 2026",
        "March 1, 2026",
        "Mar 1 2026",
        "1st March 2026",
        "2026-03-01T10:00:00Z",
        "2026-03-01 10:00",
        "01.03.2026 kl. 10:00",
        "  2026-03-01\u{a0}",
    ] {
        assert_eq!(parse_date(s, DayFirst), Ok(day(2026, 3, 1)), "{s:?}");
    }
}

#[test]
fn danish_month_names_and_abbreviations_are_read() {
    let names = [
        "januar",
        "februar",
        "marts",
        "april",
        "maj",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "december",
    ];
    for (i, name) in names.iter().enumerate() {
        let month = i as u32 + 1;
        assert_eq!(
            parse_date(&format!("2. {name} 2025"), DayFirst),
            Ok(day(2025, month, 2))
        );
    }
    let abbreviations = [
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("maj", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("sept", 9),
        ("okt", 10),
        ("nov", 11),
        ("dec", 12),
    ];
    for (abbr, month) in abbreviations {
        assert_eq!(
            parse_date(&format!("2. {abbr}. 2025"), DayFirst),
            Ok(day(2025, month, 2))
        );
    }
}

#[test]
fn the_order_decides_only_when_both_numbers_could_be_a_month() {
    assert_eq!(parse_date("01/03/2026", MonthFirst), Ok(day(2026, 1, 3)));
    assert_eq!(parse_date("03/15/2026", DayFirst), Ok(day(2026, 3, 15)));
    assert_eq!(parse_date("15/03/2026", MonthFirst), Ok(day(2026, 3, 15)));
    assert_eq!(DateOrder::default(), DayFirst);
}

#[test]
fn two_digit_years_pivot_at_1970() {
    assert_eq!(parse_date("1.3.69", DayFirst), Ok(day(2069, 3, 1)));
    assert_eq!(parse_date("1.3.70", DayFirst), Ok(day(1970, 3, 1)));
    assert_eq!(parse_date("12/4/85", DayFirst), Ok(day(1985, 4, 12)));
    assert_eq!(parse_date("1.3.00", DayFirst), Ok(day(2000, 3, 1)));
}

#[test]
fn birthdays_with_two_digit_years_are_in_the_past() {
    let today = day(2026, 12, 7);
    let born = |s: &str| parse_birthday(s, DayFirst, today);
    assert_eq!(born("1.3.69"), Ok(day(1969, 3, 1)));
    assert_eq!(born("12/4/85"), Ok(day(1985, 4, 12)));
    assert_eq!(born("7.12.26"), Ok(day(2026, 12, 7)), "born today");
    assert_eq!(born("8.12.26"), Ok(day(1926, 12, 8)));
    assert_eq!(born("１.３.６９"), Ok(day(1969, 3, 1)), "full-width digits");
    for written_out in ["1. marts 2069", "2069-03-01", "20690301", "60000"] {
        let err = born(written_out).unwrap_err();
        assert!(err.contains("is in the future"), "{written_out}: {err}");
    }
    assert!(born("31.2.69").unwrap_err().contains("no day 31"));
}

#[test]
fn excel_day_numbers_are_dates() {
    assert_eq!(parse_date("45352", DayFirst), Ok(day(2024, 3, 1)));
    assert_eq!(parse_date("44927", DayFirst), Ok(day(2023, 1, 1)));
    assert!(parse_date("2026", DayFirst).is_err());
    assert!(parse_date("8000", DayFirst).is_err());
    assert!(parse_date("123456", DayFirst).is_err());
}

#[test]
fn dates_that_do_not_exist_are_refused_with_a_reason() {
    let err = parse_date("2026-02-30", DayFirst).unwrap_err();
    assert!(err.contains("no day 30"), "{err}");
    assert!(parse_date("29.2.2025", DayFirst).is_err());
    assert_eq!(parse_date("29.2.2024", DayFirst), Ok(day(2024, 2, 29)));
    assert!(parse_date("13/13/2026", DayFirst)
        .unwrap_err()
        .contains("month 13"));
    assert!(parse_date("20261301", DayFirst).is_err());
}

#[test]
fn things_that_are_not_dates_get_the_help_text() {
    for s in [
        "",
        "   ",
        "tomorrow",
        "1 smarch 2026",
        "2026-03",
        "3月1日",
        "1/2/3/4",
        "12345678901234567890",
        "99999/99/99",
        "1 March April 2026",
        "2026-03-01 foo",
        "💥",
    ] {
        let err = parse_date(s, DayFirst).unwrap_err();
        assert!(err.starts_with("not a"), "{s:?}: {err}");
    }
    assert!(parse_date("tomorrow", DayFirst)
        .unwrap_err()
        .contains("1. marts 2026"));
}

#[test]
fn activity_times_are_read_with_their_time_of_day() {
    let cases = [
        ("2026-03-01 10:00", at(2026, 3, 1, 10, 0, 0)),
        ("2026-03-01T10:00:30", at(2026, 3, 1, 10, 0, 30)),
        ("01.03.2026 kl. 14:30", at(2026, 3, 1, 14, 30, 0)),
        ("01.03.2026 kl. 14.30", at(2026, 3, 1, 14, 30, 0)),
        ("1. marts 2026 kl 9.05.30", at(2026, 3, 1, 9, 5, 30)),
        ("2026年3月1日 09:05", at(2026, 3, 1, 9, 5, 0)),
        ("2026年3月1日10:00", at(2026, 3, 1, 10, 0, 0)),
        ("3/1/2026 2:30 PM", at(2026, 1, 3, 14, 30, 0)),
        ("March 1, 2026 at 12:15 am", at(2026, 3, 1, 0, 15, 0)),
        ("2026-03-01", at(2026, 3, 1, 0, 0, 0)),
        ("2026-03-01 10：00", at(2026, 3, 1, 10, 0, 0)),
        ("45352.5", at(2024, 3, 1, 12, 0, 0)),
        // The clock as Chinese writes it.
        ("2026年3月1日下午2点30分", at(2026, 3, 1, 14, 30, 0)),
        ("2026年3月1日 上午9点", at(2026, 3, 1, 9, 0, 0)),
        ("2026年3月1日晚上8点半", at(2026, 3, 1, 20, 30, 0)),
        ("2026年3月1日中午12点", at(2026, 3, 1, 12, 0, 0)),
        ("2026年3月1日凌晨12点15分", at(2026, 3, 1, 0, 15, 0)),
        ("2026年3月1日14时05分30秒", at(2026, 3, 1, 14, 5, 30)),
        ("2026年3月1日下午14点", at(2026, 3, 1, 14, 0, 0)),
        ("2026/3/1 下午2:30", at(2026, 3, 1, 14, 30, 0)),
    ];
    for (s, want) in cases {
        assert_eq!(parse_datetime(s, DayFirst), Ok(want), "{s:?}");
    }
    for bad in ["2026年3月1日下午2点30分钟以后", "下午2点"] {
        assert!(parse_datetime(bad, DayFirst).is_err(), "{bad:?}");
    }
}

#[test]
fn times_without_an_offset_are_the_workspace_s_wall_clock() {
    let cph = chrono_tz::Europe::Copenhagen;
    let utc = |s: &str| parse_datetime_in(s, DayFirst, &cph).map(|t| t.naive_utc());
    // Winter (UTC+1) and summer (UTC+2) in Denmark.
    assert_eq!(utc("01.03.2026 kl. 10:00"), Ok(at(2026, 3, 1, 9, 0, 0)));
    assert_eq!(utc("2026-07-01 10:00"), Ok(at(2026, 7, 1, 8, 0, 0)));
    assert_eq!(
        utc("2026-07-01"),
        Ok(at(2026, 6, 30, 22, 0, 0)),
        "local midnight"
    );
    assert_eq!(utc("45352.5"), Ok(at(2024, 3, 1, 11, 0, 0)), "Excel's too");
    // A written offset wins over the zone.
    assert_eq!(utc("2026-07-01T10:00:00Z"), Ok(at(2026, 7, 1, 10, 0, 0)));
    assert_eq!(utc("2026-07-01 10:00 +05:30"), Ok(at(2026, 7, 1, 4, 30, 0)));
    // 29 March 2026 02:30 never happens in Copenhagen; 25 October 02:30 happens twice.
    assert_eq!(utc("2026-03-29 02:30"), Ok(at(2026, 3, 29, 1, 30, 0)));
    assert_eq!(utc("2026-10-25 02:30"), Ok(at(2026, 10, 25, 0, 30, 0)));
    let shanghai = chrono_tz::Asia::Shanghai;
    assert_eq!(
        parse_datetime_in("2026年3月1日 09:05", DayFirst, &shanghai).map(|t| t.naive_utc()),
        Ok(at(2026, 3, 1, 1, 5, 0))
    );
    assert!(parse_datetime_in("tomorrow", DayFirst, &cph).is_err());
}

#[test]
fn times_with_an_offset_are_converted_to_utc() {
    assert_eq!(
        parse_datetime("2026-03-01T10:00:00Z", DayFirst),
        Ok(at(2026, 3, 1, 10, 0, 0))
    );
    assert_eq!(
        parse_datetime("2026-03-01T10:00:00+01:00", DayFirst),
        Ok(at(2026, 3, 1, 9, 0, 0))
    );
    assert_eq!(
        parse_datetime("2026-03-01T00:30:00.250+0100", DayFirst),
        Ok(at(2026, 2, 28, 23, 30, 0) + Duration::milliseconds(250))
    );
    assert_eq!(
        parse_datetime("2026-03-01 10:00 -05:00", DayFirst),
        Ok(at(2026, 3, 1, 15, 0, 0))
    );
    assert_eq!(
        parse_datetime("2026-03-01 10:00 UTC", DayFirst),
        Ok(at(2026, 3, 1, 10, 0, 0))
    );
}

#[test]
fn impossible_times_are_refused() {
    for s in [
        "2026-03-01 25:00",
        "2026-03-01 10:60",
        "2026-03-01 13:00 PM",
        "2026-03-01 10:00:00:00",
        "2026-03-01 10:",
        "2026-03-01 :10",
        "2026-03-01 10:00+99:00",
        "2026-03-01 99999999999:00",
        "01.03.2026 kl. 14.30.15.00",
        "01.03.2026 kl. nu",
    ] {
        let err = parse_datetime(s, DayFirst).unwrap_err();
        assert!(err.contains("time of day"), "{s:?}: {err}");
    }
    assert!(parse_datetime("nonsense 10:00", DayFirst).is_err());
}

#[test]
fn a_time_alone_is_told_from_a_date_with_its_time() {
    for (cell, time) in [
        ("10:30", "10:30:00"),
        ("2:15 PM", "14:15:00"),
        ("14.30", "14:30:00"),
        ("下午2点", "14:00:00"),
        ("1899-12-31 10:30:00", "10:30:00"),
        ("10:30 +02:00", "10:30:00+02:00"),
    ] {
        assert_eq!(time_only(cell).as_deref(), Some(time), "{cell:?}");
    }
    for not_a_time in ["soon", "2026-01-05 10:30", "2026-01-05", "25:00"] {
        assert_eq!(time_only(not_a_time), None, "{not_a_time:?}");
    }
    for with_time in [
        "2026-01-05 08:00",
        "01.03.2026 kl. 14.30",
        "2026年3月1日下午2点",
    ] {
        assert!(says_time(with_time), "{with_time:?}");
    }
    for date in ["2026-01-05", "1. marts 2026", "2026年3月1日"] {
        assert!(!says_time(date), "{date:?}");
    }
}

#[test]
fn a_creation_date_is_read_in_the_zone_and_is_never_in_the_future() {
    let now = at(2026, 12, 7, 8, 0, 0).and_utc();
    let cph = chrono_tz::Europe::Copenhagen;
    let made = |s: &str| parse_created_in(s, DayFirst, &cph, now);
    assert_eq!(
        made("1. marts 2019"),
        Ok(at(2019, 2, 28, 23, 0, 0).and_utc())
    );
    assert_eq!(
        made("2026-12-07 08:59"),
        Ok(at(2026, 12, 7, 7, 59, 0).and_utc())
    );
    assert_eq!(
        made("2019年3月1日下午2点"),
        Ok(at(2019, 3, 1, 13, 0, 0).and_utc())
    );
    let err = made("2026-12-07 09:01").unwrap_err();
    assert!(err.contains("`2026-12-07 09:01` is in the future"), "{err}");
    assert!(made("1. marts 2030").is_err());
    assert!(made("soon").unwrap_err().contains("not a date"));
}

#[test]
fn a_date_shows_its_order_only_when_one_reading_fits() {
    assert_eq!(order_shown("5/14/1980"), Some(MonthFirst));
    assert_eq!(order_shown("12/31/2024 11:30 PM"), Some(MonthFirst));
    assert_eq!(order_shown("14.05.1980"), Some(DayFirst));
    assert_eq!(order_shown("25-12-24"), Some(DayFirst));
    for neither in [
        "3/1/2019",
        "2024-05-14",
        "14/14/2020",
        "5/40/2020",
        "1.2.3",
        "vip",
        "",
        "12-34-56",
    ] {
        assert_eq!(order_shown(neither), None, "{neither}");
    }
}
