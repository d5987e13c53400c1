//! A small IAM: users, their inline policies and access keys, and who a
//! signed request comes from.
//!
//! - [`policy`]: IAM policy documents and their evaluation (pure logic).
//! - [`sigv4`]: AWS Signature Version 4, verify and sign.
//! - [`api`]: the IAM management API (query protocol, `2010-05-08`) on the
//!   admin listener; [`error`] maps its errors to AWS's XML shape.
//! - [`admin_auth`]: `--admin-auth sigv4`, the admin listener's gate.
//!
//! [`IamService`] owns the users. Every change is committed to the store
//! (`iam_users`, one JSON record per user) and then published as a new
//! immutable [`Snapshot`] through an `ArcSwap`, so the hot path —
//! [`IamService::credential`] — is one atomic load and one hash lookup, and
//! never touches the database. Policies are parsed once, when they are put
//! or loaded.
//!
//! The bootstrap credential (`--admin-access-key-id` /
//! `--admin-secret-access-key`) is an in-memory user `admin` allowed
//! everything; it is never written to the store and never logged.
//! Secrets of stored keys are kept in the database in clear (SigV4 needs
//! them to recompute signatures, as AWS does), so `--data-dir` must be
//! private to the gateway.

pub mod admin_auth;
pub mod api;
pub mod error;
pub mod policy;
pub mod sigv4;
mod xml;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::store::Store;
use error::{ErrorCode, IamError, IamResult};
use policy::PolicyDocument;

/// Name of the in-memory bootstrap user.
pub const BOOTSTRAP_USER: &str = "admin";
/// IAM's quota of access keys per user.
pub const MAX_KEYS_PER_USER: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStatus {
    Active,
    Inactive,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
        }
    }
}

/// One access key as stored.
#[derive(Clone, Serialize, Deserialize)]
pub struct AccessKeyRecord {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub status: KeyStatus,
    /// ISO 8601, `2015-08-30T12:36:00Z`.
    pub create_date: String,
}

impl fmt::Debug for AccessKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKeyRecord")
            .field("access_key_id", &self.access_key_id)
            .field("status", &self.status)
            .field("create_date", &self.create_date)
            .finish_non_exhaustive()
    }
}

/// One user as stored: identity, inline policies (name → document text,
/// exactly as put) and access keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRecord {
    pub user_name: String,
    pub user_id: String,
    pub path: String,
    pub arn: String,
    /// ISO 8601, `2015-08-30T12:36:00Z`.
    pub create_date: String,
    #[serde(default)]
    pub policies: BTreeMap<String, String>,
    #[serde(default)]
    pub access_keys: Vec<AccessKeyRecord>,
}

impl UserRecord {
    /// The key users are stored and looked up by: IAM user names are
    /// unique regardless of case.
    pub fn key(&self) -> String {
        user_key(&self.user_name)
    }
}

pub fn user_key(name: &str) -> String {
    name.to_lowercase()
}

/// What the request path needs to know about an active access key.
#[derive(Clone)]
pub struct Credential {
    pub access_key_id: String,
    pub secret: String,
    pub user_name: String,
    pub user_arn: String,
    /// The user's inline policies, parsed.
    pub policies: Arc<[Arc<PolicyDocument>]>,
    /// The `--admin-access-key-id` credential rather than a stored user.
    pub bootstrap: bool,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("access_key_id", &self.access_key_id)
            .field("user_arn", &self.user_arn)
            .field("policies", &self.policies.len())
            .field("bootstrap", &self.bootstrap)
            .finish_non_exhaustive()
    }
}

impl Credential {
    /// Evaluates the credential's policies for a request (an explicit deny
    /// wins; no matching statement is [`policy::Decision::NoMatch`]).
    pub fn evaluate(&self, req: &policy::AuthzRequest<'_>) -> policy::Decision {
        policy::evaluate_all(self.policies.iter(), req)
    }
}

impl sigv4::SigningSecret for Credential {
    fn secret_access_key(&self) -> &str {
        &self.secret
    }
}

/// The authenticated caller of an admin request (a request extension set
/// by [`admin_auth`]).
#[derive(Debug, Clone)]
pub struct Caller(pub Arc<Credential>);

