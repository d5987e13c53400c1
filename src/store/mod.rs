//! Durable state under `--data-dir`.
//!
//! Metadata (function configurations, versions, aliases, concurrency) lives in
//! one SQLite database (`portico.db`, WAL, `synchronous=FULL`): every change
//! is one transaction, so a crash leaves either the old or the new state.
//! SQLite was picked over redb because it is the most battle-tested embedded
//! transactional store there is, it is inspectable with the `sqlite3` shell
//! when something goes wrong, and the API Gateway model that comes next is
//! relational (apis -> resources -> methods). Code lives beside it in
//! [`blobs`], content-addressed by SHA-256.

pub mod blobs;

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::apigw::model::RestApi;
use crate::function::FunctionRecord;

/// Errors from the store; all are server-side faults except `Conflict`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("corrupt record for {0}: {1}")]
    Corrupt(String, serde_json::Error),
    #[error("already exists")]
    Conflict,
    #[error("io error: {0}")]
    Io(#[from] std::io::Error),
}

/// The metadata database.
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir)?;
        let conn = Connection::open(data_dir.join("portico.db"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS functions (
                name TEXT PRIMARY KEY NOT NULL,
                record TEXT NOT NULL
            );
            CREATE TABLE IF NOT EXISTS rest_apis (
                id TEXT PRIMARY KEY NOT NULL,
                record TEXT NOT NULL
            );
            CREATE TABLE IF NOT EXISTS deployments (
                api_id TEXT NOT NULL,
                id TEXT NOT NULL,
                record TEXT NOT NULL,
                PRIMARY KEY (api_id, id)
            );
            CREATE TABLE IF NOT EXISTS settings (
                name TEXT PRIMARY KEY NOT NULL,
                record TEXT NOT NULL
            );",
        )?;
        conn.execute_batch(USAGE_TABLES)?;
        conn.execute_batch(IAM_TABLES)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-written row
        // (transactions roll back on drop), so a poisoned lock is safe to reuse.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn all_functions(&self) -> Result<Vec<FunctionRecord>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT name, record FROM functions ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (name, json) = row?;
            out.push(serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(name, e))?);
        }
        Ok(out)
    }

    pub fn get_function(&self, name: &str) -> Result<Option<FunctionRecord>, StoreError> {
        let conn = self.lock();
        read(&conn, name)
    }

    /// Inserts a new function; `Conflict` if the name is taken.
    pub fn create_function(&self, record: &FunctionRecord) -> Result<(), StoreError> {
        let json = encode(record);
        let conn = self.lock();
        let n = conn.execute(
            "INSERT OR IGNORE INTO functions (name, record) VALUES (?1, ?2)",
            params![record.latest.name, json],
        )?;
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        Ok(())
    }

    /// Read-modify-write of one function in a single transaction. `edit`
    /// returns `Ok(None)` when the function does not exist.
    pub fn update_function<T, E>(
        &self,
        name: &str,
        edit: impl FnOnce(&mut FunctionRecord) -> Result<T, E>,
    ) -> Result<Option<Result<T, E>>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let Some(mut record) = read(&tx, name)? else {
            return Ok(None);
        };
        let result = edit(&mut record);
        if result.is_ok() {
            tx.execute(
                "UPDATE functions SET record = ?2 WHERE name = ?1",
                params![name, encode(&record)],
            )?;
            tx.commit()?;
        }
        Ok(Some(result))
    }

    /// Deletes a function; returns whether it existed.
    pub fn delete_function(&self, name: &str) -> Result<bool, StoreError> {
        let conn = self.lock();
        Ok(conn.execute("DELETE FROM functions WHERE name = ?1", params![name])? > 0)
    }
}

