//! Dates and times as people and spreadsheets write them in Denmark, China and the
//! English-speaking world.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// Which number comes first in a date such as 01/03/2026 when both could be the month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateOrder {
    /// 01/03/2026 is 1 March: Denmark, China's slash dates, most of the world.
    #[default]
    DayFirst,
    /// 01/03/2026 is 3 January: the United States.
    MonthFirst,
}

const DATE_HELP: &str =
    "not a date: expected e.g. 2026-03-01, 01/03/2026, 2026年3月1日 or 1. marts 2026";
const TIME_HELP: &str =
    "not a time of day: expected e.g. 2026-03-01 14:30, 01/03/2026 2:30 PM or 2026-03-01T14:30:00Z";

/// Excel's plain day numbers people leave in date columns; the range keeps ordinary
/// numbers (postcodes, years) from being read as dates.
const EXCEL_SERIALS: std::ops::RangeInclusive<u32> = 20_000..=80_000;

#[rustfmt::skip]
const MONTHS: &[(&str, u32)] = &[
    ("januar", 1), ("january", 1), ("jan", 1),
    ("februar", 2), ("february", 2), ("feb", 2),
    ("marts", 3), ("march", 3), ("mar", 3),
    ("april", 4), ("apr", 4),
    ("maj", 5), ("may", 5),
    ("juni", 6), ("june", 6), ("jun", 6),
    ("juli", 7), ("july", 7), ("jul", 7),
    ("august", 8), ("aug", 8),
    ("september", 9), ("sept", 9), ("sep", 9),
    ("oktober", 10), ("october", 10), ("okt", 10), ("oct", 10),
    ("november", 11), ("nov", 11),
    ("december", 12), ("dec", 12),
];

/// Words a written date may hold besides its month: weekdays, "den", English ordinal
/// endings (1st), and the Chinese 年 月 日 号 between the numbers.
#[rustfmt::skip]
const FILLERS: &[&str] = &[
    "mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag",
    "man", "tir", "tirs", "ons", "tor", "tors", "fre", "lør", "søn", "den", "d",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
    "the", "of", "st", "nd", "rd", "th",
    "年", "月", "日", "号", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日",
];

/// Reads a date in any of the forms people type or spreadsheets export: ISO
/// (2026-03-01, 20260301), numeric with `/`, `-` or `.` (01/03/2026, 1.3.26),
/// Chinese (2026年3月1日), written out in Danish or English (1. marts 2026,
/// March 1, 2026), Excel day numbers (45352), and the date of a date and time.
///
/// `order` decides 01/03/2026 only: a first number above 12 is a day whatever the
/// order, a second above 12 likewise. Two-digit years 00–69 are 20xx, 70–99 19xx.
pub fn parse_date(s: &str, order: DateOrder) -> Result<NaiveDate, String> {
    let s = narrow(s);
    let (date, _) = split_time(&s);
    date_only(date, order)
}

/// What a numeric date shows of the order its day and month are written in:
/// `MonthFirst` for 5/14/1980 (there is no 14th month), `DayFirst` for 14/5/1980, `None`
/// where either reading fits or the cell is no such date (ISO dates name their order).
pub fn order_shown(cell: &str) -> Option<DateOrder> {
    let s = narrow(cell);
    let date = s.split([' ', 'T']).next()?;
    let sep = date.chars().find(|c| matches!(c, '/' | '-' | '.'))?;
    let parts: Vec<&str> = date.split(sep).collect();
    let [a, b, y] = parts[..] else { return None };
    let digits =
        |p: &str, lens: &[usize]| lens.contains(&p.len()) && p.bytes().all(|c| c.is_ascii_digit());
    if !digits(a, &[1, 2]) || !digits(b, &[1, 2]) || !digits(y, &[2, 4]) {
        return None;
    }
    let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
    match (a, b) {
        (13..=31, 1..=12) => Some(DateOrder::DayFirst),
        (1..=12, 13..=31) => Some(DateOrder::MonthFirst),
        _ => None,
    }
}

