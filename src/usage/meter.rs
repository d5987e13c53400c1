//! Exact request counting per (usage plan, API key), lock-free on the
//! request path.
//!
//! A [`Meter`] packs "(UTC day, count)" pairs into single `AtomicU64`s (24
//! bits of day number, 40 bits of count) so that a period or day rollover
//! and the increment are one compare-and-swap: a quota is never exceeded,
//! however many requests race, and no count is lost at midnight. Three such
//! words:
//! - `period`: requests admitted in the current quota period — the number
//!   the quota check compares against;
//! - `day`: requests admitted today — what GetUsage reports and what is
//!   persisted (a finished day moves to `rolled` until written);
//! - `grant`: UpdateUsage's adjustment of the current period's limit.
//!
//! Persistence is write-behind (see `service::UsageService::flush`): a
//! crash loses at most the requests since the last flush (about a second).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::model::{Quota, QuotaPeriod};
use super::period::period_start;

const COUNT_BITS: u32 = 40;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;
const DAY_MAX: i64 = (1 << (64 - COUNT_BITS)) - 1;
/// Grants are signed; they are stored offset by this bias.
const GRANT_BIAS: i64 = 1 << (COUNT_BITS - 1);

fn pack(day: i64, n: u64) -> u64 {
    ((day.clamp(0, DAY_MAX) as u64) << COUNT_BITS) | n.min(COUNT_MASK)
}

fn unpack(v: u64) -> (i64, u64) {
    ((v >> COUNT_BITS) as i64, v & COUNT_MASK)
}

/// A plan's quota as the data plane applies it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuotaRule {
    pub limit: u64,
    pub offset: u64,
    pub period: QuotaPeriod,
    /// Start of the period `offset` applies to.
    pub initial_period: i64,
}

impl QuotaRule {
    pub fn new(q: &Quota) -> QuotaRule {
        QuotaRule {
            limit: q.limit.max(0) as u64,
            offset: q.offset.max(0) as u64,
            period: q.period,
            initial_period: period_start(q.period, q.since_day),
        }
    }

    /// The limit of the period starting on `start`, before any grant.
    pub fn base_limit(&self, start: i64) -> u64 {
        if start == self.initial_period {
            self.limit.saturating_sub(self.offset)
        } else {
            self.limit
        }
    }

    /// The limit of the period starting on `start` with a grant applied.
    pub fn limit_with(&self, start: i64, grant: i64) -> u64 {
        (self.base_limit(start) as i64).saturating_add(grant).max(0) as u64
    }
}

/// What a meter starts from (read back from the store).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MeterState {
    pub day: i64,
    pub day_used: u64,
    pub period_start: i64,
    pub period_used: u64,
    pub grant_period: i64,
    pub grant: i64,
}

/// Counts for one (plan, key).
#[derive(Debug)]
pub struct Meter {
    period: AtomicU64,
    day: AtomicU64,
    grant: AtomicU64,
    /// Finished days not yet written to the store.
    rolled: Mutex<Vec<(i64, u64)>>,
    /// The `day` word as last written to the store.
    flushed: AtomicU64,
}

impl Meter {
    pub fn restore(s: MeterState) -> Meter {
        let day = pack(s.day, s.day_used);
        Meter {
            period: AtomicU64::new(pack(s.period_start, s.period_used)),
            day: AtomicU64::new(day),
            grant: AtomicU64::new(pack(s.grant_period, (s.grant + GRANT_BIAS) as u64)),
            rolled: Mutex::new(Vec::new()),
            flushed: AtomicU64::new(day),
        }
    }