/// REST APIs: one document per API (`rest_apis`) and one row per deployment
/// (`deployments`). A deployment is an immutable snapshot of the whole API, so
/// it is written once, when created (or when its description changes), not
/// again with every later edit of the API: keeping the snapshots inside the
/// document made each change cost as much as the whole deployment history.
impl Store {
    /// Every REST API with its deployments. Documents from before deployments
    /// had their own table still hold them inline; they are moved over here.
    pub fn all_rest_apis(&self) -> Result<Vec<RestApi>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut apis: Vec<RestApi> = Vec::new();
        {
            let mut stmt = tx.prepare("SELECT id, record FROM rest_apis ORDER BY id")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (id, json) = row?;
                apis.push(serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(id, e))?);
            }
        }
        let mut migrated = false;
        for api in apis.iter().filter(|a| !a.deployments.is_empty()) {
            write_rest_api(&tx, api, None)?;
            migrated = true;
        }
        {
            let mut stmt = tx.prepare("SELECT api_id, id, record FROM deployments")?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?;
            for row in rows {
                let (api_id, id, json) = row?;
                let Some(api) = apis.iter_mut().find(|a| a.id == api_id) else {
                    continue;
                };
                let deployment = serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("{api_id}/{id}"), e))?;
                api.deployments.entry(id).or_insert_with(|| Arc::new(deployment));
            }
        }
        if migrated {
            tx.commit()?;
        }
        Ok(apis)
    }

    /// Writes a REST API in one transaction: its document, and the
    /// deployments that are not `previous`'s (compared by identity: they are
    /// shared, never edited in place), deleting those it no longer has.
    pub fn put_rest_api(&self, api: &RestApi, previous: Option<&RestApi>) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        write_rest_api(&tx, api, previous)?;
        tx.commit()?;
        Ok(())
    }

    pub fn delete_rest_api(&self, id: &str) -> Result<bool, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existed = tx.execute("DELETE FROM rest_apis WHERE id = ?1", params![id])? > 0;
        tx.execute("DELETE FROM deployments WHERE api_id = ?1", params![id])?;
        tx.commit()?;
        Ok(existed)
    }
}

fn write_rest_api(conn: &Connection, api: &RestApi, previous: Option<&RestApi>) -> Result<(), StoreError> {
    // Plain data with string keys: serialising cannot fail.
    let json = serde_json::to_string(api).unwrap_or_default();
    conn.execute(
        "INSERT INTO rest_apis (id, record) VALUES (?1, ?2)
         ON CONFLICT(id) DO UPDATE SET record = excluded.record",
        params![api.id, json],
    )?;
    let before = previous.map(|p| &p.deployments);
    for (id, deployment) in &api.deployments {
        let unchanged = before
            .and_then(|b| b.get(id))
            .is_some_and(|old| Arc::ptr_eq(old, deployment));
        if !unchanged {
            conn.execute(
                "INSERT INTO deployments (api_id, id, record) VALUES (?1, ?2, ?3)
                 ON CONFLICT(api_id, id) DO UPDATE SET record = excluded.record",
                params![
                    api.id,
                    id,
                    serde_json::to_string(&**deployment).unwrap_or_default()
                ],
            )?;
        }
    }
    for id in before.into_iter().flat_map(|b| b.keys()) {
        if !api.deployments.contains_key(id) {
            conn.execute(
                "DELETE FROM deployments WHERE api_id = ?1 AND id = ?2",
                params![api.id, id],
            )?;
        }
    }
    Ok(())
}

fn read(conn: &Connection, name: &str) -> Result<Option<FunctionRecord>, StoreError> {
    let json: Option<String> = conn
        .query_row(
            "SELECT record FROM functions WHERE name = ?1",
            params![name],
            |r| r.get(0),
        )
        .optional()?;
    json.map(|j| serde_json::from_str(&j).map_err(|e| StoreError::Corrupt(name.to_string(), e)))
        .transpose()
}

fn encode(record: &FunctionRecord) -> String {
    // Serialising plain data structs with string keys cannot fail.
    serde_json::to_string(record).unwrap_or_default()
}

// ---------------------------------------------------------------- API keys and usage plans

