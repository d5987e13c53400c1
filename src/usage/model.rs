//! What a user declares about metering: API keys and usage plans (with
//! their API stages, throttles, quota and member keys). Stored as one JSON
//! document per key and per plan; the data plane never reads these, only the
//! index that [`super::gate`] builds from them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// An API key (CreateApiKey).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    /// The secret callers send in `x-api-key` (20–128 characters).
    pub value: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub enabled: bool,
    pub customer_id: Option<String>,
    pub created_date: i64,
    pub last_updated_date: i64,
    /// Deprecated stage keys, `"{restApiId}/{stageName}"`: stored and
    /// echoed, never consulted (access goes through usage plans).
    pub stage_keys: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

/// The unit a quota counts over; periods start at 00:00 UTC (weeks on
/// Sunday, months on the 1st).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum QuotaPeriod {
    Day,
    Week,
    Month,
}

impl QuotaPeriod {
    pub const NAMES: &'static [&'static str] = &["DAY", "WEEK", "MONTH"];

    pub fn parse(s: &str) -> Option<QuotaPeriod> {
        Some(match s {
            "DAY" => QuotaPeriod::Day,
            "WEEK" => QuotaPeriod::Week,
            "MONTH" => QuotaPeriod::Month,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            QuotaPeriod::Day => "DAY",
            QuotaPeriod::Week => "WEEK",
            QuotaPeriod::Month => "MONTH",
        }
    }
}

/// A token bucket: `rate_limit` requests per second, `burst_limit` the
/// bucket size. Zero means "not set" (see [`super::throttle`]).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Throttle {
    pub burst_limit: i64,
    pub rate_limit: f64,
}

/// `limit` requests per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quota {
    pub limit: i64,
    /// Requests subtracted from `limit` in the initial period (the period
    /// containing `since_day`), as the API model defines `offset`.
    pub offset: i64,
    pub period: QuotaPeriod,
    /// UTC day (days since 1970-01-01) the quota took effect.
    pub since_day: i64,
}

/// One API stage a plan grants access to, with per-method throttles keyed
/// `"{resourcePath}/{METHOD}"` (`"/pets/GET"`, root `"//GET"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiStage {
    pub api_id: String,
    pub stage: String,
    pub throttle: BTreeMap<String, Throttle>,
}

impl ApiStage {
    /// `"{apiId}:{stage}"`, the form patch operations and errors use.
    pub fn key(&self) -> String {
        format!("{}:{}", self.api_id, self.stage)
    }
}

/// A usage plan (CreateUsagePlan) and the keys added to it
/// (CreateUsagePlanKey).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsagePlan {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub api_stages: Vec<ApiStage>,
    pub throttle: Option<Throttle>,
    pub quota: Option<Quota>,
    pub product_code: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Ids of the API keys in the plan.
    pub keys: BTreeSet<String>,
}

impl UsagePlan {
    pub fn has_stage(&self, api_id: &str, stage: &str) -> bool {
        self.api_stages
            .iter()
            .any(|s| s.api_id == api_id && s.stage == stage)
    }
}

/// Every key and plan: what the management API edits as one unit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    pub keys: BTreeMap<String, ApiKey>,
    pub plans: BTreeMap<String, UsagePlan>,
}
