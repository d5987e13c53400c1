//! The `portico serve` process: opens the store, loads every function from
//! the artifact cache, then runs two listeners — the front door (`--listen`)
//! and the management API (`--admin-listen`) — until SIGINT/SIGTERM, letting
//! in-flight requests finish.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clap::{Args, ValueEnum};
use serde_json::json;

use crate::apigw::service::ApiGwService;
use crate::frontdoor::FrontDoor;
use crate::host::engine::{EngineSettings, build_engine, start_epoch_ticker};
use crate::host::module::Modules;
use crate::host::{Host, HostSettings};
use crate::lambda::LambdaService;
use crate::lambda::error::{ErrorCode, LambdaError};
pub use crate::logging::LogFormat;
use crate::store::Store;
use crate::store::blobs::CodeStore;

/// `portico serve` options; each can also come from the environment.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Front door (API traffic) address.
    #[arg(long, env = "PORTICO_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Management API address (AWS wire format: apigateway, lambda).
    #[arg(long, env = "PORTICO_ADMIN_LISTEN", default_value = "127.0.0.1:8081")]
    pub admin_listen: SocketAddr,
    /// Where all state lives.
    #[arg(long, env = "PORTICO_DATA_DIR", default_value = "./.portico")]
    pub data_dir: PathBuf,
    /// Region used in ARNs.
    #[arg(long, env = "PORTICO_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Account id used in ARNs.
    #[arg(long, env = "PORTICO_ACCOUNT_ID", default_value = "000000000000")]
    pub account_id: String,
    #[arg(long, env = "PORTICO_LOG_FORMAT", value_enum, default_value = "human")]
    pub log_format: LogFormat,
    /// Concurrent executions across all functions (Lambda's account limit).
    #[arg(long, env = "PORTICO_ACCOUNT_CONCURRENCY", default_value_t = 1000)]
    pub account_concurrency: u32,
    /// Wasm instance slots (running plus idle warm instances).
    #[arg(long, env = "PORTICO_MAX_INSTANCES", default_value_t = 1000)]
    pub max_instances: u32,
    /// Seconds an idle warm instance is kept before it is reclaimed.
    #[arg(long, env = "PORTICO_KEEP_ALIVE_SECS", default_value_t = 300)]
    pub keep_alive_secs: u64,
    /// Front-door threads, each with its own single-threaded runtime
    /// (default: one per core).
    #[arg(long, env = "PORTICO_FRONT_THREADS")]
    pub front_threads: Option<std::num::NonZeroUsize>,
    /// Once both listeners are bound, write `{"front": ADDR, "admin": ADDR}`
    /// here (for scripts and tests that listen on port 0).
    #[arg(long, env = "PORTICO_READY_FILE")]
    pub ready_file: Option<PathBuf>,
    /// Management API authentication: `none`, or `sigv4` (every call signed
    /// by an active IAM access key or the bootstrap key).
    #[arg(long, env = "PORTICO_ADMIN_AUTH", value_enum, default_value = "none")]
    pub admin_auth: AdminAuth,
    /// Bootstrap administrator's access key id (an in-memory IAM user
    /// `admin` allowed everything; never stored).
    #[arg(
        long,
        env = "PORTICO_ADMIN_ACCESS_KEY_ID",
        requires = "admin_secret_access_key"
    )]
    pub admin_access_key_id: Option<String>,
    /// Bootstrap administrator's secret access key (never stored or logged).
    #[arg(
        long,
        env = "PORTICO_ADMIN_SECRET_ACCESS_KEY",
        hide_env_values = true,
        requires = "admin_access_key_id"
    )]
    pub admin_secret_access_key: Option<crate::iam::SecretString>,
}

/// How the management API authenticates callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AdminAuth {
    None,
    Sigv4,
}

/// Largest management request (CreateFunction's cap, with base64 overhead).
const ADMIN_BODY_LIMIT: usize = 72 * 1024 * 1024;

/// Everything a running gateway holds.
pub struct Gateway {
    pub host: Arc<Host>,
    pub lambda: Arc<LambdaService>,
    pub apigw: Arc<ApiGwService>,
    pub frontdoor: Arc<FrontDoor>,
    pub iam: Arc<crate::iam::IamService>,
    pub usage: Arc<crate::usage::UsageService>,
    pub admin_auth: AdminAuth,
}

