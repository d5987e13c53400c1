//! Usage-plan throttles as token buckets (GCRA, `governor`): `rateLimit`
//! tokens per second refill a bucket of `burstLimit` tokens.
//!
//! AWS's JSON has no "absent" for these numbers (an unset throttle echoes
//! 0 / 0.0), so zero means "not set":
//! - rate ≤ 0: no limit at this level, whatever the burst;
//! - rate > 0 and burst ≤ 0: a bucket of `max(1, ceil(rate))`.
//!
//! Also here: the `"{resourcePath}/{METHOD}"` keys of per-method throttles.

use std::num::NonZeroU32;
use std::time::Duration;

use super::model::Throttle;

pub type Limiter = governor::DefaultDirectRateLimiter;

/// The GCRA quota for a throttle, or `None` when it does not limit.
pub fn quota(t: &Throttle) -> Option<governor::Quota> {
    let rate = t.rate_limit;
    if !(rate > 0.0 && rate.is_finite()) {
        return None;
    }
    let burst = if t.burst_limit > 0 {
        t.burst_limit
    } else {
        rate.ceil().min(u32::MAX as f64) as i64
    };
    let burst = NonZeroU32::new(burst.clamp(1, i64::from(u32::MAX)) as u32)?;
    // Tiny rates would overflow a Duration: cap the refill interval at
    // u32::MAX seconds, which is "never" for any practical purpose.
    let period = Duration::try_from_secs_f64((1.0 / rate).min(f64::from(u32::MAX)))
        .ok()?
        .max(Duration::from_nanos(1));
    Some(governor::Quota::with_period(period)?.allow_burst(burst))
}

/// A bucket for a throttle, or `None` when it does not limit.
pub fn limiter(t: &Throttle) -> Option<Limiter> {
    quota(t).map(governor::RateLimiter::direct)
}

/// Splits a method throttle key into resource path and method:
/// `"/pets/GET"` → `("/pets", "GET")`, root `"//GET"` → `("/", "GET")`.
pub fn split_method_key(key: &str) -> Option<(&str, &str)> {
    let (path, method) = key.rsplit_once('/')?;
    if !path.starts_with('/') || method.is_empty() {
        return None;
    }
    Some((path, method))
}

/// Checks a method throttle key as declared: a resource path and one of
/// API Gateway's HTTP methods.
pub fn check_method_key(key: &str) -> Result<(), String> {
    let ok = split_method_key(key).is_some_and(|(path, method)| {
        crate::apigw::model::METHODS.contains(&method)
            && (path == "/" || !path.ends_with('/'))
            && !path.contains("//")
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "Invalid method throttle key '{key}': expected {{resourcePath}}/{{httpMethod}}, e.g. /pets/GET or //GET"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(burst: i64, rate: f64) -> Throttle {
        Throttle {
            burst_limit: burst,
            rate_limit: rate,
        }
    }

    #[test]
    fn zero_rate_means_unlimited() {
        assert!(quota(&t(0, 0.0)).is_none());
        assert!(quota(&t(10, 0.0)).is_none());
        assert!(quota(&t(10, -1.0)).is_none());
        assert!(quota(&t(10, f64::NAN)).is_none());
    }

    #[test]
    fn burst_defaults_to_the_rate() {
        let q = quota(&t(0, 2.5)).unwrap();
        assert_eq!(q.burst_size().get(), 3);
        assert_eq!(q.replenish_interval(), Duration::from_millis(400));
        let q = quota(&t(0, 0.1)).unwrap();
        assert_eq!(q.burst_size().get(), 1);
        assert_eq!(q.replenish_interval(), Duration::from_secs(10));
        let q = quota(&t(7, 1000.0)).unwrap();
        assert_eq!(q.burst_size().get(), 7);
        assert!(quota(&t(1, 1e-300)).is_some());
        assert!(quota(&t(1, 1e300)).is_some());
    }

    #[test]
    fn a_bucket_allows_its_burst_then_throttles() {
        let l = limiter(&t(2, 0.001)).unwrap();
        assert!(l.check().is_ok());
        assert!(l.check().is_ok());
        assert!(l.check().is_err());
    }

    #[test]
    fn method_keys() {
        assert_eq!(split_method_key("/pets/GET"), Some(("/pets", "GET")));
        assert_eq!(split_method_key("//GET"), Some(("/", "GET")));
        assert_eq!(
            split_method_key("/pets/{id}/DELETE"),
            Some(("/pets/{id}", "DELETE"))
        );
        assert_eq!(split_method_key("GET"), None);
        assert_eq!(split_method_key("/pets/"), None);
        assert!(check_method_key("/pets/GET").is_ok());
        assert!(check_method_key("//ANY").is_ok());
        assert!(check_method_key("/pets/FETCH").is_err());
        assert!(check_method_key("*/*").is_err());
        assert!(check_method_key("/a//b/GET").is_err());
    }
}
