//! The management operations: API keys, usage plans, usage plan keys and
//! usage, with AWS's checks. Every change goes through
//! [`UsageService::edit`], so it is committed before anyone sees it and the
//! data-plane index follows at once.

use crate::apigw::paging;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::model::{ApiKey, ApiStage, Catalog, Quota, QuotaPeriod, Throttle, UsagePlan};
use super::period::{parse_date, period_start, today};
use super::service::{UsageService, key_not_found, plan_key_not_found, plan_not_found};
use super::throttle::check_method_key;
use super::wire;
use crate::apigw::error::{ApiGwError, ApiGwResult, ErrorCode};
use crate::apigw::model::{new_id, now_epoch};

type Svc = State<Arc<UsageService>>;
type Params = Query<HashMap<String, String>>;

fn parse<T: DeserializeOwned + Default>(body: &[u8]) -> ApiGwResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiGwError::new(ErrorCode::BadRequest, format!("Invalid request body: {e}")))
}

fn created(v: Value) -> Response {
    (StatusCode::CREATED, Json(v)).into_response()
}

/// `{item, position}`.
fn page(items: Vec<Value>, q: &HashMap<String, String>) -> ApiGwResult<Value> {
    let (start, limit) = paging(q)?;
    let total = items.len();
    let slice: Vec<Value> = items.into_iter().skip(start).take(limit).collect();
    let next = start + slice.len();
    let mut out = json!({ "item": slice });
    if next < total {
        out["position"] = next.to_string().into();
    }
    Ok(out)
}

