//! The data-plane side of usage plans: an immutable index, rebuilt after
//! every management change and swapped in atomically, that answers "may
//! this API key call this method now?" with hash lookups on borrowed
//! strings, one token-bucket check and one compare-and-swap — no lock
//! shared between requests, no database.
//!
//! Index: key value → (key id, API → stage → the one plan granting that
//! stage: its bucket, per-method buckets, quota and meter). Only enabled keys
//! that belong to a plan are indexed; every other key is simply unknown.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use super::meter::{Meter, QuotaRule};
use super::model::{Catalog, Throttle};
use super::throttle::{Limiter, limiter, split_method_key};

/// The caller a request was admitted for (`$context.identity.apiKey*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyIdentity {
    pub id: String,
    pub value: String,
}

/// Why a request with `apiKeyRequired` is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageRejection {
    /// Missing, unknown or disabled key, or no plan of the key covers this
    /// API stage: 403 `{"message":"Forbidden"}` (INVALID_API_KEY).
    InvalidApiKey,
    /// A throttle's bucket is empty: 429 `{"message":"Too Many Requests"}`
    /// (THROTTLED).
    Throttled,
    /// The plan's quota for this period is used up: 429
    /// `{"message":"Limit Exceeded"}` (QUOTA_EXCEEDED).
    QuotaExceeded,
}

/// FxHash (as in rustc): a few nanoseconds for a short key where SipHash
/// takes ~50. The tables only hold keys an administrator declared, so a
/// caller cannot plant collisions; lookups with arbitrary strings cost one
/// probe.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl FxHasher {
    const K: u64 = 0xf135_7aea_2e62_a9c5;

    fn add(&mut self, word: u64) {
        self.0 = self.0.wrapping_add(word).wrapping_mul(Self::K);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

type Map<V> = HashMap<Box<str>, V, BuildHasherDefault<FxHasher>>;

struct KeyGate {
    id: String,
    value: String,
    /// API id → stage name → gate.
    stages: Map<Map<StageGate>>,
}

struct StageGate {
    /// The plan's throttle (one bucket per plan and key, shared by the
    /// plan's stages); `None` = not limited.
    plan_bucket: Option<Arc<Limiter>>,
    /// Resource path → method → the override's bucket (`None` = an
    /// override that does not limit).
    methods: Map<Map<Option<Arc<Limiter>>>>,
    quota: Option<QuotaRule>,
    meter: Arc<Meter>,
}

/// The index the front door reads.
#[derive(Default)]
pub struct Gate {
    keys: Map<KeyGate>,
}

/// Which bucket a throttle lives in, so a rebuild keeps a bucket's state
/// when its throttle did not change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum BucketId {
    Plan {
        plan: String,
        key: String,
    },
    Method {
        plan: String,
        key: String,
        api: String,
        stage: String,
        method_key: String,
    },
}

/// The token buckets of the current index.
#[derive(Default)]
pub(super) struct Buckets(HashMap<BucketId, (Throttle, Option<Arc<Limiter>>)>);

impl Buckets {
    fn take(&self, next: &mut Buckets, id: BucketId, t: &Throttle) -> Option<Arc<Limiter>> {
        let bucket = match self.0.get(&id) {
            Some((old, bucket)) if old == t => bucket.clone(),
            _ => limiter(t).map(Arc::new),
        };
        next.0.insert(id, (*t, bucket.clone()));
        bucket
    }
}

impl Gate {
    /// Indexes `catalog`. `meter` hands out the (persistent) meter of a
    /// (plan, key); `buckets` are the previous index's buckets and are
    /// replaced by this index's.
    pub(super) fn build(
        catalog: &Catalog,
        mut meter: impl FnMut(&str, &str) -> Arc<Meter>,
        buckets: &mut Buckets,
    ) -> Gate {
        let mut next = Buckets::default();
        let mut keys: Map<KeyGate> = Map::default();
        for plan in catalog.plans.values() {
            let quota = plan.quota.as_ref().map(QuotaRule::new);
            for key_id in &plan.keys {
                let Some(key) = catalog.keys.get(key_id).filter(|k| k.enabled) else {
                    continue;
                };
                let meter = meter(&plan.id, key_id);
                let plan_bucket = plan.throttle.as_ref().and_then(|t| {
                    let id = BucketId::Plan {
                        plan: plan.id.clone(),
                        key: key_id.clone(),
                    };
                    buckets.take(&mut next, id, t)
                });
                let entry = keys.entry(key.value.as_str().into()).or_insert_with(|| KeyGate {
                    id: key.id.clone(),
                    value: key.value.clone(),
                    stages: Map::default(),
                });
                for stage in &plan.api_stages {
                    let mut methods: Map<Map<Option<Arc<Limiter>>>> = Map::default();
                    for (method_key, t) in &stage.throttle {
                        let Some((path, method)) = split_method_key(method_key) else {
                            continue;
                        };
                        let id = BucketId::Method {
                            plan: plan.id.clone(),
                            key: key_id.clone(),
                            api: stage.api_id.clone(),
                            stage: stage.stage.clone(),
                            method_key: method_key.clone(),
                        };
                        let bucket = buckets.take(&mut next, id, t);
                        methods
                            .entry(path.into())
                            .or_default()
                            .insert(method.into(), bucket);
                    }
                    entry
                        .stages
                        .entry(stage.api_id.as_str().into())
                        .or_default()
                        .insert(
                            stage.stage.as_str().into(),
                            StageGate {
                                plan_bucket: plan_bucket.clone(),
                                methods,
                                quota,
                                meter: meter.clone(),
                            },
                        );
                }
            }
        }
        *buckets = next;
        Gate { keys }
    }

