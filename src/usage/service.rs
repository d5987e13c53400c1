//! State behind API keys and usage plans: the catalog in memory (mirroring
//! the store), a write lock that orders changes, the data-plane [`Gate`]
//! rebuilt and swapped in after each committed change, the [`Meter`]s that
//! outlive rebuilds, and their write-behind to the store.
//!
//! Durability: keys and plans are committed before a change is visible.
//! Request counts are exact in memory and written behind — every
//! [`FLUSH_EVERY`] by the task [`UsageService::spawn_flusher`] starts, and
//! once more on graceful shutdown ([`UsageService::flush`]) — so a crash
//! loses at most the last second of counting; quotas then allow that many
//! requests again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use arc_swap::ArcSwap;

use super::gate::{ApiKeyIdentity, Buckets, Gate, UsageRejection};
use super::meter::{Meter, MeterState, QuotaRule};
use super::model::{Catalog, UsagePlan};
use super::period::{DayClock, next_period_start, period_start, today};
use crate::apigw::error::{ApiGwError, ApiGwResult};
use crate::apigw::service::ApiGwService;
use crate::store::{Store, StoreError, UsageChange, UsageDay};

/// How often counts are written behind.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Where usage plans and stage keys check that an API stage exists.
pub trait StageDirectory: Send + Sync {
    /// `Ok` when API `api_id` has stage `stage`, else AWS's error.
    fn check_stage(&self, api_id: &str, stage: &str) -> ApiGwResult<()>;
}

impl StageDirectory for ApiGwService {
    fn check_stage(&self, api_id: &str, stage: &str) -> ApiGwResult<()> {
        let api = self.get(api_id)?;
        if api.stages.contains_key(stage) {
            Ok(())
        } else {
            Err(ApiGwError::bad_request(format!(
                "API Stage not found: {api_id}:{stage}"
            )))
        }
    }
}

pub fn plan_not_found() -> ApiGwError {
    ApiGwError::not_found("Invalid Usage Plan ID specified")
}

pub fn key_not_found() -> ApiGwError {
    ApiGwError::not_found("Invalid API Key identifier specified")
}

pub fn plan_key_not_found() -> ApiGwError {
    ApiGwError::not_found("Invalid Usage Plan Key identifier specified")
}

/// GetUsage's answer: per key, one `[used, remaining]` pair per day.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageReport {
    pub plan_id: String,
    pub start: i64,
    pub end: i64,
    pub values: BTreeMap<String, Vec<[u64; 2]>>,
    pub position: Option<String>,
}

type PairKey = (String, String);

pub struct UsageService {
    store: Arc<Store>,
    stages: Arc<dyn StageDirectory>,
    catalog: RwLock<Arc<Catalog>>,
    write: tokio::sync::Mutex<()>,
    gate: ArcSwap<Gate>,
    meters: Mutex<HashMap<PairKey, Arc<Meter>>>,
    buckets: Mutex<Buckets>,
    clock: DayClock,
    /// Orders flushes against commits that drop counts.
    flushing: Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every critical section leaves its data consistent, so a poisoned lock
    // is safe to reuse.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Every (plan, key) membership.
fn pairs(c: &Catalog) -> HashSet<PairKey> {
    c.plans
        .values()
        .flat_map(|p| p.keys.iter().map(|k| (p.id.clone(), k.clone())))
        .collect()
}

/// Whether a plan's period counters must be re-read after a change: a
/// quota appeared or its period moved (without a quota nothing counts
/// periods).
fn needs_resync(old: Option<&UsagePlan>, new: &UsagePlan) -> bool {
    match (old.and_then(|p| p.quota), new.quota) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(a), Some(b)) => a.period != b.period || a.since_day != b.since_day,
    }
}