/// API keys and usage plans (JSON documents like the other tables), request
/// counts per (plan, key, UTC day) written behind by `usage::UsageService`,
/// and UpdateUsage's per-period adjustments.
const USAGE_TABLES: &str = "CREATE TABLE IF NOT EXISTS api_keys (
        id TEXT PRIMARY KEY NOT NULL,
        record TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS usage_plans (
        id TEXT PRIMARY KEY NOT NULL,
        record TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS usage_days (
        plan_id TEXT NOT NULL,
        key_id TEXT NOT NULL,
        day INTEGER NOT NULL,
        used INTEGER NOT NULL,
        PRIMARY KEY (plan_id, key_id, day)
    );
    CREATE TABLE IF NOT EXISTS usage_adjustments (
        plan_id TEXT NOT NULL,
        key_id TEXT NOT NULL,
        period_start INTEGER NOT NULL,
        adjustment INTEGER NOT NULL,
        PRIMARY KEY (plan_id, key_id, period_start)
    );";

/// One change to API keys and usage plans, written in one transaction.
#[derive(Default)]
pub struct UsageChange<'a> {
    pub put_keys: Vec<&'a crate::usage::model::ApiKey>,
    pub delete_keys: Vec<&'a str>,
    pub put_plans: Vec<&'a crate::usage::model::UsagePlan>,
    pub delete_plans: Vec<&'a str>,
    /// (plan, key) pairs whose counts and adjustments go.
    pub drop_usage: Vec<(&'a str, &'a str)>,
}

/// Requests of one key in one plan on one UTC day (days since 1970-01-01).
pub struct UsageDay<'a> {
    pub plan_id: &'a str,
    pub key_id: &'a str,
    pub day: i64,
    pub used: u64,
}

impl Store {
    /// Every API key and usage plan.
    pub fn usage_catalog(
        &self,
    ) -> Result<
        (
            Vec<crate::usage::model::ApiKey>,
            Vec<crate::usage::model::UsagePlan>,
        ),
        StoreError,
    > {
        let conn = self.lock();
        Ok((
            read_documents(&conn, "SELECT id, record FROM api_keys ORDER BY id")?,
            read_documents(&conn, "SELECT id, record FROM usage_plans ORDER BY id")?,
        ))
    }

