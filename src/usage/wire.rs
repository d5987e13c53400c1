//! API Gateway's JSON shapes for keys, plans, plan keys and usage
//! (camelCase, unset optional fields omitted as AWS omits them).

use serde_json::{Map, Value, json};

use super::model::{ApiKey, ApiStage, Quota, Throttle, UsagePlan};
use super::period::format_date;
use super::service::UsageReport;

fn put_opt(m: &mut Map<String, Value>, key: &str, v: &Option<String>) {
    if let Some(v) = v {
        m.insert(key.into(), v.clone().into());
    }
}

/// An ApiKey; `value` only on create or when asked for (`includeValue`).
pub fn api_key(k: &ApiKey, include_value: bool) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), k.id.clone().into());
    if include_value {
        m.insert("value".into(), k.value.clone().into());
    }
    put_opt(&mut m, "name", &k.name);
    put_opt(&mut m, "customerId", &k.customer_id);
    put_opt(&mut m, "description", &k.description);
    m.insert("enabled".into(), k.enabled.into());
    m.insert("createdDate".into(), k.created_date.into());
    m.insert("lastUpdatedDate".into(), k.last_updated_date.into());
    m.insert("stageKeys".into(), json!(k.stage_keys));
    if !k.tags.is_empty() {
        m.insert("tags".into(), json!(k.tags));
    }
    Value::Object(m)
}

/// What AWS answers for one resource read or updated on its own (Get,
/// Update): `tags` appears even when empty, unlike in Create and list
/// answers (recorded in LocalStack's AWS-validated TestUsagePlans).
pub fn with_tags(mut v: Value) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.entry("tags").or_insert_with(|| json!({}));
    }
    v
}

pub fn throttle(t: &Throttle) -> Value {
    json!({ "burstLimit": t.burst_limit, "rateLimit": t.rate_limit })
}

pub fn quota(q: &Quota) -> Value {
    json!({ "limit": q.limit, "offset": q.offset, "period": q.period.as_str() })
}

pub fn api_stage(s: &ApiStage) -> Value {
    let mut m = Map::new();
    m.insert("apiId".into(), s.api_id.clone().into());
    m.insert("stage".into(), s.stage.clone().into());
    if !s.throttle.is_empty() {
        let t: Map<String, Value> = s.throttle.iter().map(|(k, t)| (k.clone(), throttle(t))).collect();
        m.insert("throttle".into(), Value::Object(t));
    }
    Value::Object(m)
}

pub fn usage_plan(p: &UsagePlan) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), p.id.clone().into());
    m.insert("name".into(), p.name.clone().into());
    put_opt(&mut m, "description", &p.description);
    m.insert(
        "apiStages".into(),
        Value::Array(p.api_stages.iter().map(api_stage).collect()),
    );
    if let Some(t) = &p.throttle {
        m.insert("throttle".into(), throttle(t));
    }
    if let Some(q) = &p.quota {
        m.insert("quota".into(), quota(q));
    }
    put_opt(&mut m, "productCode", &p.product_code);
    if !p.tags.is_empty() {
        m.insert("tags".into(), json!(p.tags));
    }
    Value::Object(m)
}

/// A UsagePlanKey: the API key as a member of a plan.
pub fn usage_plan_key(k: &ApiKey) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), k.id.clone().into());
    m.insert("type".into(), "API_KEY".into());
    m.insert("value".into(), k.value.clone().into());
    put_opt(&mut m, "name", &k.name);
    Value::Object(m)
}

/// A Usage: `values` maps key ids to daily `[used, remaining]` pairs.
pub fn usage(r: &UsageReport) -> Value {
    let mut m = Map::new();
    m.insert("usagePlanId".into(), r.plan_id.clone().into());
    m.insert("startDate".into(), format_date(r.start).into());
    m.insert("endDate".into(), format_date(r.end).into());
    m.insert("values".into(), json!(r.values));
    if let Some(p) = &r.position {
        m.insert("position".into(), p.clone().into());
    }
    Value::Object(m)
}
