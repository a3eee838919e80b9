//! Dates a person or a command line enters, each bounded to the window it makes sense in, and day
//! arithmetic that cannot overflow. chrono's dates reach ±262,143 years and its `+`/`-` panic past
//! them: a date nobody bounded (`+262142-12-31`) once panicked the escalation job and every page
//! drawing that campaign. Every date entered is parsed here, and every sum of a date and days
//! goes through `add_days`/`add_days_at`, which saturate at the ends of time instead of panicking.

use super::text::FieldError;
use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveTime, TimeDelta, Utc};

/// The earliest deadline or `--at` date Drydock accepts.
pub const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => panic!("2000-01-01 exists"),
};

/// A `YYYY-MM-DD` date (four-digit year, no sign), or an error naming `field`.
pub fn parse(field: &'static str, s: &str) -> Result<NaiveDate, FieldError> {
    let s = s.trim();
    let plain = s.len() == 10 && s.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    let d = if plain { NaiveDate::parse_from_str(s, "%Y-%m-%d").ok() } else { None };
    d.ok_or_else(|| FieldError::new(field, format!("{:?} is not a date (YYYY-MM-DD)", truncate(s))))
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// `years` whole years after `d` (the same day, or the month's last), saturating.
fn years_after(d: NaiveDate, years: u32) -> NaiveDate {
    d.checked_add_months(Months::new(years.saturating_mul(12))).unwrap_or(NaiveDate::MAX)
}

/// `d` within `[from, to]`, or an error naming `field` and the window.
fn within(field: &'static str, d: NaiveDate, from: NaiveDate, to: NaiveDate, what: &str) -> Result<NaiveDate, FieldError> {
    if d < from || d > to {
        return Err(FieldError::new(field, format!("{d} is outside {what} ({from} to {to})")));
    }
    Ok(d)
}

/// A campaign's deadline: from 2000-01-01 to ten years after `today`. A deadline in the past is
/// allowed (its items are overdue at once).
pub fn deadline(field: &'static str, s: &str, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    within(field, parse(field, s)?, EPOCH, years_after(today, 10), "the deadlines Drydock accepts")
}

/// An acknowledgement's planned date: from today to two years ahead.
pub fn planned(field: &'static str, s: &str, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    within(field, parse(field, s)?, today, years_after(today, 2), "today to two years ahead")
}

/// An exception's last day: after today, at most a year ahead.
pub fn exception_until(field: &'static str, s: &str, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    let tomorrow = add_days(today, 1);
    within(field, parse(field, s)?, tomorrow, years_after(today, 1), "tomorrow to a year ahead")
}

/// A day a command judges or escalates at (`--at`): from 2000-01-01 to ten years after `today`.
pub fn command_day(field: &'static str, d: NaiveDate, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    within(field, d, EPOCH, years_after(today, 10), "the days a command may run at")
}

/// `d` plus `days` (negative: minus), or None past the representable days.
fn checked_add_days(d: NaiveDate, days: i64) -> Option<NaiveDate> {
    let n = Days::new(days.unsigned_abs());
    if days >= 0 {
        d.checked_add_days(n)
    } else {
        d.checked_sub_days(n)
    }
}

/// `d` plus `days` (negative: minus), saturating at the first and last representable days.
pub fn add_days(d: NaiveDate, days: i64) -> NaiveDate {
    checked_add_days(d, days).unwrap_or(if days >= 0 { NaiveDate::MAX } else { NaiveDate::MIN })
}

/// `t` plus `days` whole days (negative: minus), saturating at the ends of time.
pub fn add_days_at(t: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    let sum = TimeDelta::try_days(days).and_then(|delta| t.checked_add_signed(delta));
    sum.unwrap_or(if days >= 0 { DateTime::<Utc>::MAX_UTC } else { DateTime::<Utc>::MIN_UTC })
}

/// The start (00:00 UTC) of `d` plus `days`, saturating.
pub fn midnight_after(d: NaiveDate, days: i64) -> DateTime<Utc> {
    match checked_add_days(d, days) {
        Some(day) => day.and_time(NaiveTime::MIN).and_utc(),
        None if days >= 0 => DateTime::<Utc>::MAX_UTC,
        None => DateTime::<Utc>::MIN_UTC,
    }
}

/// Whole days from `a` to `b` (negative when `b` is earlier); never overflows for real dates.
pub fn days_between(a: NaiveDate, b: NaiveDate) -> i64 {
    i64::from(b.num_days_from_ce()) - i64::from(a.num_days_from_ce())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn only_plain_four_digit_years_parse() {
        assert_eq!(parse("deadline", "2026-12-31").unwrap(), d("2026-12-31"));
        assert_eq!(parse("deadline", " 2026-12-31 ").unwrap(), d("2026-12-31"));
        for bad in ["+262142-12-31", "-262143-01-01", "26-12-31", "2026-13-01", "2026-02-30", "2026-1-1", "", "2026-12-31T00:00"] {
            let e = parse("deadline", bad).unwrap_err();
            assert_eq!(e.field, "deadline", "{bad}");
        }
    }

    #[test]
    fn each_window_holds_its_ends_and_refuses_past_them() {
        let today = d("2026-12-02");
        assert!(deadline("deadline", "2000-01-01", today).is_ok());
        assert!(deadline("deadline", "1999-12-31", today).is_err());
        assert!(deadline("deadline", "2036-12-02", today).is_ok());
        assert!(deadline("deadline", "2036-12-03", today).is_err());
        assert!(planned("planned", "2026-12-02", today).is_ok());
        assert!(planned("planned", "2026-12-01", today).is_err());
        assert!(planned("planned", "2028-12-02", today).is_ok());
        assert!(planned("planned", "2028-12-03", today).is_err());
        assert!(exception_until("until", "2026-12-02", today).is_err());
        assert!(exception_until("until", "2026-12-03", today).is_ok());
        assert!(exception_until("until", "2027-12-02", today).is_ok());
        assert!(exception_until("until", "2027-12-03", today).is_err());
        let e = planned("planned", "9999-01-01", today).unwrap_err();
        assert!(e.message.contains("two years"), "{e}");
    }

    #[test]
    fn arithmetic_saturates_at_the_ends_of_time() {
        assert_eq!(add_days(d("2026-12-31"), 1), d("2027-01-01"));
        assert_eq!(add_days(d("2026-01-01"), -1), d("2025-12-31"));
        assert_eq!(add_days(NaiveDate::MAX, 30), NaiveDate::MAX);
        assert_eq!(add_days(NaiveDate::MIN, -30), NaiveDate::MIN);
        assert_eq!(add_days(d("2026-01-01"), i64::MAX), NaiveDate::MAX);
        assert_eq!(add_days(d("2026-01-01"), i64::MIN), NaiveDate::MIN);
        assert_eq!(midnight_after(NaiveDate::MAX, 1), DateTime::<Utc>::MAX_UTC);
        let t: DateTime<Utc> = "2026-12-02T10:00:00Z".parse().unwrap();
        assert_eq!(add_days_at(t, 2), "2026-12-04T10:00:00Z".parse::<DateTime<Utc>>().unwrap());
        assert_eq!(add_days_at(t, i64::MAX), DateTime::<Utc>::MAX_UTC);
        assert_eq!(add_days_at(t, i64::MIN), DateTime::<Utc>::MIN_UTC);
        assert_eq!(days_between(NaiveDate::MIN, NaiveDate::MAX), days_between(NaiveDate::MIN, NaiveDate::MAX).abs());
        assert_eq!(days_between(d("2026-12-02"), d("2026-12-01")), -1);
    }
}
