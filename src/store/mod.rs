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
use std::sync::Mutex;

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
            );",
        )?;
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

impl Store {
    /// Every REST API document.
    pub fn all_rest_apis(&self) -> Result<Vec<RestApi>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT id, record FROM rest_apis ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, json) = row?;
            out.push(serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(id, e))?);
        }
        Ok(out)
    }

    /// Writes a REST API document (insert or replace) in one transaction.
    pub fn put_rest_api(&self, api: &RestApi) -> Result<(), StoreError> {
        let json = serde_json::to_string(api).unwrap_or_default();
        let conn = self.lock();
        conn.execute(
            "INSERT INTO rest_apis (id, record) VALUES (?1, ?2)
             ON CONFLICT(id) DO UPDATE SET record = excluded.record",
            params![api.id, json],
        )?;
        Ok(())
    }

    pub fn delete_rest_api(&self, id: &str) -> Result<bool, StoreError> {
        let conn = self.lock();
        Ok(conn.execute("DELETE FROM rest_apis WHERE id = ?1", params![id])? > 0)
    }
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