/// Reads a birthday as [`parse_date`] does, knowing it is not in the future: a
/// two-digit year that would put it after `today` is the century before (`1.3.69` is
/// 1969, not 2069), and a birthday with its year written out after `today` is refused.
pub fn parse_birthday(s: &str, order: DateOrder, today: NaiveDate) -> Result<NaiveDate, String> {
    let date = parse_date(s, order)?;
    if date <= today {
        return Ok(date);
    }
    let text = narrow(s);
    // Excel day numbers and 20690301 carry their year whole, as 1. marts 2069 does.
    let year_written =
        text.contains(&date.year().to_string()) || text.bytes().all(|b| b.is_ascii_digit());
    match date.with_year(date.year() - 100) {
        Some(earlier) if !year_written => Ok(earlier),
        _ => Err(format!("{date} is in the future; a birthday cannot be")),
    }
}

/// Reads a date and time of day (for when an activity happened): any form
/// [`parse_date`] reads, then optionally `HH:MM[:SS]`, AM/PM, and a UTC offset or `Z`,
/// which is applied so the result is UTC. A date alone is midnight.
pub fn parse_datetime(s: &str, order: DateOrder) -> Result<NaiveDateTime, String> {
    let (local, offset) = written_datetime(s, order)?;
    local
        .checked_sub_signed(Duration::seconds(offset.unwrap_or(0)))
        .ok_or_else(|| TIME_HELP.to_string())
}

/// Reads a date and time as [`parse_datetime`] does, except that one written without
/// an offset is wall-clock time in `tz` (the workspace's): an export from the office's
/// old system says 10:00 for a meeting at ten, local time. A time the clocks skip or
/// pass twice is read as [`crate::wall_clock::to_utc`] reads it.
pub fn parse_datetime_in<Tz: TimeZone>(
    s: &str,
    order: DateOrder,
    tz: &Tz,
) -> Result<DateTime<Utc>, String> {
    let (local, offset) = written_datetime(s, order)?;
    if let Some(offset) = offset {
        return local
            .checked_sub_signed(Duration::seconds(offset))
            .map(|t| t.and_utc())
            .ok_or_else(|| TIME_HELP.to_string());
    }
    crate::wall_clock::to_utc(local, tz).ok_or_else(|| TIME_HELP.to_string())
}

/// Reads when the old system made a record, as [`parse_datetime_in`] does, knowing it is
/// not after `now`: an export holds only what was made before it was taken.
pub fn parse_created_in<Tz: TimeZone>(
    s: &str,
    order: DateOrder,
    tz: &Tz,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, String> {
    let t = parse_datetime_in(s, order, tz)?;
    if t > now {
        return Err(format!(
            "`{}` is in the future; a record cannot have been made then",
            s.trim()
        ));
    }
    Ok(t)
}

/// Whether a cell that holds a date also says its time of day (`2026-03-01 10:00`,
/// `01.03.2026 kl. 14.30`, `2026年3月1日下午2点`).
pub fn says_time(cell: &str) -> bool {
    let s = narrow(cell);
    let s = chinese_clock(&s).unwrap_or(s);
    split_time(&s).1.is_some()
}

/// The time of day a cell holds with no date (`10:30`, `2:30 PM`, `14.30`, `下午2点`, or a
/// spreadsheet's time-only cell, which reads as a time on 1899-12-30 or -31), written so
/// it reads after a date: `14:30:00`, with its offset when it says one.
pub fn time_only(cell: &str) -> Option<String> {
    let s = narrow(cell);
    let s = ["1899-12-30 ", "1899-12-31 "]
        .iter()
        .find_map(|day| s.strip_prefix(day))
        .map_or_else(|| s.clone(), str::to_string);
    let s = chinese_clock(&s).unwrap_or(s);
    let (time, offset) = time_of_day(&s)?;
    let mut out = time.format("%H:%M:%S").to_string();
    if let Some(offset) = offset {
        let sign = if offset < 0 { '-' } else { '+' };
        let minutes = offset.abs() / 60;
        out.push_str(&format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60));
    }
    Some(out)
}

