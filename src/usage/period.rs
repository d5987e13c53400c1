//! Calendar arithmetic for quotas, on UTC day numbers (days since
//! 1970-01-01): where a DAY / WEEK / MONTH period starts and ends, and the
//! `YYYY-MM-DD` dates GetUsage speaks. Integer-only (no time zone, no
//! allocation) because the data plane calls [`period_start`] per request.

use super::model::QuotaPeriod;

const SECS_PER_DAY: i64 = 86_400;
/// 1970-01-04, the first Sunday: weeks start on Sunday.
const FIRST_SUNDAY: i64 = 3;

/// The UTC day of an epoch-seconds instant.
pub fn day_of(epoch_secs: i64) -> i64 {
    epoch_secs.div_euclid(SECS_PER_DAY)
}

/// Today (UTC) as a day number.
pub fn today() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    day_of(secs)
}

/// Today's UTC day for the request path: the wall clock is read (about
/// 80 ns on a VM) at most once a second and at midnight; in between, one
/// TSC read (`quanta`, through `governor`) says the cached day still holds.
pub struct DayClock {
    clock: governor::clock::QuantaClock,
    base: governor::clock::QuantaInstant,
    day: std::sync::atomic::AtomicI64,
    /// Nanoseconds after `base` until which `day` is right.
    until: std::sync::atomic::AtomicU64,
}

impl Default for DayClock {
    fn default() -> DayClock {
        use governor::clock::Clock as _;
        let clock = governor::clock::QuantaClock::default();
        let base = clock.now();
        DayClock {
            clock,
            base,
            day: std::sync::atomic::AtomicI64::new(today()),
            until: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl DayClock {
    pub fn today(&self) -> i64 {
        use governor::clock::{Clock as _, Reference as _};
        use std::sync::atomic::Ordering;
        let now = self.clock.now().duration_since(self.base).as_u64();
        if now < self.until.load(Ordering::Acquire) {
            return self.day.load(Ordering::Relaxed);
        }
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let secs = wall.as_secs() as i64;
        let to_midnight = (SECS_PER_DAY - secs.rem_euclid(SECS_PER_DAY)) as u64 * 1_000_000_000
            - u64::from(wall.subsec_nanos());
        self.day.store(day_of(secs), Ordering::Relaxed);
        self.until
            .store(now + to_midnight.min(1_000_000_000), Ordering::Release);
        day_of(secs)
    }
}

/// Day number → (year, month 1–12, day 1–31), proleptic Gregorian
/// (H. Hinnant's `civil_from_days`).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// (year, month, day) → day number; the inverse of [`civil_from_days`].
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// First day of the period containing `day`.
pub fn period_start(period: QuotaPeriod, day: i64) -> i64 {
    match period {
        QuotaPeriod::Day => day,
        QuotaPeriod::Week => day - (day - FIRST_SUNDAY).rem_euclid(7),
        QuotaPeriod::Month => {
            let (_, _, d) = civil_from_days(day);
            day - i64::from(d) + 1
        }
    }
}

/// First day of the period after the one containing `day`.
pub fn next_period_start(period: QuotaPeriod, day: i64) -> i64 {
    match period {
        QuotaPeriod::Day => day + 1,
        QuotaPeriod::Week => period_start(period, day) + 7,
        QuotaPeriod::Month => {
            let (y, m, _) = civil_from_days(day);
            if m == 12 {
                days_from_civil(y + 1, 1, 1)
            } else {
                days_from_civil(y, m + 1, 1)
            }
        }
    }
}

/// Parses `YYYY-MM-DD` (a real calendar date) into a day number.
pub fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || d == 0 {
        return None;
    }
    let day = days_from_civil(i64::from(y), m, d);
    (civil_from_days(day) == (i64::from(y), m, d)).then_some(day)
}

/// Formats a day number as `YYYY-MM-DD`.
pub fn format_date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> i64 {
        parse_date(s).unwrap_or_else(|| panic!("bad date {s}"))
    }

    #[test]
    fn civil_round_trips() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        for day in (-800_000..800_000).step_by(997) {
            let (y, m, dd) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, dd), day);
        }
        assert_eq!(format_date(d("2024-02-29")), "2024-02-29");
    }

    #[test]
    fn parse_date_rejects_non_dates() {
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-01-00",
            "2024-1-01",
            "20240101",
            "2024-01-0x",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(parse_date("2016-08-16"), Some(17_029));
    }

    #[test]
    fn day_periods_are_single_utc_days() {
        assert_eq!(day_of(d("2024-03-10") * 86_400 + 86_399), d("2024-03-10"));
        assert_eq!(day_of(-1), -1);
        let day = d("2024-03-10");
        assert_eq!(period_start(QuotaPeriod::Day, day), day);
        assert_eq!(next_period_start(QuotaPeriod::Day, day), day + 1);
    }

    #[test]
    fn the_day_clock_agrees_with_the_wall_clock() {
        let c = DayClock::default();
        for _ in 0..3 {
            let (a, b) = (today(), c.today());
            assert!(b == a || b == today(), "{a} {b}");
        }
    }

    #[test]
    fn weeks_start_on_sunday() {
        // 2024-03-10 is a Sunday.
        let sunday = d("2024-03-10");
        for offset in 0..7 {
            assert_eq!(period_start(QuotaPeriod::Week, sunday + offset), sunday);
            assert_eq!(
                next_period_start(QuotaPeriod::Week, sunday + offset),
                d("2024-03-17")
            );
        }
        assert_eq!(period_start(QuotaPeriod::Week, sunday - 1), d("2024-03-03"));
        assert_eq!(period_start(QuotaPeriod::Week, 0), -4); // Thu 1970-01-01 → Sun 1969-12-28
    }

    #[test]
    fn months_start_on_the_first() {
        assert_eq!(period_start(QuotaPeriod::Month, d("2024-02-29")), d("2024-02-01"));
        assert_eq!(
            next_period_start(QuotaPeriod::Month, d("2024-02-29")),
            d("2024-03-01")
        );
        assert_eq!(period_start(QuotaPeriod::Month, d("2024-03-01")), d("2024-03-01"));
        assert_eq!(
            next_period_start(QuotaPeriod::Month, d("2023-12-31")),
            d("2024-01-01")
        );
        assert_eq!(period_start(QuotaPeriod::Month, d("2023-12-31")), d("2023-12-01"));
    }
}