    /// The check for a method with `apiKeyRequired`, on UTC day `day`.
    pub fn admit(
        &self,
        key_value: Option<&str>,
        api_id: &str,
        stage: &str,
        resource_path: &str,
        http_method: &str,
        day: i64,
    ) -> Result<ApiKeyIdentity, UsageRejection> {
        let key = key_value
            .and_then(|v| self.keys.get(v))
            .ok_or(UsageRejection::InvalidApiKey)?;
        let gate = key
            .stages
            .get(api_id)
            .and_then(|stages| stages.get(stage))
            .ok_or(UsageRejection::InvalidApiKey)?;
        let method_bucket = if gate.methods.is_empty() {
            None
        } else {
            gate.methods
                .get(resource_path)
                .and_then(|methods| methods.get(http_method))
        };
        let bucket = match method_bucket {
            Some(method_bucket) => method_bucket,
            None => &gate.plan_bucket,
        };
        if let Some(bucket) = bucket
            && bucket.check().is_err()
        {
            return Err(UsageRejection::Throttled);
        }
        if !gate.meter.try_consume(day, gate.quota.as_ref()) {
            return Err(UsageRejection::QuotaExceeded);
        }
        Ok(ApiKeyIdentity {
            id: key.id.clone(),
            value: key.value.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::usage::meter::MeterState;
    use crate::usage::model::{ApiKey, ApiStage, Quota, QuotaPeriod, UsagePlan};

    const VALUE: &str = "abcdefghijklmnopqrstuvwxyz0123";

    fn key(id: &str, value: &str, enabled: bool) -> ApiKey {
        ApiKey {
            id: id.into(),
            value: value.into(),
            name: None,
            description: None,
            enabled,
            customer_id: None,
            created_date: 0,
            last_updated_date: 0,
            stage_keys: vec![],
            tags: BTreeMap::new(),
        }
    }

    fn plan(id: &str, stages: &[(&str, &str)], keys: &[&str]) -> UsagePlan {
        UsagePlan {
            id: id.into(),
            name: id.into(),
            description: None,
            api_stages: stages
                .iter()
                .map(|(a, s)| ApiStage {
                    api_id: a.to_string(),
                    stage: s.to_string(),
                    throttle: BTreeMap::new(),
                })
                .collect(),
            throttle: None,
            quota: None,
            product_code: None,
            tags: BTreeMap::new(),
            keys: keys.iter().map(|k| k.to_string()).collect::<BTreeSet<_>>(),
        }
    }

    fn t(burst: i64, rate: f64) -> Throttle {
        Throttle {
            burst_limit: burst,
            rate_limit: rate,
        }
    }

    fn build(c: &Catalog, buckets: &mut Buckets) -> Gate {
        let mut meters: HashMap<(String, String), Arc<Meter>> = HashMap::new();
        Gate::build(
            c,
            |p, k| {
                meters
                    .entry((p.to_string(), k.to_string()))
                    .or_insert_with(|| Arc::new(Meter::restore(MeterState::default())))
                    .clone()
            },
            buckets,
        )
    }

    fn catalog(keys: Vec<ApiKey>, plans: Vec<UsagePlan>) -> Catalog {
        Catalog {
            keys: keys.into_iter().map(|k| (k.id.clone(), k)).collect(),
            plans: plans.into_iter().map(|p| (p.id.clone(), p)).collect(),
        }
    }

    #[test]
    fn fx_hash_tells_short_keys_apart() {
        use std::hash::BuildHasher;
        let h = |s: &str| BuildHasherDefault::<FxHasher>::default().hash_one(s);
        let words = [
            "",
            "a",
            "b",
            "ab",
            "ba",
            "prod",
            "prod2",
            "abcdefgh",
            "abcdefghi",
            "/pets",
            "/pets/",
        ];
        let hashes: std::collections::HashSet<u64> = words.iter().map(|w| h(w)).collect();
        assert_eq!(hashes.len(), words.len());
        assert_eq!(h("prod"), h("prod"));
    }

    #[test]
    fn keys_need_to_be_known_enabled_and_in_a_plan_for_the_stage() {
        let c = catalog(
            vec![
                key("k1", VALUE, true),
                key("k2", "disabled-key-value-000000", false),
                key("k3", "lonely-key-value-00000000", true),
            ],
            vec![plan("p1", &[("api", "prod")], &["k1", "k2"])],
        );
        let g = build(&c, &mut Buckets::default());
        let admit = |v: Option<&str>, api: &str, stage: &str| g.admit(v, api, stage, "/pets", "GET", 100);
        assert_eq!(
            admit(Some(VALUE), "api", "prod"),
            Ok(ApiKeyIdentity {
                id: "k1".into(),
                value: VALUE.into()
            })
        );
        assert_eq!(admit(None, "api", "prod"), Err(UsageRejection::InvalidApiKey));
        assert_eq!(
            admit(Some("nope"), "api", "prod"),
            Err(UsageRejection::InvalidApiKey)
        );
        assert_eq!(
            admit(Some("disabled-key-value-000000"), "api", "prod"),
            Err(UsageRejection::InvalidApiKey)
        );
        assert_eq!(
            admit(Some("lonely-key-value-00000000"), "api", "prod"),
            Err(UsageRejection::InvalidApiKey)
        );
        assert_eq!(
            admit(Some(VALUE), "api", "test"),
            Err(UsageRejection::InvalidApiKey)
        );
        assert_eq!(
            admit(Some(VALUE), "other", "prod"),
            Err(UsageRejection::InvalidApiKey)
        );
    }

    #[test]
    fn method_overrides_replace_the_plan_throttle() {
        let mut p = plan("p1", &[("api", "prod")], &["k1"]);
        p.throttle = Some(t(1, 0.001));
        p.api_stages[0].throttle.insert("/pets/GET".into(), t(3, 0.001));
        p.api_stages[0].throttle.insert("//GET".into(), t(0, 0.0));
        let c = catalog(vec![key("k1", VALUE, true)], vec![p]);
        let g = build(&c, &mut Buckets::default());
        let n = |path: &str, method: &str| {
            (0..10)
                .filter(|_| g.admit(Some(VALUE), "api", "prod", path, method, 1).is_ok())
                .count()
        };
        assert_eq!(n("/pets", "GET"), 3);
        assert_eq!(n("/", "GET"), 10, "an override without a rate does not limit");
        assert_eq!(n("/pets", "POST"), 1, "other methods use the plan's bucket");
        assert_eq!(n("/pets/{id}", "GET"), 0, "the plan bucket is shared");
        assert_eq!(
            g.admit(Some(VALUE), "api", "prod", "/pets", "POST", 1),
            Err(UsageRejection::Throttled)
        );
    }

    #[test]
    fn throttled_requests_do_not_use_quota() {
        let mut p = plan("p1", &[("api", "prod")], &["k1"]);
        p.throttle = Some(t(2, 0.001));
        p.quota = Some(Quota {
            limit: 3,
            offset: 0,
            period: QuotaPeriod::Day,
            since_day: 0,
        });
        let c = catalog(vec![key("k1", VALUE, true)], vec![p.clone()]);
        let mut buckets = Buckets::default();
        let mut meters: HashMap<(String, String), Arc<Meter>> = HashMap::new();
        let mut meter = |p: &str, k: &str| {
            meters
                .entry((p.to_string(), k.to_string()))
                .or_insert_with(|| Arc::new(Meter::restore(MeterState::default())))
                .clone()
        };
        let g = Gate::build(&c, &mut meter, &mut buckets);
        let call = |g: &Gate| g.admit(Some(VALUE), "api", "prod", "/", "GET", 5);
        assert!(call(&g).is_ok());
        assert!(call(&g).is_ok());
        assert_eq!(call(&g), Err(UsageRejection::Throttled));
        // A rebuild with the same throttle keeps the (empty) bucket...
        let g = Gate::build(&c, &mut meter, &mut buckets);
        assert_eq!(call(&g), Err(UsageRejection::Throttled));
        // ...a changed throttle starts a new one; the quota still counts 2.
        let mut c2 = c.clone();
        if let Some(p) = c2.plans.get_mut("p1") {
            p.throttle = Some(t(5, 0.001));
        }
        let g = Gate::build(&c2, &mut meter, &mut buckets);
        assert!(call(&g).is_ok());
        assert_eq!(call(&g), Err(UsageRejection::QuotaExceeded));
        assert_eq!(call(&g), Err(UsageRejection::QuotaExceeded));
    }

    #[test]
    fn a_plan_meters_all_its_stages_together() {
        let mut p = plan("p1", &[("api", "prod"), ("api", "beta")], &["k1"]);
        p.quota = Some(Quota {
            limit: 2,
            offset: 0,
            period: QuotaPeriod::Month,
            since_day: 0,
        });
        let c = catalog(vec![key("k1", VALUE, true)], vec![p]);
        let g = build(&c, &mut Buckets::default());
        assert!(g.admit(Some(VALUE), "api", "prod", "/", "GET", 40).is_ok());
        assert!(g.admit(Some(VALUE), "api", "beta", "/", "GET", 40).is_ok());
        assert_eq!(
            g.admit(Some(VALUE), "api", "prod", "/", "GET", 40),
            Err(UsageRejection::QuotaExceeded)
        );
    }
}
