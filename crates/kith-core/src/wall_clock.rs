//! Times as people write them: the wall clock of a place, read as one instant.

use chrono::{DateTime, Duration, NaiveDateTime, Offset, TimeZone, Utc};

/// The instant `local` shows on the clocks of `tz`. A time the clocks pass twice (as
/// summer time ends) is the first; a time they skip (02:30 as it starts) is read with the
/// offset from before the change, so it lands as far past the gap's end as it was past
/// its start (03:30), as calendars do. None only outside chrono's range.
pub fn to_utc<Tz: TimeZone>(local: NaiveDateTime, tz: &Tz) -> Option<DateTime<Utc>> {
    if let Some(t) = tz.from_local_datetime(&local).earliest() {
        return Some(t.with_timezone(&Utc));
    }
    // In a gap: the offset in force before it. Real gaps last at most a day (Samoa
    // skipped 2011-12-30 whole).
    let before = (1..=26).find_map(|h| {
        let earlier = local.checked_sub_signed(Duration::hours(h))?;
        tz.from_local_datetime(&earlier).earliest()
    })?;
    let offset = before.offset().fix().local_minus_utc();
    local
        .checked_sub_signed(Duration::seconds(offset.into()))
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{Australia::Lord_Howe, Europe::Copenhagen, Pacific::Apia};

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn utc(s: &str) -> Option<DateTime<Utc>> {
        Some(at(s).and_utc())
    }

    #[test]
    fn ordinary_times_read_in_the_zone() {
        assert_eq!(
            to_utc(at("2026-01-15 10:00"), &Copenhagen),
            utc("2026-01-15 09:00")
        );
        assert_eq!(
            to_utc(at("2026-07-15 10:00"), &Copenhagen),
            utc("2026-07-15 08:00")
        );
        assert_eq!(
            to_utc(at("2026-07-15 10:00"), &Utc),
            utc("2026-07-15 10:00")
        );
    }

    #[test]
    fn a_skipped_time_lands_as_far_past_the_gap() {
        // Copenhagen, 2026-03-29: 02:00 becomes 03:00.
        assert_eq!(
            to_utc(at("2026-03-29 02:30"), &Copenhagen),
            utc("2026-03-29 01:30")
        );
        assert_eq!(
            to_utc(at("2026-03-29 02:00"), &Copenhagen),
            utc("2026-03-29 01:00")
        );
        // Lord Howe moves by half an hour: 02:00 becomes 02:30.
        let t = to_utc(at("2026-10-04 02:15"), &Lord_Howe).unwrap();
        assert_eq!(
            t.with_timezone(&Lord_Howe).format("%H:%M").to_string(),
            "02:45"
        );
        // Samoa skipped a whole day.
        let t = to_utc(at("2011-12-30 09:00"), &Apia).unwrap();
        assert_eq!(
            t.with_timezone(&Apia).format("%m-%d %H:%M").to_string(),
            "12-31 09:00"
        );
    }

    #[test]
    fn a_time_passed_twice_is_the_first() {
        // Copenhagen, 2026-10-25: 03:00 becomes 02:00 again.
        assert_eq!(
            to_utc(at("2026-10-25 02:30"), &Copenhagen),
            utc("2026-10-25 00:30")
        );
    }
}