impl UsageService {
    /// Loads every key and plan and restores the meters of the current
    /// periods.
    pub fn load(store: Arc<Store>, stages: Arc<dyn StageDirectory>) -> Result<UsageService, StoreError> {
        let (keys, plans) = store.usage_catalog()?;
        let catalog = Catalog {
            keys: keys.into_iter().map(|k| (k.id.clone(), k)).collect(),
            plans: plans.into_iter().map(|p| (p.id.clone(), p)).collect(),
        };
        let svc = UsageService {
            store,
            stages,
            catalog: RwLock::new(Arc::new(Catalog::default())),
            write: tokio::sync::Mutex::new(()),
            gate: ArcSwap::from_pointee(Gate::default()),
            meters: Mutex::new(HashMap::new()),
            buckets: Mutex::new(Buckets::default()),
            clock: DayClock::default(),
            flushing: Mutex::new(()),
        };
        svc.install(Arc::new(catalog));
        Ok(svc)
    }

    /// The data-plane check for a method with `apiKeyRequired`. `key_value`
    /// comes from `x-api-key` (apiKeySource HEADER) or the authorizer's
    /// `usageIdentifierKey` (AUTHORIZER); `resource_path` is the resource
    /// template (`/pets/{id}`) and `http_method` the method as declared on
    /// it (`GET`, or `ANY` for an ANY method). A request that passes is
    /// counted against the plan's quota.
    pub fn admit(
        &self,
        key_value: Option<&str>,
        api_id: &str,
        stage: &str,
        resource_path: &str,
        http_method: &str,
    ) -> Result<ApiKeyIdentity, UsageRejection> {
        if key_value.is_none() {
            return Err(UsageRejection::InvalidApiKey);
        }
        self.gate.load().admit(
            key_value,
            api_id,
            stage,
            resource_path,
            http_method,
            self.clock.today(),
        )
    }

