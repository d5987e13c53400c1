//! State behind the API Gateway management API: every RestApi document in
//! memory (mirroring the store), a write lock that orders changes, and the
//! hook that recompiles the front door after each committed change.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use super::error::{ApiGwError, ApiGwResult};
use super::model::RestApi;
use crate::frontdoor::FrontDoor;
use crate::store::Store;

pub struct ApiGwService {
    store: Arc<Store>,
    apis: RwLock<BTreeMap<String, RestApi>>,
    write: tokio::sync::Mutex<()>,
    pub frontdoor: Arc<FrontDoor>,
    pub region: String,
    pub account: String,
}

impl ApiGwService {
    /// Loads every stored API and installs its stages in the front door.
    pub fn load(
        store: Arc<Store>,
        frontdoor: Arc<FrontDoor>,
        region: &str,
        account: &str,
    ) -> anyhow::Result<ApiGwService> {
        let mut apis = BTreeMap::new();
        for api in store.all_rest_apis()? {
            frontdoor.install(&api);
            apis.insert(api.id.clone(), api);
        }
        Ok(ApiGwService {
            store,
            apis: RwLock::new(apis),
            write: tokio::sync::Mutex::new(()),
            frontdoor,
            region: region.to_string(),
            account: account.to_string(),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, RestApi>> {
        self.apis.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn not_found(&self, id: &str) -> ApiGwError {
        ApiGwError::not_found(format!("{} {}:{id}", super::error::UNKNOWN_API, self.account))
    }

    pub fn get(&self, id: &str) -> ApiGwResult<RestApi> {
        self.read().get(id).cloned().ok_or_else(|| self.not_found(id))
    }

    pub fn list(&self) -> Vec<RestApi> {
        self.read().values().cloned().collect()
    }

    /// Commits a new API.
    pub async fn create(&self, api: RestApi) -> ApiGwResult<RestApi> {
        let _guard = self.write.lock().await;
        self.store.put_rest_api(&api, None)?;
        self.frontdoor.install(&api);
        self.apis
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(api.id.clone(), api.clone());
        Ok(api)
    }

    /// Applies an edit to a copy of the API; commits and republishes it only
    /// if the edit succeeds.
    pub async fn edit<T>(
        &self,
        id: &str,
        edit: impl FnOnce(&mut RestApi) -> ApiGwResult<T>,
    ) -> ApiGwResult<T> {
        let _guard = self.write.lock().await;
        let previous = self.get(id)?;
        let mut api = previous.clone();
        let out = edit(&mut api)?;
        self.store.put_rest_api(&api, Some(&previous))?;
        self.frontdoor.install(&api);
        self.apis
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(api.id.clone(), api);
        Ok(out)
    }

    /// The account-wide settings (see [`super::account`]), defaults until
    /// UpdateAccount first writes them.
    pub fn account_settings(&self) -> ApiGwResult<super::account::Account> {
        Ok(self.store.setting(super::account::SETTING)?.unwrap_or_default())
    }

    /// Applies an edit to a copy of the account settings; commits them only
    /// if the edit succeeds.
    pub async fn edit_account(
        &self,
        edit: impl FnOnce(&mut super::account::Account) -> ApiGwResult<()>,
    ) -> ApiGwResult<super::account::Account> {
        let _guard = self.write.lock().await;
        let mut account = self.account_settings()?;
        edit(&mut account)?;
        self.store.put_setting(super::account::SETTING, &account)?;
        Ok(account)
    }

    pub async fn delete(&self, id: &str) -> ApiGwResult<()> {
        let _guard = self.write.lock().await;
        if !self.read().contains_key(id) {
            return Err(self.not_found(id));
        }
        self.store.delete_rest_api(id)?;
        self.frontdoor.remove(id);
        self.apis.write().unwrap_or_else(|p| p.into_inner()).remove(id);
        Ok(())
    }
}