fn flag(q: &HashMap<String, String>, name: &str) -> bool {
    q.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

// ---------------------------------------------------------------- patches

#[derive(Debug, Deserialize)]
struct PatchOperation {
    op: String,
    path: String,
    value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PatchBody {
    #[serde(default)]
    patch_operations: Vec<PatchOperation>,
}

impl PatchBody {
    fn checked(self, input: &str) -> ApiGwResult<PatchBody> {
        crate::apigw::patch::check_ops(self.patch_operations.iter().map(|o| o.op.as_str()), input)?;
        Ok(self)
    }
}

impl PatchOperation {
    fn value(&self) -> ApiGwResult<&str> {
        self.value.as_deref().ok_or_else(|| {
            ApiGwError::bad_request(format!(
                "Invalid patch operation: a value is required for {}",
                self.path
            ))
        })
    }

    fn number<T: FromStr>(&self) -> ApiGwResult<T> {
        let v = self.value()?;
        v.trim()
            .parse()
            .map_err(|_| ApiGwError::bad_request(format!("Invalid number '{v}' for {}", self.path)))
    }

    fn bool_value(&self) -> ApiGwResult<bool> {
        match self.value()? {
            "true" => Ok(true),
            "false" => Ok(false),
            v => Err(ApiGwError::bad_request(format!(
                "Invalid boolean value '{v}' for {}",
                self.path
            ))),
        }
    }

    fn is_set(&self) -> bool {
        self.op == "replace" || self.op == "add"
    }

    fn unsupported(&self) -> ApiGwError {
        ApiGwError::bad_request(format!(
            "Invalid patch path '{}' specified for op '{}'. Must be one of: [add, remove, replace] on a supported path",
            self.path, self.op
        ))
    }
}

/// Decodes a JSON-pointer segment (`~1` → `/`, `~0` → `~`).
fn unescape(s: &str) -> String {
    s.replace("~1", "/").replace("~0", "~")
}

// ---------------------------------------------------------------- API keys

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct StageKeyInput {
    rest_api_id: Option<String>,
    stage_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateApiKeyInput {
    name: Option<String>,
    description: Option<String>,
    enabled: Option<bool>,
    /// Deprecated; ids are always distinct from values here.
    #[allow(dead_code)]
    generate_distinct_id: Option<bool>,
    value: Option<String>,
    stage_keys: Option<Vec<StageKeyInput>>,
    customer_id: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

/// A value a caller chose: 20–128 printable ASCII characters, no commas
/// (it travels in the `x-api-key` header).
fn check_key_value(v: &str) -> ApiGwResult<()> {
    if v.chars().count() < 20 {
        return Err(ApiGwError::bad_request(
            "API Key value should be at least 20 characters",
        ));
    }
    if v.chars().count() > 128 {
        return Err(ApiGwError::bad_request(
            "API Key value should be at most 128 characters",
        ));
    }
    if !v.bytes().all(|b| b.is_ascii_graphic() && b != b',') {
        return Err(ApiGwError::bad_request(
            "API Key value may only contain printable ASCII characters other than commas",
        ));
    }
    Ok(())
}

/// A generated value: 40 characters of `[A-Za-z0-9]`, uniformly drawn.
fn generate_key_value() -> String {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(40);
    while out.len() < 40 {
        let bytes = uuid::Uuid::new_v4().into_bytes();
        // Bytes 6 and 8 carry the UUID version and variant bits.
        for (i, b) in bytes.into_iter().enumerate() {
            if i != 6 && i != 8 && b < 248 && out.len() < 40 {
                out.push(ALPHABET[usize::from(b % 62)] as char);
            }
        }
    }
    out
}

/// `"{restApiId}/{stageName}"` after checking the stage exists.
fn stage_key(svc: &UsageService, api: Option<&str>, stage: Option<&str>) -> ApiGwResult<String> {
    match (api, stage) {
        (Some(api), Some(stage)) if !api.is_empty() && !stage.is_empty() => {
            svc.stages().check_stage(api, stage)?;
            Ok(format!("{api}/{stage}"))
        }
        _ => Err(ApiGwError::bad_request(
            "Invalid stage key specified: restApiId and stageName are required",
        )),
    }
}

fn duplicate_value(c: &Catalog, value: &str) -> ApiGwResult<()> {
    if c.keys.values().any(|k| k.value == value) {
        Err(ApiGwError::conflict("API Key already exists"))
    } else {
        Ok(())
    }
}

pub async fn create_api_key(State(svc): Svc, Query(q): Params, body: Bytes) -> ApiGwResult<Response> {
    if q.get("mode").map(String::as_str) == Some("import") {
        return Err(ApiGwError::bad_request("ImportApiKeys is not supported"));
    }
    let input: CreateApiKeyInput = parse(&body)?;
    let value = match input.value {
        Some(v) => {
            check_key_value(&v)?;
            v
        }
        None => generate_key_value(),
    };
    let mut stage_keys = Vec::new();
    for sk in input.stage_keys.unwrap_or_default() {
        let k = stage_key(&svc, sk.rest_api_id.as_deref(), sk.stage_name.as_deref())?;
        if !stage_keys.contains(&k) {
            stage_keys.push(k);
        }
    }
    let now = now_epoch();
    let key = ApiKey {
        id: new_id(10),
        value,
        name: input.name,
        description: input.description,
        // AWS creates keys disabled unless asked otherwise.
        enabled: input.enabled.unwrap_or(false),
        customer_id: input.customer_id,
        created_date: now,
        last_updated_date: now,
        stage_keys,
        tags: input.tags.unwrap_or_default(),
    };
    svc.edit(|c| {
        duplicate_value(c, &key.value)?;
        c.keys.insert(key.id.clone(), key.clone());
        Ok(())
    })
    .await?;
    tracing::info!(api_key = %key.id, "api key created");
    Ok(created(wire::api_key(&key, true)))
}

pub async fn get_api_key(
    State(svc): Svc,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiGwResult<Json<Value>> {
    let c = svc.catalog();
    let k = c.keys.get(&id).ok_or_else(key_not_found)?;
    Ok(Json(wire::with_tags(wire::api_key(k, flag(&q, "includeValue")))))
}

pub async fn get_api_keys(State(svc): Svc, Query(q): Params) -> ApiGwResult<Json<Value>> {
    let c = svc.catalog();
    let name = q.get("name");
    let customer = q.get("customerId");
    let include = flag(&q, "includeValues");
    let mut keys: Vec<&ApiKey> = c
        .keys
        .values()
        .filter(|k| name.is_none_or(|n| k.name.as_deref().is_some_and(|kn| kn.starts_with(n.as_str()))))
        .filter(|k| customer.is_none_or(|cid| k.customer_id.as_ref() == Some(cid)))
        .collect();
    keys.sort_by(|a, b| a.created_date.cmp(&b.created_date).then(a.id.cmp(&b.id)));
    let items = keys.into_iter().map(|k| wire::api_key(k, include)).collect();
    Ok(Json(page(items, &q)?))
}

pub async fn update_api_key(
    State(svc): Svc,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiGwResult<Json<Value>> {
    let patch: PatchBody = parse::<PatchBody>(&body)?.checked("updateApiKeyInput")?;
    // Stage keys are checked against the APIs before the edit.
    let mut stage_adds = Vec::new();
    for op in &patch.patch_operations {
        if op.op == "add" && op.path == "/stages" {
            let v = op.value()?;
            let (api, stage) = v.split_once('/').unwrap_or((v, ""));
            stage_adds.push(stage_key(&svc, Some(api), Some(stage))?);
        }
    }
    let out = svc
        .edit(|c| {
            let k = c.keys.get_mut(&id).ok_or_else(key_not_found)?;
            let mut adds = stage_adds.into_iter();
            for op in &patch.patch_operations {
                match (op.op.as_str(), op.path.as_str()) {
                    ("replace", "/name") => k.name = Some(op.value()?.to_string()),
                    ("replace", "/description") => k.description = op.value.clone(),
                    ("replace", "/enabled") => k.enabled = op.bool_value()?,
                    ("replace", "/customerId") => k.customer_id = op.value.clone(),
                    ("add", "/stages") => {
                        if let Some(sk) = adds.next()
                            && !k.stage_keys.contains(&sk)
                        {
                            k.stage_keys.push(sk);
                        }
                    }
                    ("remove", "/stages") => {
                        let v = op.value()?;
                        k.stage_keys.retain(|s| s != v);
                    }
                    _ => return Err(op.unsupported()),
                }
            }
            k.last_updated_date = now_epoch();
            Ok(wire::with_tags(wire::api_key(k, false)))
        })
        .await?;
    Ok(Json(out))
}

pub async fn delete_api_key(State(svc): Svc, Path(id): Path<String>) -> ApiGwResult<StatusCode> {
    svc.edit(|c| {
        c.keys.remove(&id).ok_or_else(key_not_found)?;
        for p in c.plans.values_mut() {
            p.keys.remove(&id);
        }
        Ok(())
    })
    .await?;
    Ok(StatusCode::ACCEPTED)
}

// ---------------------------------------------------------------- usage plans

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "camelCase")]
struct ThrottleInput {
    burst_limit: Option<i64>,
    rate_limit: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct QuotaInput {
    limit: Option<i64>,
    offset: Option<i64>,
    period: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ApiStageInput {
    api_id: Option<String>,
    stage: Option<String>,
    throttle: Option<BTreeMap<String, ThrottleInput>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateUsagePlanInput {
    name: Option<String>,
    description: Option<String>,
    api_stages: Option<Vec<ApiStageInput>>,
    throttle: Option<ThrottleInput>,
    quota: Option<QuotaInput>,
    tags: Option<BTreeMap<String, String>>,
}

fn check_throttle(t: Throttle) -> ApiGwResult<Throttle> {
    if !(0..=i64::from(i32::MAX)).contains(&t.burst_limit) {
        return Err(ApiGwError::bad_request(
            "Invalid throttle: burstLimit must be between 0 and 2147483647",
        ));
    }
    if !(t.rate_limit >= 0.0 && t.rate_limit.is_finite()) {
        return Err(ApiGwError::bad_request(
            "Invalid throttle: rateLimit must be a non-negative number",
        ));
    }
    Ok(t)
}

fn throttle_of(t: ThrottleInput) -> ApiGwResult<Throttle> {
    check_throttle(Throttle {
        burst_limit: t.burst_limit.unwrap_or(0),
        rate_limit: t.rate_limit.unwrap_or(0.0),
    })
}

fn check_quota(q: &Quota) -> ApiGwResult<()> {
    if !(0..=i64::from(i32::MAX)).contains(&q.limit) {
        return Err(ApiGwError::bad_request(
            "Invalid quota: limit must be between 0 and 2147483647",
        ));
    }
    if !(0..=q.limit).contains(&q.offset) {
        return Err(ApiGwError::bad_request(
            "Invalid quota: offset must be between 0 and the quota limit",
        ));
    }
    Ok(())
}

fn period_of(s: &str, field: &str) -> ApiGwResult<QuotaPeriod> {
    QuotaPeriod::parse(s).ok_or_else(|| ApiGwError::enum_value(s, field, QuotaPeriod::NAMES))
}

fn quota_of(q: QuotaInput) -> ApiGwResult<Quota> {
    let period = match q.period.as_deref() {
        Some(p) => period_of(p, "createUsagePlanInput.quota.period")?,
        None => return Err(missing_period()),
    };
    let quota = Quota {
        limit: q.limit.unwrap_or(0),
        offset: q.offset.unwrap_or(0),
        period,
        since_day: today(),
    };
    check_quota(&quota)?;
    Ok(quota)
}

fn missing_period() -> ApiGwError {
    ApiGwError::bad_request("Invalid quota: period must be one of DAY, WEEK or MONTH")
}

fn method_throttles(m: BTreeMap<String, ThrottleInput>) -> ApiGwResult<BTreeMap<String, Throttle>> {
    m.into_iter()
        .map(|(k, t)| {
            check_method_key(&k).map_err(ApiGwError::bad_request)?;
            Ok((k, throttle_of(t)?))
        })
        .collect()
}

fn api_stage_of(svc: &UsageService, s: ApiStageInput) -> ApiGwResult<ApiStage> {
    let (Some(api_id), Some(stage)) = (s.api_id, s.stage) else {
        return Err(ApiGwError::bad_request("Invalid API Stage specified"));
    };
    svc.stages().check_stage(&api_id, &stage)?;
    Ok(ApiStage {
        api_id,
        stage,
        throttle: method_throttles(s.throttle.unwrap_or_default())?,
    })
}

fn push_stage(p: &mut UsagePlan, s: ApiStage) -> ApiGwResult<()> {
    if p.has_stage(&s.api_id, &s.stage) {
        return Err(ApiGwError::conflict(format!(
            "API Stage {} is already associated with usage plan {}",
            s.key(),
            p.id
        )));
    }
    p.api_stages.push(s);
    Ok(())
}

/// AWS's rule: a key is in at most one plan per API stage.
fn check_key_stages(c: &Catalog, plan: &UsagePlan, key_id: &str) -> ApiGwResult<()> {
    for other in c
        .plans
        .values()
        .filter(|o| o.id != plan.id && o.keys.contains(key_id))
    {
        if let Some(s) = plan
            .api_stages
            .iter()
            .find(|s| other.has_stage(&s.api_id, &s.stage))
        {
            return Err(ApiGwError::bad_request(format!(
                "Usage Plan {} cannot be added because API Key {key_id} cannot reference multiple Usage Plans with the same API Stage: {}",
                plan.id,
                s.key()
            )));
        }
    }
    Ok(())
}

pub async fn create_usage_plan(State(svc): Svc, body: Bytes) -> ApiGwResult<Response> {
    let input: CreateUsagePlanInput = parse(&body)?;
    let name = input
        .name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ApiGwError::bad_request("Invalid Usage Plan name specified"))?;
    let mut plan = UsagePlan {
        id: new_id(6),
        name,
        description: input.description,
        api_stages: Vec::new(),
        throttle: input.throttle.map(throttle_of).transpose()?,
        quota: input.quota.map(quota_of).transpose()?,
        product_code: None,
        tags: input.tags.unwrap_or_default(),
        keys: Default::default(),
    };
    for s in input.api_stages.unwrap_or_default() {
        push_stage(&mut plan, api_stage_of(&svc, s)?)?;
    }
    svc.edit(|c| {
        c.plans.insert(plan.id.clone(), plan.clone());
        Ok(())
    })
    .await?;
    tracing::info!(usage_plan = %plan.id, name = %plan.name, "usage plan created");
    Ok(created(wire::usage_plan(&plan)))
}

pub async fn get_usage_plan(State(svc): Svc, Path(id): Path<String>) -> ApiGwResult<Json<Value>> {
    let c = svc.catalog();
    Ok(Json(wire::with_tags(wire::usage_plan(
        c.plans.get(&id).ok_or_else(plan_not_found)?,
    ))))
}

pub async fn get_usage_plans(State(svc): Svc, Query(q): Params) -> ApiGwResult<Json<Value>> {
    let c = svc.catalog();
    let key = q.get("keyId");
    let items = c
        .plans
        .values()
        .filter(|p| key.is_none_or(|k| p.keys.contains(k)))
        .map(wire::usage_plan)
        .collect();
    Ok(Json(page(items, &q)?))
}

/// `"{apiId}:{stage}"` → the index of that stage in the plan.
fn stage_index(p: &UsagePlan, stage_ref: &str) -> ApiGwResult<usize> {
    let (api, stage) = stage_ref
        .split_once(':')
        .filter(|(api, stage)| !api.is_empty() && !stage.is_empty() && !stage.contains(':'))
        .ok_or_else(|| ApiGwError::bad_request("Invalid API Stage specified"))?;
    p.api_stages
        .iter()
        .position(|s| s.api_id == api && s.stage == stage)
        .ok_or_else(|| {
            ApiGwError::not_found(format!(
                "Invalid API Stage {{api: {api}, stage: {stage}}} specified for usageplan {}",
                p.id
            ))
        })
}

/// `/apiStages/{apiId}:{stage}/throttle[/{resourcePath}/{method}[/rateLimit|/burstLimit]]`;
/// the resource path may be raw (`/pets`) or escaped (`~1pets`).
fn apply_stage_throttle(p: &mut UsagePlan, op: &PatchOperation) -> ApiGwResult<()> {
    let path = op.path.trim();
    let rest = path.strip_prefix("/apiStages/").ok_or_else(|| op.unsupported())?;
    let (stage_ref, rest) = rest.split_once('/').ok_or_else(|| op.unsupported())?;
    let i = stage_index(p, stage_ref)?;
    let throttles = &mut p.api_stages[i].throttle;
    let rest = rest.strip_prefix("throttle").ok_or_else(|| op.unsupported())?;
    if rest.is_empty() {
        return match op.op.as_str() {
            "remove" => {
                throttles.clear();
                Ok(())
            }
            "add" | "replace" => {
                let map: BTreeMap<String, ThrottleInput> = serde_json::from_str(op.value()?)
                    .map_err(|e| ApiGwError::bad_request(format!("Invalid throttle map: {e}")))?;
                *throttles = method_throttles(map)?;
                Ok(())
            }
            _ => Err(op.unsupported()),
        };
    }
    let rest = rest.strip_prefix('/').ok_or_else(|| op.unsupported())?;
    let (spec, field) = match (rest.strip_suffix("/rateLimit"), rest.strip_suffix("/burstLimit")) {
        (Some(s), _) => (s, Some("rateLimit")),
        (_, Some(s)) => (s, Some("burstLimit")),
        _ => (rest, None),
    };
    let spec = unescape(spec);
    let key = if spec.starts_with('/') {
        spec
    } else {
        format!("/{spec}")
    };
    check_method_key(&key).map_err(ApiGwError::bad_request)?;
    match (op.op.as_str(), field) {
        ("remove", None) => {
            throttles.remove(&key);
        }
        ("add" | "replace", None) => {
            let t: ThrottleInput = serde_json::from_str(op.value()?)
                .map_err(|e| ApiGwError::bad_request(format!("Invalid throttle: {e}")))?;
            throttles.insert(key, throttle_of(t)?);
        }
        ("add" | "replace", Some(f)) => {
            let t = throttles.entry(key).or_default();
            if f == "rateLimit" {
                t.rate_limit = op.number()?;
            } else {
                t.burst_limit = op.number()?;
            }
            check_throttle(*t)?;
        }
        _ => return Err(op.unsupported()),
    }
    Ok(())
}

/// The plan's quota, created (to be completed by the patch) if absent.
fn quota_mut<'a>(p: &'a mut UsagePlan, new_quota: &mut Option<bool>) -> &'a mut Quota {
    if p.quota.is_none() {
        *new_quota = Some(false);
    }
    p.quota.get_or_insert(Quota {
        limit: 0,
        offset: 0,
        period: QuotaPeriod::Month,
        since_day: today(),
    })
}

/// Applies one UpdateUsagePlan operation. `new_quota` tracks whether this
/// patch created the quota (then it must also set its period).
fn apply_plan_op(
    svc: &UsageService,
    p: &mut UsagePlan,
    op: &PatchOperation,
    new_quota: &mut Option<bool>,
) -> ApiGwResult<()> {
    match (op.op.as_str(), op.path.as_str()) {
        ("replace", "/name") => {
            let v = op.value()?;
            if v.trim().is_empty() {
                return Err(ApiGwError::bad_request("Invalid Usage Plan name specified"));
            }
            p.name = v.to_string();
        }
        ("replace", "/description") => p.description = op.value.clone(),
        ("replace", "/productCode") => p.product_code = op.value.clone(),
        (_, "/throttle/burstLimit") if op.is_set() => {
            let t = p.throttle.get_or_insert_default();
            t.burst_limit = op.number()?;
            check_throttle(*t)?;
        }
        (_, "/throttle/rateLimit") if op.is_set() => {
            let t = p.throttle.get_or_insert_default();
            t.rate_limit = op.number()?;
            check_throttle(*t)?;
        }
        ("remove", "/throttle") => p.throttle = None,
        (_, "/quota/limit") if op.is_set() => quota_mut(p, new_quota).limit = op.number()?,
        (_, "/quota/offset") if op.is_set() => quota_mut(p, new_quota).offset = op.number()?,
        (_, "/quota/period") if op.is_set() => {
            let period = period_of(op.value()?, "updateUsagePlanInput.quota.period")?;
            let q = quota_mut(p, new_quota);
            if q.period != period {
                q.period = period;
                q.since_day = today();
            }
            if let Some(set) = new_quota.as_mut() {
                *set = true;
            }
        }
        ("remove", "/quota") => p.quota = None,
        ("add", "/apiStages") => {
            let v = op.value()?;
            let (api, stage) = v.split_once(':').unwrap_or((v, ""));
            let s = api_stage_of(
                svc,
                ApiStageInput {
                    api_id: Some(api.to_string()),
                    stage: Some(stage.to_string()),
                    throttle: None,
                },
            )?;
            push_stage(p, s)?;
        }
        ("remove", "/apiStages") => {
            let i = stage_index(p, op.value.as_deref().unwrap_or_default())?;
            p.api_stages.remove(i);
        }
        (_, path) if path.starts_with("/apiStages/") => apply_stage_throttle(p, op)?,
        _ => return Err(op.unsupported()),
    }
    Ok(())
}

pub async fn update_usage_plan(
    State(svc): Svc,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiGwResult<Json<Value>> {
    let patch: PatchBody = parse::<PatchBody>(&body)?.checked("updateUsagePlanInput")?;
    let out = svc
        .edit(|c| {
            let mut p = c.plans.get(&id).cloned().ok_or_else(plan_not_found)?;
            let mut new_quota = None;
            for op in &patch.patch_operations {
                apply_plan_op(&svc, &mut p, op, &mut new_quota)?;
            }
            if new_quota == Some(false) {
                return Err(missing_period());
            }
            if let Some(q) = &p.quota {
                check_quota(q)?;
            }
            for k in &p.keys {
                check_key_stages(c, &p, k)?;
            }
            let v = wire::with_tags(wire::usage_plan(&p));
            c.plans.insert(id.clone(), p);
            Ok(v)
        })
        .await?;
    Ok(Json(out))
}

pub async fn delete_usage_plan(State(svc): Svc, Path(id): Path<String>) -> ApiGwResult<StatusCode> {
    svc.edit(|c| c.plans.remove(&id).map(|_| ()).ok_or_else(plan_not_found))
        .await?;
    Ok(StatusCode::ACCEPTED)
}

// ---------------------------------------------------------------- usage plan keys

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateUsagePlanKeyInput {
    key_id: Option<String>,
    key_type: Option<String>,
}

pub async fn create_usage_plan_key(
    State(svc): Svc,
    Path(plan): Path<String>,
    body: Bytes,
) -> ApiGwResult<Response> {
    let input: CreateUsagePlanKeyInput = parse(&body)?;
    match input.key_type.as_deref() {
        Some("API_KEY") => {}
        Some(t) => {
            return Err(ApiGwError::bad_request(format!(
                "Invalid key type specified: {t}. The only valid key type is API_KEY"
            )));
        }
        None => return Err(ApiGwError::bad_request("Invalid key type specified")),
    }
    let key_id = input
        .key_id
        .ok_or_else(|| ApiGwError::bad_request("Invalid API Key identifier specified"))?;
    let out = svc
        .edit(|c| {
            let p = c.plans.get(&plan).ok_or_else(plan_not_found)?;
            let k = c.keys.get(&key_id).ok_or_else(key_not_found)?;
            if p.keys.contains(&key_id) {
                return Err(ApiGwError::conflict("Usage Plan Key already exists"));
            }
            check_key_stages(c, p, &key_id)?;
            let v = wire::usage_plan_key(k);
            if let Some(p) = c.plans.get_mut(&plan) {
                p.keys.insert(key_id.clone());
            }
            Ok(v)
        })
        .await?;
    Ok(created(out))
}

pub async fn get_usage_plan_keys(
    State(svc): Svc,
    Path(plan): Path<String>,
    Query(q): Params,
) -> ApiGwResult<Json<Value>> {
    let c = svc.catalog();
    // AWS lists no keys, rather than refusing, for a plan it does not know.
    let Some(p) = c.plans.get(&plan) else {
        return Ok(Json(page(Vec::new(), &q)?));
    };
    let name = q.get("name");
    let items = p
        .keys
        .iter()
        .filter_map(|id| c.keys.get(id))
        .filter(|k| name.is_none_or(|n| k.name.as_deref().is_some_and(|kn| kn.starts_with(n.as_str()))))
        .map(wire::usage_plan_key)
        .collect();
    Ok(Json(page(items, &q)?))
}

pub async fn get_usage_plan_key(
    State(svc): Svc,
    Path((plan, key)): Path<(String, String)>,
) -> ApiGwResult<Json<Value>> {
    let c = svc.catalog();
    let p = c.plans.get(&plan).ok_or_else(plan_not_found)?;
    let k = p
        .keys
        .contains(&key)
        .then(|| c.keys.get(&key))
        .flatten()
        .ok_or_else(plan_key_not_found)?;
    Ok(Json(wire::usage_plan_key(k)))
}

pub async fn delete_usage_plan_key(
    State(svc): Svc,
    Path((plan, key)): Path<(String, String)>,
) -> ApiGwResult<StatusCode> {
    svc.edit(|c| {
        let p = c.plans.get_mut(&plan).ok_or_else(plan_not_found)?;
        if p.keys.remove(&key) {
            Ok(())
        } else {
            Err(plan_key_not_found())
        }
    })
    .await?;
    Ok(StatusCode::ACCEPTED)
}

// ---------------------------------------------------------------- usage

/// The longest GetUsage range, in days.
const MAX_USAGE_DAYS: i64 = 731;

fn date_param(q: &HashMap<String, String>, name: &str) -> ApiGwResult<i64> {
    let v = q
        .get(name)
        .ok_or_else(|| ApiGwError::bad_request(format!("Invalid {name}: a date (YYYY-MM-DD) is required")))?;
    parse_date(v).ok_or_else(|| ApiGwError::bad_request(format!("Invalid {name} '{v}': expected YYYY-MM-DD")))
}

pub async fn get_usage(
    State(svc): Svc,
    Path(plan): Path<String>,
    Query(q): Params,
) -> ApiGwResult<Json<Value>> {
    let start = date_param(&q, "startDate")?;
    let end = date_param(&q, "endDate")?;
    if end < start {
        return Err(ApiGwError::bad_request(
            "The end date must not be before the start date",
        ));
    }
    if end - start >= MAX_USAGE_DAYS {
        return Err(ApiGwError::bad_request(format!(
            "The date range must not exceed {MAX_USAGE_DAYS} days"
        )));
    }
    let (position, limit) = paging(&q)?;
    let key = q.get("keyId").map(String::as_str);
    let report = svc.usage(&plan, key, start, end, position, limit)?;
    Ok(Json(wire::usage(&report)))
}

pub async fn update_usage(
    State(svc): Svc,
    Path((plan, key)): Path<(String, String)>,
    body: Bytes,
) -> ApiGwResult<Json<Value>> {
    let patch: PatchBody = parse::<PatchBody>(&body)?.checked("updateUsageInput")?;
    let mut remaining = None;
    for op in &patch.patch_operations {
        match (op.op.as_str(), op.path.as_str()) {
            ("replace", "/remaining") => remaining = Some(op.number::<u64>()?),
            _ => return Err(op.unsupported()),
        }
    }
    if !svc.catalog().keys.contains_key(&key) {
        return Err(key_not_found());
    }
    if let Some(n) = remaining {
        svc.set_remaining(&plan, &key, n).await?;
    }
    let c = svc.catalog();
    let p = c.plans.get(&plan).ok_or_else(plan_not_found)?;
    let day = today();
    let start = p.quota.map_or(day, |q| period_start(q.period, day));
    let report = svc.usage(&plan, Some(&key), start, day, 0, 1)?;
    Ok(Json(wire::usage(&report)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_values_are_40_alphanumerics() {
        let a = generate_key_value();
        assert_eq!(a.len(), 40);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, generate_key_value());
        assert!(check_key_value(&a).is_ok());
    }

    #[test]
    fn given_values_are_checked() {
        assert!(check_key_value("short").is_err());
        assert!(check_key_value(&"x".repeat(129)).is_err());
        assert!(check_key_value("has a space in it 123456").is_err());
        assert!(check_key_value("comma,separated,values,x").is_err());
        assert!(check_key_value("01234567890123456789").is_ok());
    }
}