/// A date and time as written, and its offset east of UTC in seconds when it says one.
fn written_datetime(s: &str, order: DateOrder) -> Result<(NaiveDateTime, Option<i64>), String> {
    let mut s = narrow(s);
    if let Some(serial) = excel_datetime(&s) {
        return Ok((serial, None));
    }
    if let Some(clock) = chinese_clock(&s) {
        s = clock;
    }
    let (date, time) = split_time(&s);
    let date = date_only(date, order)?;
    let Some(time) = time else {
        return Ok((date.and_time(NaiveTime::MIN), None));
    };
    let (time, offset) = time_of_day(time).ok_or(TIME_HELP)?;
    Ok((date.and_time(time), offset))
}

/// The halves of the day as Chinese writes them before the hour.
const MERIDIEM: [(&str, &str); 7] = [
    ("上午", "am"),
    ("早上", "am"),
    ("凌晨", "am"),
    ("中午", "pm"),
    ("下午", "pm"),
    ("傍晚", "pm"),
    ("晚上", "pm"),
];

/// "2026年3月1日下午2点30分" as "2026年3月1日 2:30 pm": the clock as Chinese writes
/// it, with 上午/下午 (morning, afternoon) and the like, 点 or 时 after the hour, 分 and
/// 秒 after minutes and seconds, 半 for half past. None when `s` writes no such time.
fn chinese_clock(s: &str) -> Option<String> {
    let Some(point) = s.find(['点', '时']) else {
        // "2026/3/1 下午2:30": only the half of the day is Chinese.
        return MERIDIEM.iter().find_map(|(word, half)| {
            let at = s.find(word)?;
            let after = s[at + word.len()..].trim_start();
            (after.starts_with(|c: char| c.is_ascii_digit()) && after.contains(':'))
                .then(|| format!("{} {after} {half}", s[..at].trim_end()))
        });
    };
    let head = &s[..point];
    let hour_at = head
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit())
        .last()?
        .0;
    let hour: u32 = head[hour_at..].parse().ok()?;
    let mut date = head[..hour_at].trim_end();
    let mut meridiem = "";
    for (word, half) in MERIDIEM {
        if let Some(d) = date.strip_suffix(word) {
            (date, meridiem) = (d.trim_end(), half);
            break;
        }
    }
    // 点 and 时 are three bytes in UTF-8.
    let mut rest = s[point + 3..].trim_start();
    // Digits and their unit (分, 秒) at the start of `rest`; 0 when there are none.
    fn part(rest: &mut &str, unit: char) -> Option<u32> {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Some(0);
        }
        let n = rest[..digits].parse().ok()?;
        let after = rest[digits..].trim_start();
        *rest = after.strip_prefix(unit).unwrap_or(after).trim_start();
        Some(n)
    }
    let (minute, second) = match rest.strip_prefix('半') {
        Some(r) => {
            rest = r.trim_start();
            (30, 0)
        }
        None => (part(&mut rest, '分')?, part(&mut rest, '秒')?),
    };
    if !rest.is_empty() {
        return None;
    }
    if hour > 12 {
        // 下午14点: the hour says it already.
        meridiem = "";
    }
    Some(
        format!("{date} {hour}:{minute:02}:{second:02} {meridiem}")
            .trim_end()
            .to_string(),
    )
}

/// Full-width digits and punctuation (２０２６／３／１, １０：００) as ASCII, and
/// every kind of space as a plain one.
fn narrow(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c if c.is_whitespace() => ' ',
            c => c,
        })
        .collect()
}

/// Splits "2026-03-01T10:00Z", "01.03.2026 kl. 10:00" or "2026年3月1日10:00" into the
/// date and the time from its hour on.
fn split_time(s: &str) -> (&str, Option<&str>) {
    let Some(colon) = s.find(':') else {
        return danish_clock(s).map_or((s, None), |(date, time)| (date, Some(time)));
    };
    let hour_start = s[..colon]
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit())
        .last()
        .map_or(colon, |(i, _)| i);
    (date_before_time(&s[..hour_start]), Some(&s[hour_start..]))
}

/// "01.03.2026 kl. 14.30": Danes write the time with a dot after "kl.".
fn danish_clock(s: &str) -> Option<(&str, &str)> {
    let lower = s.to_ascii_lowercase();
    let at = lower
        .find(" kl. ")
        .map(|i| (i, 5))
        .or_else(|| lower.find(" kl ").map(|i| (i, 4)))?;
    Some((&s[..at.0], &s[at.0 + at.1..]))
}