/// Opens the data directory and loads every stored function.
pub fn open(config: &ServeConfig) -> anyhow::Result<Gateway> {
    let store = Arc::new(Store::open(&config.data_dir).context("opening the store")?);
    let code = CodeStore::new(&config.data_dir);
    let engine = build_engine(EngineSettings {
        max_instances: config.max_instances,
    })
    .map_err(|e| anyhow::anyhow!("configuring wasmtime: {e}"))?;
    start_epoch_ticker(&engine);
    let modules =
        Modules::new(engine, code.clone(), &config.data_dir).map_err(|e| anyhow::anyhow!("linker: {e}"))?;
    let host = Arc::new(Host::new(
        modules,
        HostSettings {
            region: config.region.clone(),
            account: config.account_id.clone(),
            account_concurrency: config.account_concurrency,
            keep_alive: Duration::from_secs(config.keep_alive_secs),
        },
    ));
    let records = store.all_functions().context("reading functions")?;
    for record in &records {
        if let Err(e) = host.sync(record) {
            tracing::error!(function = %record.latest.name, error = %e, "cannot load function; it will answer 404 until its code is updated");
        }
    }
    tracing::info!(
        functions = records.len(),
        artifacts_loaded = host.modules.artifact_loads.load(Ordering::Relaxed),
        compiled = host.modules.compiles.load(Ordering::Relaxed),
        "functions loaded"
    );
    let bootstrap = config
        .admin_access_key_id
        .clone()
        .zip(config.admin_secret_access_key.clone())
        .map(|(id, secret)| crate::iam::BootstrapKey {
            access_key_id: id,
            secret_access_key: secret.expose().to_string(),
        });
    let iam = Arc::new(
        crate::iam::IamService::load(store.clone(), &config.account_id, bootstrap)
            .context("loading IAM users")?,
    );
    let frontdoor = Arc::new(FrontDoor::new(
        host.clone(),
        &config.region,
        &config.account_id,
        iam.clone(),
    ));
    let apigw = Arc::new(
        ApiGwService::load(
            store.clone(),
            frontdoor.clone(),
            &config.region,
            &config.account_id,
        )
        .context("loading REST APIs")?,
    );
    let usage = Arc::new(
        crate::usage::UsageService::load(store.clone(), apigw.clone())
            .context("loading API keys and usage plans")?,
    );
    frontdoor.set_usage(usage.clone());
    if config.admin_auth == AdminAuth::Sigv4 && !iam.has_active_keys() {
        anyhow::bail!(
            "--admin-auth sigv4 needs a key to sign with: pass --admin-access-key-id and \
             --admin-secret-access-key (no active IAM access key is stored yet)"
        );
    }
    let lambda = Arc::new(LambdaService::new(store, code, host.clone()));
    Ok(Gateway {
        host,
        lambda,
        apigw,
        frontdoor,
        iam,
        usage,
        admin_auth: config.admin_auth,
    })
}

/// Adds `x-amzn-RequestId` to every management response that lacks one.
async fn request_id(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if !resp.headers().contains_key("x-amzn-requestid")
        && let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
    {
        resp.headers_mut().insert("x-amzn-RequestId", v);
    }
    resp
}

/// Gives the answers axum writes itself (a path or query that does not
/// parse, a body that cannot be read or is too large, a method the path
/// does not have) AWS's error shape: `x-amzn-ErrorType` and a JSON message,
/// in the Lambda or API Gateway dialect by the path. Answers that already
/// name their error type pass unchanged.
async fn aws_shaped_rejections(req: Request, next: Next) -> Response {
    let lambda = is_lambda_path(req.uri().path());
    let resp = next.run(req).await;
    let status = resp.status();
    // axum's own answers are plain text (or empty); IAM's XML errors and
    // every error of ours already have their shape.
    let plain = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    if !(status.is_client_error() || status.is_server_error())
        || !plain
        || resp.headers().contains_key("x-amzn-errortype")
    {
        return resp;
    }
    if status == axum::http::StatusCode::METHOD_NOT_ALLOWED {
        // AWS routes by method and path together: another method on a known
        // path is just an operation that does not exist.
        return unknown_operation().await.into_response();
    }
    let text = match axum::body::to_bytes(resp.into_body(), 64 * 1024).await {
        Ok(b) if !b.is_empty() => String::from_utf8_lossy(&b).into_owned(),
        _ => status.canonical_reason().unwrap_or("Bad request").to_string(),
    };
    let too_large = status == axum::http::StatusCode::PAYLOAD_TOO_LARGE;
    if lambda {
        let code = if too_large {
            ErrorCode::RequestTooLarge
        } else {
            ErrorCode::InvalidParameterValue
        };
        LambdaError::new(code, text).into_response()
    } else {
        let mut resp = crate::apigw::error::ApiGwError::bad_request(text).into_response();
        if too_large {
            *resp.status_mut() = axum::http::StatusCode::PAYLOAD_TOO_LARGE;
        }
        resp
    }
}

/// Whether a management path belongs to the Lambda API (`/2015-03-31/...`
/// and its later dated prefixes) rather than API Gateway's.
fn is_lambda_path(path: &str) -> bool {
    path.strip_prefix('/')
        .and_then(|p| p.get(..4))
        .is_some_and(|year| year.starts_with("20") && year.bytes().all(|b| b.is_ascii_digit()))
}

async fn stats(State((host, frontdoor)): State<(Arc<Host>, Arc<FrontDoor>)>) -> impl IntoResponse {
    axum::Json(json!({
        "compiles": host.modules.compiles.load(Ordering::Relaxed),
        "artifactLoads": host.modules.artifact_loads.load(Ordering::Relaxed),
        "authorizerInvocations": frontdoor.access.authorizer_invocations.load(Ordering::Relaxed),
    }))
}