    /// Counts one request on `day` if the quota (if any) has room; `false`
    /// means the quota is exhausted and nothing was counted.
    pub fn try_consume(&self, day: i64, quota: Option<&QuotaRule>) -> bool {
        if let Some(q) = quota {
            let start = period_start(q.period, day);
            let mut cur = self.period.load(Ordering::Acquire);
            loop {
                let (p, used) = unpack(cur);
                // A clock stepping back across a boundary keeps counting in
                // the newer period rather than reopening the older one.
                let (p, used) = if p >= start { (p, used) } else { (start, 0) };
                if used >= q.limit_with(p, self.grant_for(p)) {
                    return false;
                }
                match self.period.compare_exchange_weak(
                    cur,
                    pack(p, used + 1),
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => break,
                    Err(now) => cur = now,
                }
            }
        }
        self.count_day(day);
        true
    }

    fn count_day(&self, day: i64) {
        let mut cur = self.day.load(Ordering::Acquire);
        loop {
            let (d, n) = unpack(cur);
            let next = if d >= day { pack(d, n + 1) } else { pack(day, 1) };
            match self
                .day
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    if d < day && n > 0 {
                        // Rare (once a day per meter): the finished day waits
                        // for the next flush.
                        self.rolled.lock().unwrap_or_else(|p| p.into_inner()).push((d, n));
                    }
                    return;
                }
                Err(now) => cur = now,
            }
        }
    }

    /// UpdateUsage's grant for the period starting on `start`.
    pub fn grant_for(&self, start: i64) -> i64 {
        let (p, g) = unpack(self.grant.load(Ordering::Acquire));
        if p == start { g as i64 - GRANT_BIAS } else { 0 }
    }

    pub fn set_grant(&self, start: i64, grant: i64) {
        let g = grant.clamp(-GRANT_BIAS, GRANT_BIAS - 1) + GRANT_BIAS;
        self.grant.store(pack(start, g as u64), Ordering::Release);
    }

    /// Requests counted in the period starting on `start`.
    pub fn period_used(&self, start: i64) -> u64 {
        let (p, used) = unpack(self.period.load(Ordering::Acquire));
        if p == start { used } else { 0 }
    }

    /// Re-seeds the period count (after the plan's quota period changed).
    pub fn reset_period(&self, start: i64, used: u64) {
        self.period.store(pack(start, used), Ordering::Release);
    }

    /// Day counts that changed since the last write: finished days, then
    /// today's count, with the `day` word to hand to [`Meter::flushed`].
    pub fn pending(&self) -> (Vec<(i64, u64)>, u64) {
        let mut out = std::mem::take(&mut *self.rolled.lock().unwrap_or_else(|p| p.into_inner()));
        let now = self.day.load(Ordering::Acquire);
        let (d, n) = unpack(now);
        if now != self.flushed.load(Ordering::Acquire) && n > 0 {
            out.push((d, n));
        }
        (out, now)
    }

    /// Records a successful write of what [`Meter::pending`] returned.
    pub fn flushed(&self, word: u64) {
        self.flushed.store(word, Ordering::Release);
    }

    /// Puts finished days back after a failed write.
    pub fn unflushed(&self, rows: Vec<(i64, u64)>) {
        let mut rolled = self.rolled.lock().unwrap_or_else(|p| p.into_inner());
        let today = unpack(self.day.load(Ordering::Acquire)).0;
        rolled.extend(rows.into_iter().filter(|(d, _)| *d < today));
    }

    /// Today's count as `(day, used)`.
    pub fn today(&self) -> (i64, u64) {
        unpack(self.day.load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::usage::period::parse_date;

    fn day(s: &str) -> i64 {
        parse_date(s).unwrap_or_else(|| panic!("bad date {s}"))
    }

    fn rule(limit: u64, offset: u64, period: QuotaPeriod, since: &str) -> QuotaRule {
        QuotaRule::new(&Quota {
            limit: limit as i64,
            offset: offset as i64,
            period,
            since_day: day(since),
        })
    }

    #[test]
    fn pack_round_trips() {
        assert_eq!(unpack(pack(20_000, 12_345)), (20_000, 12_345));
        assert_eq!(unpack(pack(-5, 1)), (0, 1));
        assert_eq!(unpack(pack(1, u64::MAX)), (1, COUNT_MASK));
    }

    #[test]
    fn quota_counts_exactly_under_contention() {
        let m = Arc::new(Meter::restore(MeterState::default()));
        let q = rule(1000, 0, QuotaPeriod::Month, "2024-01-01");
        let today = day("2024-03-15");
        let admitted: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let m = m.clone();
                    s.spawn(move || (0..500).filter(|_| m.try_consume(today, Some(&q))).count())
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
        });
        assert_eq!(admitted, 1000);
        assert_eq!(m.period_used(day("2024-03-01")), 1000);
        assert_eq!(m.today(), (today, 1000));
    }

    #[test]
    fn a_new_period_starts_from_zero() {
        let m = Meter::restore(MeterState::default());
        let q = rule(2, 0, QuotaPeriod::Week, "2024-01-01");
        let sat = day("2024-03-16");
        assert!(m.try_consume(sat, Some(&q)));
        assert!(m.try_consume(sat, Some(&q)));
        assert!(!m.try_consume(sat, Some(&q)));
        let sun = day("2024-03-17");
        assert!(m.try_consume(sun, Some(&q)));
        assert!(m.try_consume(sun, Some(&q)));
        assert!(!m.try_consume(sun, Some(&q)));
        // A request stamped with the old day after the rollover counts in
        // the new period.
        assert!(!m.try_consume(sat, Some(&q)));
    }

    #[test]
    fn offset_shortens_only_the_initial_period() {
        let q = rule(10, 4, QuotaPeriod::Month, "2024-03-20");
        assert_eq!(q.base_limit(day("2024-03-01")), 6);
        assert_eq!(q.base_limit(day("2024-04-01")), 10);
        let m = Meter::restore(MeterState::default());
        let march = (0..20)
            .filter(|_| m.try_consume(day("2024-03-21"), Some(&q)))
            .count();
        let april = (0..20)
            .filter(|_| m.try_consume(day("2024-04-02"), Some(&q)))
            .count();
        assert_eq!((march, april), (6, 10));
        assert_eq!(
            rule(3, 9, QuotaPeriod::Day, "2024-03-20").base_limit(day("2024-03-20")),
            0
        );
    }

    #[test]
    fn grants_move_the_limit_for_their_period_only() {
        let q = rule(5, 0, QuotaPeriod::Day, "2024-01-01");
        let d1 = day("2024-03-01");
        let m = Meter::restore(MeterState::default());
        assert_eq!((0..10).filter(|_| m.try_consume(d1, Some(&q))).count(), 5);
        m.set_grant(d1, 3);
        assert_eq!((0..10).filter(|_| m.try_consume(d1, Some(&q))).count(), 3);
        m.set_grant(d1, -100);
        assert_eq!(m.grant_for(d1), -100);
        assert_eq!(q.limit_with(d1, -100), 0);
        assert!(!m.try_consume(d1, Some(&q)));
        assert_eq!(m.grant_for(d1 + 1), 0);
        assert!(m.try_consume(d1 + 1, Some(&q)));
    }

    #[test]
    fn without_a_quota_everything_is_counted() {
        let m = Meter::restore(MeterState::default());
        for _ in 0..3 {
            assert!(m.try_consume(7, None));
        }
        assert_eq!(m.today(), (7, 3));
    }

    #[test]
    fn finished_days_wait_for_the_flush() {
        let m = Meter::restore(MeterState {
            day: 10,
            day_used: 4,
            ..MeterState::default()
        });
        assert_eq!(m.pending().0, vec![]);
        m.try_consume(10, None);
        m.try_consume(11, None);
        m.try_consume(11, None);
        let (rows, word) = m.pending();
        assert_eq!(rows, vec![(10, 5), (11, 2)]);
        m.flushed(word);
        assert_eq!(m.pending().0, vec![]);
        m.unflushed(vec![(10, 5), (11, 2)]);
        assert_eq!(m.pending().0, vec![(10, 5)]);
    }
}