/// The date of "2026-03-01T", "01.03.2026 kl." or "March 1, 2026 at": what joins the
/// date to its time is dropped.
fn date_before_time(mut date: &str) -> &str {
    loop {
        date = date.trim_end_matches([' ', ',']);
        if let Some(rest) = date.strip_suffix(['T', 't']) {
            if rest.ends_with(|c: char| c.is_ascii_digit()) {
                date = rest;
                continue;
            }
        }
        let word = date.rfind(' ').map_or(0, |i| i + 1);
        let joiner = ["kl.", "kl", "at", "um", "@"].contains(&date[word..].to_lowercase().as_str());
        if word == 0 || !joiner {
            return date;
        }
        date = &date[..word];
    }
}

#[derive(Debug, Clone, Copy)]
struct Num {
    value: u32,
    digits: usize,
}

fn date_only(s: &str, order: DateOrder) -> Result<NaiveDate, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err(DATE_HELP.into());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return all_digits(s);
    }
    let mut nums = Vec::new();
    let mut month = None;
    for token in tokens(s) {
        if token.starts_with(|c: char| c.is_ascii_digit()) {
            if token.len() > 4 {
                return Err(DATE_HELP.into());
            }
            let value = token.parse().map_err(|_| DATE_HELP.to_string())?;
            nums.push(Num {
                value,
                digits: token.len(),
            });
        } else if let Some(&(_, m)) = MONTHS.iter().find(|(name, _)| *name == token) {
            if month.replace(m).is_some() {
                return Err(DATE_HELP.into());
            }
        } else if !FILLERS.contains(&token.as_str()) {
            return Err(DATE_HELP.into());
        }
    }
    let (y, m, d) = match (month, nums.as_slice()) {
        (Some(m), [a, b]) if a.digits == 4 => (*a, m, b.value),
        (Some(m), [a, b]) => (*b, m, a.value),
        (None, [y, m, d]) if y.digits == 4 => (*y, m.value, d.value),
        (None, [a, b, y]) if a.digits <= 2 && b.digits <= 2 => {
            let day_first = match order {
                _ if a.value > 12 && b.value <= 12 => true,
                _ if b.value > 12 && a.value <= 12 => false,
                DateOrder::DayFirst => true,
                DateOrder::MonthFirst => false,
            };
            if day_first {
                (*y, b.value, a.value)
            } else {
                (*y, a.value, b.value)
            }
        }
        _ => return Err(DATE_HELP.into()),
    };
    ymd(full_year(y)?, m, d)
}

/// Runs of ASCII digits and runs of letters, lower-cased; everything else separates.
fn tokens(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut last_digit = None;
    for c in s.chars().flat_map(char::to_lowercase) {
        let digit = c.is_ascii_digit();
        // CJK characters are separate tokens: "3月1日" is 3, 月, 1, 日.
        let alone = c.is_alphabetic() && super::super::is_cjk(c);
        if !digit && !c.is_alphabetic() {
            last_digit = None;
            continue;
        }
        match out.last_mut() {
            Some(t) if last_digit == Some(digit) && !alone => t.push(c),
            _ => out.push(c.to_string()),
        }
        last_digit = if alone { None } else { Some(digit) };
    }
    out
}

fn full_year(y: Num) -> Result<i32, String> {
    let value = i32::try_from(y.value).map_err(|_| DATE_HELP.to_string())?;
    match y.digits {
        4 => Ok(value),
        1 | 2 if value < 70 => Ok(2000 + value),
        1 | 2 => Ok(1900 + value),
        _ => Err(DATE_HELP.into()),
    }
}

fn ymd(y: i32, m: u32, d: u32) -> Result<NaiveDate, String> {
    if !(1..=12).contains(&m) {
        return Err(format!("not a date: there is no month {m}"));
    }
    NaiveDate::from_ymd_opt(y, m, d)
        .ok_or_else(|| format!("not a real date: {y:04}-{m:02} has no day {d}"))
}