async fn unknown_operation() -> LambdaError {
    LambdaError::new(ErrorCode::UnknownOperation, "Unknown operation")
}

/// The management API router.
pub fn admin_router(gw: &Gateway) -> Router {
    let router = crate::lambda::router(gw.lambda.clone())
        .merge(crate::apigw::router(gw.apigw.clone()))
        .merge(crate::usage::router(gw.usage.clone()))
        .merge(
            Router::new()
                .route("/_portico/stats", get(stats))
                .with_state((gw.host.clone(), gw.frontdoor.clone())),
        )
        .merge(crate::iam::api::router(gw.iam.clone()))
        .fallback(unknown_operation)
        .layer(DefaultBodyLimit::max(ADMIN_BODY_LIMIT));
    let router = match gw.admin_auth {
        AdminAuth::Sigv4 => crate::iam::admin_auth::require_sigv4(router, gw.iam.clone(), ADMIN_BODY_LIMIT),
        AdminAuth::None => router,
    };
    router
        .layer(middleware::from_fn(aws_shaped_rejections))
        .layer(middleware::from_fn(request_id))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Resolves once a shutdown has been signalled.
async fn stopped(mut rx: tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

/// Serves the front door on one thread per listener, each running its own
/// single-threaded runtime; the caller runs the `Dispatcher` that hands
/// each accepted connection to one of them. A request then lives on one
/// thread from its first byte to its response: no work stealing, no
/// cross-thread wake-ups (at two cores, bare axum served 13-39% more
/// requests per second this way than on one multi-threaded runtime; GET
/// /hello ~5%). Guests still yield at every epoch tick, so a long-running
/// function does not hold up the other connections of its thread. Each
/// thread reports how its server ended through the returned channels.
fn spawn_front_door(
    listeners: Vec<crate::frontdoor::listener::ThreadListener>,
    gw: &Gateway,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Vec<tokio::sync::oneshot::Receiver<std::io::Result<()>>>> {
    let mut done = Vec::with_capacity(listeners.len());
    for (i, listener) in listeners.into_iter().enumerate() {
        let service = crate::frontdoor::FrontDoorService::new(gw.frontdoor.clone());
        let stop = stop.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name(format!("portico-front-{i}"))
            .spawn(move || {
                let serve = || -> std::io::Result<()> {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    runtime.block_on(
                        axum::serve(listener, service)
                            .with_graceful_shutdown(stopped(stop))
                            .into_future(),
                    )
                };
                crate::logging::batch_function_output();
                let served = serve();
                crate::logging::flush_function_output();
                let _ = tx.send(served);
            })
            .context("starting a front-door thread")?;
        done.push(rx);
    }
    Ok(done)
}

/// Runs the gateway until a shutdown signal.
pub fn run(config: ServeConfig) -> anyhow::Result<()> {
    let _log_flush = crate::logging::init(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let gw = open(&config)?;
        let front = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding the front door to {}", config.listen))?;
        let admin = tokio::net::TcpListener::bind(config.admin_listen)
            .await
            .with_context(|| format!("binding the management API to {}", config.admin_listen))?;
        let (front_addr, admin_addr) = (front.local_addr()?, admin.local_addr()?);
        tracing::info!(
            front_door = %front_addr,
            management = %admin_addr,
            data_dir = %config.data_dir.display(),
            "portico listening"
        );
        if let Some(path) = &config.ready_file {
            let ready = json!({ "front": front_addr.to_string(), "admin": admin_addr.to_string() });
            crate::store::blobs::write_atomic(path, ready.to_string().as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
        }
        let reaper_host = gw.host.clone();
        let every = (Duration::from_secs(config.keep_alive_secs) / 2)
            .clamp(Duration::from_millis(100), Duration::from_secs(5));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let n = reaper_host.reap_idle();
                if n > 0 {
                    tracing::debug!(reclaimed = n, "idle instances reclaimed");
                }
            }
        });
        // Usage counts are written behind (see usage::service); a crash loses
        // at most the last FLUSH_EVERY of counting.
        gw.usage.spawn_flusher();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let threads = config
            .front_threads
            .or_else(|| std::thread::available_parallelism().ok())
            .map_or(1, |n| n.get());
        let (dispatcher, listeners) = crate::frontdoor::listener::Dispatcher::new(front, threads);
        let front_threads = spawn_front_door(listeners, &gw, &stop_rx)?;
        tokio::spawn(dispatcher.run(stopped(stop_rx.clone())));
        let admin_srv = axum::serve(admin, admin_router(&gw)).with_graceful_shutdown(stopped(stop_rx));
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = stop_tx.send(true);
        });
        let admin_result = admin_srv.await;
        let mut front_result = Ok(());
        for done in front_threads {
            match done.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => front_result = Err(e),
                Err(_) => front_result = Err(std::io::Error::other("a front-door thread panicked")),
            }
        }
        if let Err(e) = gw.usage.flush() {
            tracing::error!(error = %e, "cannot write usage counts at shutdown");
        }
        front_result?;
        admin_result?;
        tracing::info!("stopped");
        Ok(())
    })
}