    pub fn commit_usage(&self, change: &UsageChange<'_>) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for k in &change.put_keys {
            tx.execute(
                "INSERT INTO api_keys (id, record) VALUES (?1, ?2)
                 ON CONFLICT(id) DO UPDATE SET record = excluded.record",
                params![k.id, serde_json::to_string(k).unwrap_or_default()],
            )?;
        }
        for id in &change.delete_keys {
            tx.execute("DELETE FROM api_keys WHERE id = ?1", params![id])?;
        }
        for p in &change.put_plans {
            tx.execute(
                "INSERT INTO usage_plans (id, record) VALUES (?1, ?2)
                 ON CONFLICT(id) DO UPDATE SET record = excluded.record",
                params![p.id, serde_json::to_string(p).unwrap_or_default()],
            )?;
        }
        for id in &change.delete_plans {
            tx.execute("DELETE FROM usage_plans WHERE id = ?1", params![id])?;
        }
        for (plan, key) in &change.drop_usage {
            tx.execute(
                "DELETE FROM usage_days WHERE plan_id = ?1 AND key_id = ?2",
                params![plan, key],
            )?;
            tx.execute(
                "DELETE FROM usage_adjustments WHERE plan_id = ?1 AND key_id = ?2",
                params![plan, key],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Writes day counts (absolute values) in one transaction.
    pub fn put_usage_days(&self, rows: &[UsageDay<'_>]) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO usage_days (plan_id, key_id, day, used) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(plan_id, key_id, day) DO UPDATE SET used = excluded.used",
            )?;
            for r in rows {
                stmt.execute(params![r.plan_id, r.key_id, r.day, r.used as i64])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// `(key, day, used)` for a plan (or one of its keys), days `from..=to`.
    pub fn usage_days(
        &self,
        plan_id: &str,
        key_id: Option<&str>,
        from: i64,
        to: i64,
    ) -> Result<Vec<(String, i64, u64)>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT key_id, day, used FROM usage_days
             WHERE plan_id = ?1 AND (?2 IS NULL OR key_id = ?2) AND day BETWEEN ?3 AND ?4
             ORDER BY key_id, day",
        )?;
        let rows = stmt.query_map(params![plan_id, key_id, from, to], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?.max(0) as u64,
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// UpdateUsage's adjustment of a key's limit in the period starting on
    /// `period_start` (0 if none).
    pub fn usage_adjustment(
        &self,
        plan_id: &str,
        key_id: &str,
        period_start: i64,
    ) -> Result<i64, StoreError> {
        let conn = self.lock();
        Ok(conn
            .query_row(
                "SELECT adjustment FROM usage_adjustments
                 WHERE plan_id = ?1 AND key_id = ?2 AND period_start = ?3",
                params![plan_id, key_id, period_start],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }

    /// Every `(period_start, adjustment)` of a key in a plan.
    pub fn usage_adjustments(&self, plan_id: &str, key_id: &str) -> Result<Vec<(i64, i64)>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT period_start, adjustment FROM usage_adjustments WHERE plan_id = ?1 AND key_id = ?2",
        )?;
        let rows = stmt.query_map(params![plan_id, key_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn put_usage_adjustment(
        &self,
        plan_id: &str,
        key_id: &str,
        period_start: i64,
        adjustment: i64,
    ) -> Result<(), StoreError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO usage_adjustments (plan_id, key_id, period_start, adjustment) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(plan_id, key_id, period_start) DO UPDATE SET adjustment = excluded.adjustment",
            params![plan_id, key_id, period_start, adjustment],
        )?;
        Ok(())
    }
}

/// Decodes `(id, JSON record)` rows.
fn read_documents<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    sql: &str,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, json) = row?;
        out.push(serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(id, e))?);
    }
    Ok(out)
}

impl Store {
    /// A setting of the whole gateway (one JSON record by name, e.g. the
    /// API Gateway `account`), if it was ever written.
    pub fn setting<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<Option<T>, StoreError> {
        let conn = self.lock();
        let json: Option<String> = conn
            .query_row(
                "SELECT record FROM settings WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| StoreError::Corrupt(name.to_string(), e)))
            .transpose()
    }

    /// Writes a setting (insert or replace) in one statement.
    pub fn put_setting<T: serde::Serialize>(&self, name: &str, value: &T) -> Result<(), StoreError> {
        let json = serde_json::to_string(value).map_err(|e| StoreError::Corrupt(name.to_string(), e))?;
        let conn = self.lock();
        conn.execute(
            "INSERT INTO settings (name, record) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET record = excluded.record",
            params![name, json],
        )?;
        Ok(())
    }
}

/// IAM users, one JSON record each (identity, inline policies, access keys),
/// keyed by the lower-cased user name.
const IAM_TABLES: &str = "CREATE TABLE IF NOT EXISTS iam_users (
        name TEXT PRIMARY KEY NOT NULL,
        record TEXT NOT NULL
    );";

impl Store {
    pub fn all_iam_users(&self) -> Result<Vec<crate::iam::UserRecord>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT name, record FROM iam_users ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (name, json) = row?;
            out.push(serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(name, e))?);
        }
        Ok(out)
    }

    /// Writes a user (insert or replace) in one statement.
    pub fn put_iam_user(&self, user: &crate::iam::UserRecord) -> Result<(), StoreError> {
        // Serialising a plain struct with string keys cannot fail.
        let json = serde_json::to_string(user).unwrap_or_default();
        let conn = self.lock();
        conn.execute(
            "INSERT INTO iam_users (name, record) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET record = excluded.record",
            params![user.key(), json],
        )?;
        Ok(())
    }

    /// Deletes a user by its key; returns whether it existed.
    pub fn delete_iam_user(&self, key: &str) -> Result<bool, StoreError> {
        let conn = self.lock();
        Ok(conn.execute("DELETE FROM iam_users WHERE name = ?1", params![key])? > 0)
    }
}