/// 20260301 or an Excel day number such as 45352.
fn all_digits(s: &str) -> Result<NaiveDate, String> {
    if s.len() == 8 {
        let part = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(0);
        let y = i32::try_from(part(0..4)).unwrap_or(0);
        return ymd(y, part(4..6), part(6..8));
    }
    match s.parse::<u32>() {
        Ok(n) if s.len() <= 5 && EXCEL_SERIALS.contains(&n) => Ok(excel_day(n)),
        _ => Err(DATE_HELP.into()),
    }
}

/// Excel's 1900 system counts 1900-02-29, a day that never was, so from March 1900
/// on, day N is N days after 1899-12-30.
fn excel_day(serial: u32) -> NaiveDate {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default();
    epoch + Duration::days(i64::from(serial))
}

/// An Excel date and time such as 45352.5 (noon); None for anything else.
fn excel_datetime(s: &str) -> Option<NaiveDateTime> {
    let (days, fraction) = s.split_once('.')?;
    let serial: u32 = days.parse().ok().filter(|n| EXCEL_SERIALS.contains(n))?;
    if fraction.is_empty() || fraction.len() > 12 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let part: f64 = format!("0.{fraction}").parse().ok()?;
    // Seconds of the day, rounded: Excel stores times as binary fractions.
    let seconds = (part * 86_400.0).round() as i64;
    Some(excel_day(serial).and_time(NaiveTime::MIN) + Duration::seconds(seconds))
}

/// "14:30", "2:30:15 PM", "10:00:00.123+01:00", "10:00Z": the time, and the offset
/// east of UTC in seconds when one is written.
fn time_of_day(s: &str) -> Option<(NaiveTime, Option<i64>)> {
    let mut t = s.trim().to_ascii_lowercase();
    let mut offset = None;
    for utc in ["utc", "gmt", "z"] {
        if let Some(rest) = t.strip_suffix(utc) {
            t = rest.trim_end().to_string();
            offset = Some(0);
            break;
        }
    }
    if let Some(i) = t.rfind(['+', '-']) {
        offset = Some(utc_offset(&t[i..])?);
        t.truncate(i);
    }
    let t = t.trim_end();
    // Only after "kl.", and then the only separator: "14.30" or "14.30.15".
    let dotted = (!t.contains(':')).then(|| t.replace('.', ":"));
    let t = dotted.as_deref().unwrap_or(t);
    let (t, meridiem) = match t.strip_suffix("pm").or_else(|| t.strip_suffix("p.m.")) {
        Some(rest) => (rest.trim_end(), Some(12)),
        None => match t.strip_suffix("am").or_else(|| t.strip_suffix("a.m.")) {
            Some(rest) => (rest.trim_end(), Some(0)),
            None => (t, None),
        },
    };
    let mut parts = t.split(':');
    let hour: u32 = small_number(parts.next()?)?;
    let minute: u32 = small_number(parts.next()?)?;
    let (second, nanos) = match parts.next() {
        Some(sec) => {
            let (whole, frac) = sec.split_once(['.', ',']).unwrap_or((sec, ""));
            let digits = frac.get(..frac.len().min(9))?;
            let nanos = if digits.is_empty() {
                0
            } else {
                small_number(digits)? * 10u32.pow(9 - digits.len() as u32)
            };
            (small_number(whole)?, nanos)
        }
        None => (0, 0),
    };
    if parts.next().is_some() {
        return None;
    }
    let hour = match meridiem {
        Some(add) if (1..=12).contains(&hour) => hour % 12 + add,
        Some(_) => return None,
        None => hour,
    };
    Some((
        NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?,
        offset,
    ))
}

fn small_number(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// "+01:00", "-0500", "+01" as seconds east of UTC.
fn utc_offset(s: &str) -> Option<i64> {
    let sign = if s.starts_with('-') { -1 } else { 1 };
    let digits: String = s[1..].chars().filter(|c| *c != ':').collect();
    let (h, m) = match digits.len() {
        2 => (small_number(&digits)?, 0),
        4 => (small_number(&digits[..2])?, small_number(&digits[2..])?),
        _ => return None,
    };
    (h <= 14 && m < 60).then(|| sign * i64::from(h * 3600 + m * 60))
}

#[cfg(test)]
mod tests;