    /// The catalog as of the last committed change.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn stages(&self) -> &dyn StageDirectory {
        self.stages.as_ref()
    }

    /// Applies `edit` to a copy of the catalog; if it succeeds, commits the
    /// difference in one transaction (dropping the counts of (plan, key)
    /// pairs that ceased to exist) and publishes the new index.
    pub async fn edit<T>(&self, edit: impl FnOnce(&mut Catalog) -> ApiGwResult<T>) -> ApiGwResult<T> {
        let _guard = self.write.lock().await;
        let old = self.catalog();
        let mut next = (*old).clone();
        let out = edit(&mut next)?;
        if next == *old {
            return Ok(out);
        }
        let mut change = UsageChange::default();
        for (id, k) in &next.keys {
            if old.keys.get(id) != Some(k) {
                change.put_keys.push(k);
            }
        }
        change.delete_keys = old
            .keys
            .keys()
            .filter(|id| !next.keys.contains_key(*id))
            .map(String::as_str)
            .collect();
        let mut resync = Vec::new();
        for (id, p) in &next.plans {
            let before = old.plans.get(id);
            if before != Some(p) {
                change.put_plans.push(p);
            }
            if needs_resync(before, p) {
                resync.push(id.clone());
            }
        }
        change.delete_plans = old
            .plans
            .keys()
            .filter(|id| !next.plans.contains_key(*id))
            .map(String::as_str)
            .collect();
        let kept = pairs(&next);
        let gone: Vec<PairKey> = pairs(&old).into_iter().filter(|p| !kept.contains(p)).collect();
        change.drop_usage = gone.iter().map(|(p, k)| (p.as_str(), k.as_str())).collect();
        {
            let _flushing = lock(&self.flushing);
            self.store.commit_usage(&change)?;
            let mut meters = lock(&self.meters);
            for pair in &gone {
                meters.remove(pair);
            }
        }
        let next = Arc::new(next);
        if !resync.is_empty() {
            self.resync(&next, &resync);
        }
        self.install(next);
        Ok(out)
    }

    /// Publishes a catalog: stores it and swaps in its index.
    fn install(&self, catalog: Arc<Catalog>) {
        {
            let mut meters = lock(&self.meters);
            let mut buckets = lock(&self.buckets);
            let gate = Gate::build(
                &catalog,
                |plan, key| {
                    meters
                        .entry((plan.to_string(), key.to_string()))
                        .or_insert_with(|| Arc::new(self.restore_meter(&catalog, plan, key)))
                        .clone()
                },
                &mut buckets,
            );
            self.gate.store(Arc::new(gate));
        }
        *self.catalog.write().unwrap_or_else(|p| p.into_inner()) = catalog;
    }

    /// The meter of (plan, key), restored from the store if not in memory.
    fn meter(&self, catalog: &Catalog, plan: &str, key: &str) -> Arc<Meter> {
        lock(&self.meters)
            .entry((plan.to_string(), key.to_string()))
            .or_insert_with(|| Arc::new(self.restore_meter(catalog, plan, key)))
            .clone()
    }

    /// Reads a meter's counts for today and the current quota period back
    /// from the store (an empty meter if that fails: counting goes on).
    fn restore_meter(&self, catalog: &Catalog, plan: &str, key: &str) -> Meter {
        let day = today();
        let quota = catalog.plans.get(plan).and_then(|p| p.quota);
        let start = quota.map_or(day, |q| period_start(q.period, day));
        let read = || -> Result<MeterState, StoreError> {
            let rows = self.store.usage_days(plan, Some(key), start, day)?;
            let grant = self.store.usage_adjustment(plan, key, start)?;
            Ok(MeterState {
                day,
                day_used: rows.iter().filter(|r| r.1 == day).map(|r| r.2).sum(),
                period_start: start,
                period_used: rows.iter().map(|r| r.2).sum(),
                grant_period: start,
                grant,
            })
        };
        let state = read().unwrap_or_else(|e| {
            tracing::error!(plan, key, error = %e, "cannot read usage counts; counting from zero");
            MeterState::default()
        });
        Meter::restore(state)
    }

    /// Re-reads the period counters of `plans`' meters (their quota period
    /// changed, or they gained a quota).
    fn resync(&self, catalog: &Catalog, plans: &[String]) {
        if let Err(e) = self.flush() {
            tracing::error!(error = %e, "cannot flush usage counts before a quota change");
        }
        let meters: Vec<(PairKey, Arc<Meter>)> = lock(&self.meters)
            .iter()
            .filter(|((p, _), _)| plans.contains(p))
            .map(|(k, m)| (k.clone(), m.clone()))
            .collect();
        for ((plan, key), meter) in meters {
            let fresh = self.restore_meter(catalog, &plan, &key);
            let day = today();
            if let Some(q) = catalog.plans.get(&plan).and_then(|p| p.quota) {
                let start = period_start(q.period, day);
                meter.reset_period(start, fresh.period_used(start));
                meter.set_grant(start, fresh.grant_for(start));
            }
        }
    }

    /// Writes every count that changed since the last flush, in one
    /// transaction.
    pub fn flush(&self) -> Result<(), StoreError> {
        let _flushing = lock(&self.flushing);
        // Only meters with something to write are copied out of the map.
        let mut pending = Vec::new();
        for ((plan, key), meter) in lock(&self.meters).iter() {
            let (rows, word) = meter.pending();
            if !rows.is_empty() {
                pending.push((plan.clone(), key.clone(), meter.clone(), rows, word));
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        let rows: Vec<UsageDay<'_>> = pending
            .iter()
            .flat_map(|(plan, key, _, rows, _)| {
                rows.iter().map(|&(day, used)| UsageDay {
                    plan_id: plan,
                    key_id: key,
                    day,
                    used,
                })
            })
            .collect();
        match self.store.put_usage_days(&rows) {
            Ok(()) => {
                for (_, _, meter, _, word) in &pending {
                    meter.flushed(*word);
                }
                Ok(())
            }
            Err(e) => {
                for (_, _, meter, rows, _) in pending {
                    meter.unflushed(rows);
                }
                Err(e)
            }
        }
    }

    /// Flushes every [`FLUSH_EVERY`] until the runtime shuts down.
    pub fn spawn_flusher(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let svc = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tick.tick().await;
                let s = svc.clone();
                match tokio::task::spawn_blocking(move || s.flush()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::error!(error = %e, "cannot write usage counts"),
                    Err(e) => tracing::error!(error = %e, "usage flush task failed"),
                }
            }
        })
    }

    /// GetUsage: daily `[used, remaining]` per key of the plan (or one key)
    /// for the days `start..=end`, keys paged by `position`/`limit`.
    pub fn usage(
        &self,
        plan_id: &str,
        key_id: Option<&str>,
        start: i64,
        end: i64,
        position: usize,
        limit: usize,
    ) -> ApiGwResult<UsageReport> {
        let catalog = self.catalog();
        let plan = catalog.plans.get(plan_id).ok_or_else(plan_not_found)?;
        self.flush()?;
        let keys: Vec<&String> = plan
            .keys
            .iter()
            .filter(|k| key_id.is_none_or(|want| want == k.as_str()))
            .collect();
        let rule = plan.quota.as_ref().map(QuotaRule::new);
        let from = rule.map_or(start, |q| period_start(q.period, start));
        let mut values = BTreeMap::new();
        for key in keys.iter().skip(position).take(limit) {
            let used: HashMap<i64, u64> = self
                .store
                .usage_days(plan_id, Some(key), from, end)?
                .into_iter()
                .map(|(_, day, n)| (day, n))
                .collect();
            let grants: HashMap<i64, i64> = match rule {
                Some(_) => self.store.usage_adjustments(plan_id, key)?.into_iter().collect(),
                None => HashMap::new(),
            };
            let mut days = Vec::with_capacity((end - start + 1).max(0) as usize);
            let mut period = from;
            let mut in_period = 0u64;
            for day in from..=end {
                let n = used.get(&day).copied().unwrap_or(0);
                let remaining = match rule {
                    Some(q) => {
                        if day >= next_period_start(q.period, period) {
                            period = period_start(q.period, day);
                            in_period = 0;
                        }
                        in_period += n;
                        let grant = grants.get(&period).copied().unwrap_or(0);
                        q.limit_with(period, grant).saturating_sub(in_period)
                    }
                    None => 0,
                };
                if day >= start {
                    days.push([n, remaining]);
                }
            }
            values.insert(key.to_string(), days);
        }
        let next = position + limit;
        Ok(UsageReport {
            plan_id: plan_id.to_string(),
            start,
            end,
            values,
            position: (next < keys.len()).then(|| next.to_string()),
        })
    }

    /// UpdateUsage: sets what remains of the key's quota in the current
    /// period (a grant on top of the plan's limit, kept for that period).
    pub async fn set_remaining(&self, plan_id: &str, key_id: &str, remaining: u64) -> ApiGwResult<()> {
        let _guard = self.write.lock().await;
        let catalog = self.catalog();
        let plan = catalog.plans.get(plan_id).ok_or_else(plan_not_found)?;
        if !plan.keys.contains(key_id) {
            return Err(plan_key_not_found());
        }
        let Some(q) = plan.quota.as_ref().map(QuotaRule::new) else {
            return Err(ApiGwError::bad_request(format!(
                "Usage plan {plan_id} does not have a quota"
            )));
        };
        let meter = self.meter(&catalog, plan_id, key_id);
        let start = period_start(q.period, today());
        let used = meter.period_used(start) as i64;
        let grant = (remaining as i64)
            .saturating_add(used)
            .saturating_sub(q.base_limit(start) as i64);
        self.store.put_usage_adjustment(plan_id, key_id, start, grant)?;
        meter.set_grant(start, grant);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::usage::model::{ApiKey, ApiStage, Quota, QuotaPeriod};

    const VALUE: &str = "0123456789abcdefghijKLMN";

    /// A directory where every stage of API "api" exists.
    struct Stages;
    impl StageDirectory for Stages {
        fn check_stage(&self, api_id: &str, stage: &str) -> ApiGwResult<()> {
            if api_id == "api" {
                Ok(())
            } else {
                Err(ApiGwError::bad_request(format!(
                    "API Stage not found: {api_id}:{stage}"
                )))
            }
        }
    }

    fn service(dir: &std::path::Path) -> UsageService {
        let store = Arc::new(Store::open(dir).expect("store"));
        UsageService::load(store, Arc::new(Stages)).expect("load")
    }

    async fn setup(svc: &UsageService, limit: i64) {
        svc.edit(|c| {
            c.keys.insert(
                "k1".into(),
                ApiKey {
                    id: "k1".into(),
                    value: VALUE.into(),
                    name: Some("one".into()),
                    description: None,
                    enabled: true,
                    customer_id: None,
                    created_date: 0,
                    last_updated_date: 0,
                    stage_keys: vec![],
                    tags: Default::default(),
                },
            );
            c.plans.insert(
                "p1".into(),
                UsagePlan {
                    id: "p1".into(),
                    name: "gold".into(),
                    description: None,
                    api_stages: vec![ApiStage {
                        api_id: "api".into(),
                        stage: "prod".into(),
                        throttle: Default::default(),
                    }],
                    throttle: None,
                    quota: Some(Quota {
                        limit,
                        offset: 0,
                        period: QuotaPeriod::Month,
                        since_day: 0,
                    }),
                    product_code: None,
                    tags: Default::default(),
                    keys: BTreeSet::from(["k1".to_string()]),
                },
            );
            Ok(())
        })
        .await
        .expect("setup");
    }

    fn call(svc: &UsageService) -> Result<ApiKeyIdentity, UsageRejection> {
        svc.admit(Some(VALUE), "api", "prod", "/pets", "GET")
    }

    #[tokio::test]
    async fn admit_counts_and_survives_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let svc = service(dir.path());
            setup(&svc, 5).await;
            for _ in 0..3 {
                assert!(call(&svc).is_ok());
            }
            svc.flush().expect("flush");
        }
        let svc = service(dir.path());
        assert!(call(&svc).is_ok());
        assert!(call(&svc).is_ok());
        assert_eq!(call(&svc), Err(UsageRejection::QuotaExceeded));
        let day = today();
        let r = svc.usage("p1", None, day - 1, day, 0, 25).expect("usage");
        assert_eq!(r.values["k1"], vec![[0, 5], [5, 0]]);
    }

    #[tokio::test]
    async fn changes_apply_immediately() {
        let dir = tempfile::tempdir().expect("tempdir");
        let svc = service(dir.path());
        setup(&svc, 100).await;
        assert!(call(&svc).is_ok());
        svc.edit(|c| {
            if let Some(k) = c.keys.get_mut("k1") {
                k.enabled = false;
            }
            Ok(())
        })
        .await
        .expect("disable");
        assert_eq!(call(&svc), Err(UsageRejection::InvalidApiKey));
        svc.edit(|c| {
            if let Some(k) = c.keys.get_mut("k1") {
                k.enabled = true;
            }
            Ok(())
        })
        .await
        .expect("enable");
        assert!(call(&svc).is_ok());
        // Removing the key from the plan drops its counts.
        svc.edit(|c| {
            if let Some(p) = c.plans.get_mut("p1") {
                p.keys.clear();
            }
            Ok(())
        })
        .await
        .expect("remove key");
        assert_eq!(call(&svc), Err(UsageRejection::InvalidApiKey));
        let day = today();
        assert!(
            svc.usage("p1", None, day, day, 0, 25)
                .expect("usage")
                .values
                .is_empty()
        );
    }

    #[tokio::test]
    async fn update_usage_sets_remaining_for_the_current_period() {
        let dir = tempfile::tempdir().expect("tempdir");
        let svc = service(dir.path());
        setup(&svc, 3).await;
        for _ in 0..3 {
            assert!(call(&svc).is_ok());
        }
        assert_eq!(call(&svc), Err(UsageRejection::QuotaExceeded));
        svc.set_remaining("p1", "k1", 2).await.expect("update usage");
        assert!(call(&svc).is_ok());
        assert!(call(&svc).is_ok());
        assert_eq!(call(&svc), Err(UsageRejection::QuotaExceeded));
        let day = today();
        let r = svc.usage("p1", Some("k1"), day, day, 0, 25).expect("usage");
        assert_eq!(r.values["k1"], vec![[5, 0]]);
        // The grant survives a restart.
        drop(svc);
        let svc = service(dir.path());
        svc.set_remaining("p1", "k1", 1).await.expect("update usage");
        assert!(call(&svc).is_ok());
        assert_eq!(call(&svc), Err(UsageRejection::QuotaExceeded));
    }

    /// `cargo test --release --lib usage::service::tests::admit_cost -- --ignored --nocapture`
    #[tokio::test]
    #[ignore = "a measurement, not a check"]
    async fn admit_cost() {
        let dir = tempfile::tempdir().expect("tempdir");
        let svc = Arc::new(service(dir.path()));
        setup(&svc, i64::from(i32::MAX)).await;
        svc.edit(|c| {
            if let Some(p) = c.plans.get_mut("p1") {
                p.throttle = Some(crate::usage::model::Throttle {
                    burst_limit: 1_000_000_000,
                    rate_limit: 1e9,
                });
            }
            Ok(())
        })
        .await
        .expect("throttle");
        let n = 2_000_000u32;
        {
            let m = |name: &str, f: &dyn Fn() -> u64| {
                let t = std::time::Instant::now();
                let mut acc = 0u64;
                for _ in 0..n {
                    acc = acc.wrapping_add(f());
                }
                println!("  {name}: {:?} ({acc})", t.elapsed() / n);
            };
            m("wall clock day", &|| today() as u64);
            m("DayClock day", &|| svc.clock.today() as u64);
            m("gate.load", &|| {
                let g = svc.gate.load();
                Arc::as_ptr(std::hint::black_box(&*g)) as u64
            });
            let map: HashMap<Box<str>, u64> = [(VALUE.into(), 1u64)].into_iter().collect();
            m("sip lookup", &|| {
                *map.get(std::hint::black_box(VALUE)).unwrap_or(&0)
            });
            let fx: HashMap<Box<str>, u64, std::hash::BuildHasherDefault<crate::usage::gate::FxHasher>> =
                [(VALUE.into(), 1u64)].into_iter().collect();
            m("fx lookup", &|| {
                *fx.get(std::hint::black_box(VALUE)).unwrap_or(&0)
            });
            let l = crate::usage::throttle::limiter(&crate::usage::model::Throttle {
                burst_limit: 1_000_000_000,
                rate_limit: 1e9,
            })
            .expect("a limiting throttle");
            m("limiter", &|| l.check().is_ok() as u64);
            let meter = Meter::restore(MeterState::default());
            let q = QuotaRule {
                limit: u64::MAX >> 30,
                offset: 0,
                period: crate::usage::model::QuotaPeriod::Month,
                initial_period: 0,
            };
            m("meter", &|| meter.try_consume(20_000, Some(&q)) as u64);
            m("two strings", &|| {
                let a = std::hint::black_box(VALUE).to_string();
                let b = std::hint::black_box("k1").to_string();
                (a.len() + b.len()) as u64
            });
        }
        let t = std::time::Instant::now();
        for _ in 0..n {
            assert!(call(&svc).is_ok());
        }
        let one = t.elapsed() / n;
        let t = std::time::Instant::now();
        for _ in 0..n {
            assert!(
                svc.admit(Some("unknown-key-value-00000000"), "api", "prod", "/pets", "GET")
                    .is_err()
            );
        }
        let unknown = t.elapsed() / n;
        let threads = 8u32;
        let t = std::time::Instant::now();
        std::thread::scope(|s| {
            for _ in 0..threads {
                let svc = svc.clone();
                s.spawn(move || {
                    for _ in 0..n / threads {
                        assert!(call(&svc).is_ok());
                    }
                });
            }
        });
        let contended = t.elapsed() / n;
        println!(
            "admit: {one:?}/call on one thread; unknown key {unknown:?}; one key from {threads} threads {contended:?}/call (wall)"
        );
    }

    #[tokio::test]
    async fn gaining_a_quota_counts_what_was_already_used() {
        let dir = tempfile::tempdir().expect("tempdir");
        let svc = service(dir.path());
        setup(&svc, 3).await;
        svc.edit(|c| {
            if let Some(p) = c.plans.get_mut("p1") {
                p.quota = None;
            }
            Ok(())
        })
        .await
        .expect("drop quota");
        for _ in 0..5 {
            assert!(call(&svc).is_ok());
        }
        svc.edit(|c| {
            if let Some(p) = c.plans.get_mut("p1") {
                p.quota = Some(Quota {
                    limit: 6,
                    offset: 0,
                    period: QuotaPeriod::Day,
                    since_day: 0,
                });
            }
            Ok(())
        })
        .await
        .expect("add quota");
        assert!(call(&svc).is_ok());
        assert_eq!(call(&svc), Err(UsageRejection::QuotaExceeded));
    }
}