/// The bootstrap key pair from the command line or environment.
#[derive(Clone)]
pub struct BootstrapKey {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl fmt::Debug for BootstrapKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BootstrapKey")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// A secret from the command line or environment: `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for SecretString {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<SecretString, Self::Err> {
        Ok(SecretString(s.to_string()))
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(***)")
    }
}

/// A user with its policies compiled.
#[derive(Debug)]
pub struct User {
    pub record: UserRecord,
    pub policies: Arc<[Arc<PolicyDocument>]>,
}

/// An immutable view of every user and active key.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// By [`user_key`], so listing is in name order.
    pub users: BTreeMap<String, Arc<User>>,
    /// Active access key id → credential (bootstrap included).
    keys: HashMap<String, Arc<Credential>>,
}

/// Users, keys and policies: durable in the store, served from memory.
pub struct IamService {
    store: Arc<Store>,
    account_id: String,
    bootstrap: Option<Arc<Credential>>,
    view: ArcSwap<Snapshot>,
    /// Serialises changes (read-modify-write of the snapshot).
    write: Mutex<()>,
}

impl IamService {
    /// Loads every stored user; `bootstrap` adds the in-memory administrator.
    pub fn load(
        store: Arc<Store>,
        account_id: &str,
        bootstrap: Option<BootstrapKey>,
    ) -> Result<IamService, crate::store::StoreError> {
        let bootstrap = bootstrap.map(|b| {
            let admin: Arc<PolicyDocument> = Arc::new(
                PolicyDocument::parse(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#)
                    .unwrap_or_else(|_| unreachable!("the administrator policy is valid")),
            );
            Arc::new(Credential {
                access_key_id: b.access_key_id,
                secret: b.secret_access_key,
                user_name: BOOTSTRAP_USER.to_string(),
                user_arn: format!("arn:aws:iam::{account_id}:user/{BOOTSTRAP_USER}"),
                policies: Arc::from(vec![admin]),
                bootstrap: true,
            })
        });
        let users = store
            .all_iam_users()?
            .into_iter()
            .map(|r| (r.key(), compile(r)))
            .collect();
        let svc = IamService {
            store,
            account_id: account_id.to_string(),
            bootstrap,
            view: ArcSwap::from_pointee(Snapshot::default()),
            write: Mutex::new(()),
        };
        svc.publish(users);
        Ok(svc)
    }

    /// The active credential for an access key id (hot path: no lock, no
    /// database, no allocation beyond the `Arc` clone).
    pub fn credential(&self, access_key_id: &str) -> Option<Arc<Credential>> {
        self.view.load().keys.get(access_key_id).cloned()
    }

    /// Whether any key could authenticate at all (bootstrap or active).
    pub fn has_active_keys(&self) -> bool {
        !self.view.load().keys.is_empty()
    }

    /// The current view of all users.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.view.load_full()
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    pub fn user(&self, name: &str) -> IamResult<Arc<User>> {
        self.view
            .load()
            .users
            .get(&user_key(name))
            .cloned()
            .ok_or_else(|| IamError::no_such_user(name))
    }

    /// The user record a bootstrap caller sees as itself.
    pub fn bootstrap_user(&self) -> Option<UserRecord> {
        self.bootstrap.as_ref().map(|c| UserRecord {
            user_name: c.user_name.clone(),
            user_id: "AIDAPORTICOBOOTSTRAP".to_string(),
            path: "/".to_string(),
            arn: c.user_arn.clone(),
            create_date: "1970-01-01T00:00:00Z".to_string(),
            policies: BTreeMap::new(),
            access_keys: Vec::new(),
        })
    }

    pub fn create_user(&self, name: &str, path: &str) -> IamResult<UserRecord> {
        let _guard = self.lock();
        let current = self.view.load_full();
        let key = user_key(name);
        if current.users.contains_key(&key) {
            return Err(IamError::new(
                ErrorCode::EntityAlreadyExists,
                format!("User with name {name} already exists."),
            ));
        }
        let record = UserRecord {
            user_name: name.to_string(),
            user_id: format!("AIDA{}", random_string(17, UPPER_ALNUM)),
            path: path.to_string(),
            arn: format!("arn:aws:iam::{}:user{path}{name}", self.account_id),
            create_date: now_iso(),
            policies: BTreeMap::new(),
            access_keys: Vec::new(),
        };
        self.store.put_iam_user(&record)?;
        let mut users = current.users.clone();
        users.insert(key, compile(record.clone()));
        self.publish(users);
        Ok(record)
    }

    pub fn delete_user(&self, name: &str) -> IamResult<()> {
        let _guard = self.lock();
        let current = self.view.load_full();
        let key = user_key(name);
        let user = current
            .users
            .get(&key)
            .ok_or_else(|| IamError::no_such_user(name))?;
        let conflict = |what: &str| {
            IamError::new(
                ErrorCode::DeleteConflict,
                format!("Cannot delete entity, must delete {what} first."),
            )
        };
        if !user.record.access_keys.is_empty() {
            return Err(conflict("access keys"));
        }
        if !user.record.policies.is_empty() {
            return Err(conflict("policies"));
        }
        self.store.delete_iam_user(&key)?;
        let mut users = current.users.clone();
        users.remove(&key);
        self.publish(users);
        Ok(())
    }

    /// Read-modify-write of one user: commit, then publish.
    fn edit_user<T>(&self, name: &str, edit: impl FnOnce(&mut UserRecord) -> IamResult<T>) -> IamResult<T> {
        let _guard = self.lock();
        let current = self.view.load_full();
        let key = user_key(name);
        let user = current
            .users
            .get(&key)
            .ok_or_else(|| IamError::no_such_user(name))?;
        let mut record = user.record.clone();
        let out = edit(&mut record)?;
        self.store.put_iam_user(&record)?;
        let mut users = current.users.clone();
        users.insert(key, compile(record));
        self.publish(users);
        Ok(out)
    }

    /// A new active key; the only time its secret is returned.
    pub fn create_access_key(&self, user_name: &str) -> IamResult<AccessKeyRecord> {
        self.edit_user(user_name, |user| {
            if user.access_keys.len() >= MAX_KEYS_PER_USER {
                return Err(IamError::new(
                    ErrorCode::LimitExceeded,
                    format!("Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}"),
                ));
            }
            let key = AccessKeyRecord {
                access_key_id: format!("AKIA{}", random_string(16, UPPER_ALNUM)),
                secret_access_key: random_string(40, SECRET_ALPHABET),
                status: KeyStatus::Active,
                create_date: now_iso(),
            };
            user.access_keys.push(key.clone());
            Ok(key)
        })
    }

    pub fn update_access_key(
        &self,
        user_name: &str,
        access_key_id: &str,
        status: KeyStatus,
    ) -> IamResult<()> {
        self.edit_user(user_name, |user| {
            let key = user
                .access_keys
                .iter_mut()
                .find(|k| k.access_key_id == access_key_id)
                .ok_or_else(|| no_such_key(access_key_id))?;
            key.status = status;
            Ok(())
        })
    }

    pub fn delete_access_key(&self, user_name: &str, access_key_id: &str) -> IamResult<()> {
        self.edit_user(user_name, |user| {
            let before = user.access_keys.len();
            user.access_keys.retain(|k| k.access_key_id != access_key_id);
            if user.access_keys.len() == before {
                return Err(no_such_key(access_key_id));
            }
            Ok(())
        })
    }

    /// The user owning an access key id (any status), for calls that name
    /// only the key.
    pub fn key_owner(&self, access_key_id: &str) -> Option<String> {
        self.view
            .load()
            .users
            .values()
            .find(|u| {
                u.record
                    .access_keys
                    .iter()
                    .any(|k| k.access_key_id == access_key_id)
            })
            .map(|u| u.record.user_name.clone())
    }

    /// Adds or replaces an inline policy. The document must parse as an
    /// identity policy; its text is stored as given.
    pub fn put_user_policy(&self, user_name: &str, policy_name: &str, document: &str) -> IamResult<()> {
        let parsed = PolicyDocument::parse(document)
            .and_then(|d| d.validate_identity_policy())
            .map_err(|e| IamError::new(ErrorCode::MalformedPolicyDocument, e.message));
        parsed?;
        self.edit_user(user_name, |user| {
            user.policies
                .insert(policy_name.to_string(), document.to_string());
            Ok(())
        })
    }

    pub fn get_user_policy(&self, user_name: &str, policy_name: &str) -> IamResult<String> {
        let user = self.user(user_name)?;
        user.record
            .policies
            .get(policy_name)
            .cloned()
            .ok_or_else(|| no_such_policy(policy_name))
    }

    pub fn delete_user_policy(&self, user_name: &str, policy_name: &str) -> IamResult<()> {
        self.edit_user(user_name, |user| {
            user.policies
                .remove(policy_name)
                .map(|_| ())
                .ok_or_else(|| no_such_policy(policy_name))
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.write.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Publishes a new snapshot built from `users` (plus the bootstrap key).
    fn publish(&self, users: BTreeMap<String, Arc<User>>) {
        let mut keys = HashMap::new();
        for user in users.values() {
            for key in &user.record.access_keys {
                if key.status == KeyStatus::Active {
                    keys.insert(
                        key.access_key_id.clone(),
                        Arc::new(Credential {
                            access_key_id: key.access_key_id.clone(),
                            secret: key.secret_access_key.clone(),
                            user_name: user.record.user_name.clone(),
                            user_arn: user.record.arn.clone(),
                            policies: user.policies.clone(),
                            bootstrap: false,
                        }),
                    );
                }
            }
        }
        if let Some(b) = &self.bootstrap {
            keys.insert(b.access_key_id.clone(), b.clone());
        }
        self.view.store(Arc::new(Snapshot { users, keys }));
    }
}

fn no_such_key(id: &str) -> IamError {
    IamError::new(
        ErrorCode::NoSuchEntity,
        format!("The Access Key with id {id} cannot be found."),
    )
}

fn no_such_policy(name: &str) -> IamError {
    IamError::new(
        ErrorCode::NoSuchEntity,
        format!("The user policy with name {name} cannot be found."),
    )
}

/// Parses a record's policies. A stored document that no longer parses
/// (it was accepted by an older version) is left out of evaluation and
/// logged, never granting anything.
fn compile(record: UserRecord) -> Arc<User> {
    let mut policies = Vec::with_capacity(record.policies.len());
    for (name, text) in &record.policies {
        match PolicyDocument::parse(text) {
            Ok(doc) => policies.push(Arc::new(doc)),
            Err(e) => tracing::warn!(user = %record.user_name, policy = %name, error = %e,
                "stored policy does not parse; ignoring it"),
        }
    }
    Arc::new(User {
        record,
        policies: Arc::from(policies),
    })
}

fn now_iso() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `len` characters drawn uniformly from `alphabet` (rejection sampling).
/// Randomness comes from v4 UUIDs, which `uuid`'s `fast-rng` feature draws
/// from `rand`'s thread-local CSPRNG (ChaCha, seeded by the OS); only the
/// 14 bytes of each UUID that carry no version/variant bits are used.
fn random_string(len: usize, alphabet: &[u8]) -> String {
    let n = alphabet.len();
    let limit = 256 - 256 % n;
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let bytes = *uuid::Uuid::new_v4().as_bytes();
        for (i, b) in bytes.into_iter().enumerate() {
            if i == 6 || i == 8 || out.len() == len {
                continue;
            }
            if (b as usize) < limit {
                out.push(alphabet[b as usize % n] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(dir: &std::path::Path, bootstrap: bool) -> IamService {
        let store = Arc::new(Store::open(dir).unwrap());
        let key = bootstrap.then(|| BootstrapKey {
            access_key_id: "AKIABOOTSTRAP".to_string(),
            secret_access_key: "bootstrap-secret".to_string(),
        });
        IamService::load(store, "123456789012", key).unwrap()
    }

    #[test]
    fn random_strings_have_the_right_shape() {
        let s = random_string(40, SECRET_ALPHABET);
        assert_eq!(s.len(), 40);
        assert!(s.bytes().all(|b| SECRET_ALPHABET.contains(&b)));
        let id = random_string(16, UPPER_ALNUM);
        assert!(id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        assert_ne!(random_string(40, SECRET_ALPHABET), s);
    }

    #[test]
    fn users_keys_and_policies_survive_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let svc = service(dir.path(), true);
        assert!(svc.credential("AKIABOOTSTRAP").unwrap().bootstrap);
        let user = svc.create_user("ann", "/").unwrap();
        assert_eq!(user.arn, "arn:aws:iam::123456789012:user/ann");
        assert!(user.user_id.starts_with("AIDA") && user.user_id.len() == 21);
        let err = svc.create_user("ANN", "/").unwrap_err();
        assert_eq!(err.code, ErrorCode::EntityAlreadyExists);

        let key = svc.create_access_key("ann").unwrap();
        assert!(key.access_key_id.starts_with("AKIA") && key.access_key_id.len() == 20);
        assert_eq!(key.secret_access_key.len(), 40);
        svc.put_user_policy(
            "ann",
            "invoke",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}}"#,
        )
        .unwrap();
        let cred = svc.credential(&key.access_key_id).unwrap();
        assert_eq!(cred.secret, key.secret_access_key);
        assert_eq!(cred.user_arn, user.arn);
        assert_eq!(cred.policies.len(), 1);
        assert!(!format!("{cred:?}").contains(&key.secret_access_key));
        let invoke = policy::AuthzRequest::new("execute-api:Invoke", "arn:aws:execute-api:x");
        assert_eq!(cred.evaluate(&invoke), policy::Decision::Allow);
        let other = policy::AuthzRequest::new("lambda:DeleteFunction", "arn:aws:lambda:x");
        assert_eq!(cred.evaluate(&other), policy::Decision::NoMatch);
        let admin = svc.credential("AKIABOOTSTRAP").unwrap();
        assert_eq!(admin.evaluate(&other), policy::Decision::Allow);

        svc.update_access_key("ann", &key.access_key_id, KeyStatus::Inactive)
            .unwrap();
        assert!(svc.credential(&key.access_key_id).is_none());
        svc.update_access_key("ann", &key.access_key_id, KeyStatus::Active)
            .unwrap();

        drop(svc);
        let svc = service(dir.path(), false);
        assert!(
            svc.credential("AKIABOOTSTRAP").is_none(),
            "bootstrap is never stored"
        );
        let cred = svc.credential(&key.access_key_id).unwrap();
        assert_eq!(cred.secret, key.secret_access_key);
        assert_eq!(cred.policies.len(), 1);
        assert_eq!(svc.key_owner(&key.access_key_id).as_deref(), Some("ann"));
    }

    #[test]
    fn deletes_and_conflicts() {
        let dir = tempfile::tempdir().unwrap();
        let svc = service(dir.path(), false);
        assert!(!svc.has_active_keys());
        svc.create_user("bob", "/team/").unwrap();
        assert_eq!(
            svc.user("BOB").unwrap().record.arn,
            "arn:aws:iam::123456789012:user/team/bob"
        );
        let k1 = svc.create_access_key("bob").unwrap();
        svc.create_access_key("bob").unwrap();
        assert_eq!(
            svc.create_access_key("bob").unwrap_err().code,
            ErrorCode::LimitExceeded
        );
        svc.put_user_policy("bob", "p", r#"{"Statement":[]}"#).unwrap();
        let e = svc
            .put_user_policy("bob", "bad", r#"{"Statement":{"Effect":"Allow"}}"#)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::MalformedPolicyDocument);
        let e = svc.delete_user("bob").unwrap_err();
        assert_eq!(e.code, ErrorCode::DeleteConflict);
        assert_eq!(e.message, "Cannot delete entity, must delete access keys first.");
        for k in svc.user("bob").unwrap().record.access_keys.clone() {
            svc.delete_access_key("bob", &k.access_key_id).unwrap();
        }
        assert!(svc.credential(&k1.access_key_id).is_none());
        assert_eq!(
            svc.delete_access_key("bob", &k1.access_key_id).unwrap_err().code,
            ErrorCode::NoSuchEntity
        );
        assert_eq!(
            svc.delete_user("bob").unwrap_err().message,
            "Cannot delete entity, must delete policies first."
        );
        svc.delete_user_policy("bob", "p").unwrap();
        assert_eq!(
            svc.get_user_policy("bob", "p").unwrap_err().message,
            "The user policy with name p cannot be found."
        );
        svc.delete_user("bob").unwrap();
        assert_eq!(
            svc.delete_user("bob").unwrap_err().message,
            "The user with name bob cannot be found."
        );
        drop(svc);
        let svc = service(dir.path(), false);
        assert!(svc.snapshot().users.is_empty());
    }
}