#[cfg(test)]
mod rest_api_tests {
    use super::*;
    use crate::apigw::handlers::{draft, new_rest_api};

    fn deployment_rows(store: &Store) -> Vec<(String, String)> {
        let conn = store.lock();
        let mut stmt = conn
            .prepare("SELECT api_id, id FROM deployments ORDER BY api_id, id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn deployments_are_written_once_and_deleted_with_their_api() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut api = new_rest_api("a".into());
        store.put_rest_api(&api, None).unwrap();
        let previous = api.clone();
        let d = draft(&api, Some("one".into()));
        let first = d.id.clone();
        api.deployments.insert(first.clone(), Arc::new(d));
        store.put_rest_api(&api, Some(&previous)).unwrap();
        assert_eq!(deployment_rows(&store), vec![(api.id.clone(), first.clone())]);

        // An edit that keeps the snapshot does not rewrite it: a row changed
        // behind the store's back stays as it is.
        store
            .lock()
            .execute(
                "UPDATE deployments SET record = replace(record, '\"one\"', '\"marked\"')",
                [],
            )
            .unwrap();
        let previous = api.clone();
        api.description = Some("edited".into());
        store.put_rest_api(&api, Some(&previous)).unwrap();
        let loaded = store.all_rest_apis().unwrap();
        assert_eq!(loaded[0].description.as_deref(), Some("edited"));
        assert_eq!(
            loaded[0].deployments[&first].description.as_deref(),
            Some("marked")
        );

        // The document itself holds no snapshot.
        let doc: String = store
            .lock()
            .query_row("SELECT record FROM rest_apis", [], |r| r.get(0))
            .unwrap();
        assert!(!doc.contains("\"deployments\""), "{doc}");

        // A removed deployment's row goes; so do all of a deleted API's.
        let previous = api.clone();
        api.deployments.clear();
        store.put_rest_api(&api, Some(&previous)).unwrap();
        assert!(deployment_rows(&store).is_empty());
        let previous = api.clone();
        let d = draft(&api, None);
        api.deployments.insert(d.id.clone(), Arc::new(d));
        store.put_rest_api(&api, Some(&previous)).unwrap();
        assert!(store.delete_rest_api(&api.id).unwrap());
        assert!(deployment_rows(&store).is_empty());
        assert!(store.all_rest_apis().unwrap().is_empty());
    }

    #[test]
    fn legacy_documents_with_inline_deployments_are_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let mut api = new_rest_api("a".into());
        let d = draft(&api, Some("legacy".into()));
        let id = d.id.clone();
        // The old shape: the snapshots inside the document.
        let mut doc = serde_json::to_value(&api).unwrap();
        doc["deployments"] = serde_json::json!({ id.clone(): d });
        {
            let store = Store::open(dir.path()).unwrap();
            store
                .lock()
                .execute(
                    "INSERT INTO rest_apis (id, record) VALUES (?1, ?2)",
                    params![api.id, doc.to_string()],
                )
                .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let loaded = store.all_rest_apis().unwrap();
        assert_eq!(loaded[0].deployments[&id].description.as_deref(), Some("legacy"));
        assert_eq!(deployment_rows(&store), vec![(api.id.clone(), id.clone())]);
        // An edit after the migration keeps the deployment.
        api.deployments = loaded[0].deployments.clone();
        let previous = api.clone();
        api.description = Some("after".into());
        store.put_rest_api(&api, Some(&previous)).unwrap();
        let reloaded = Store::open(dir.path()).unwrap().all_rest_apis().unwrap();
        assert_eq!(
            reloaded[0].deployments[&id].description.as_deref(),
            Some("legacy")
        );
        assert_eq!(reloaded[0].description.as_deref(), Some("after"));
    }
}
