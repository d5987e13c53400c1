//! The execution environments of one function version: a stack of idle warm
//! SDK instances (reused last-in first-out, reclaimed after the keep-alive)
//! and the per-invocation lifecycle — take or create an instance, bound it by
//! the timeout, return it if it succeeded, discard it if it failed in any way.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::Poll;
use std::time::{Duration, Instant};

use super::instance::{
    Environment, GuestFailure, POOL_EXHAUSTED, ResultCheck, RunResult, SdkInstance, run_command,
};
use super::module::Prepared;
use super::output::{Capture, Captured};
use crate::function::{FunctionConfig, GuestShape};

/// One version's environments.
pub struct VersionPool {
    pub config: FunctionConfig,
    pub prepared: Prepared,
    env: Environment,
    // Boxed: an instance moves out of and back into this stack on every
    // warm invocation, and a box moves as one pointer.
    #[expect(clippy::vec_box, reason = "moved per call: a box moves as one pointer")]
    idle: Mutex<Vec<Box<SdkInstance>>>,
    /// The invariant middle of this version's context JSON (see
    /// `Host::invoke`), rendered once.
    pub(super) context_head: String,
}

/// What one run produced, for the report and the log.
pub struct Run {
    pub result: RunResult,
    pub logs: Captured,
    pub duration: Duration,
    /// Set on a cold start: how long instantiation and `_initialize` took.
    pub init: Option<Duration>,
    pub peak_memory: usize,
}

/// What one invocation hands the guest, and how its result is checked.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    pub event: &'a [u8],
    pub context: &'a [u8],
    pub request_id: &'a str,
    pub check: ResultCheck,
}

impl VersionPool {
    pub fn new(
        config: FunctionConfig,
        prepared: Prepared,
        region: &str,
        context_head: String,
    ) -> VersionPool {
        let mut vars: Vec<(String, String)> = config
            .environment
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let name = &config.name;
        vars.extend(
            [
                ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
                ("AWS_LAMBDA_FUNCTION_VERSION", config.version.to_string()),
                ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", config.memory_mb.to_string()),
                ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
                (
                    "AWS_LAMBDA_LOG_STREAM_NAME",
                    format!("portico/[{}]", config.version),
                ),
                ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_string()),
                ("AWS_REGION", region.to_string()),
                ("AWS_DEFAULT_REGION", region.to_string()),
                ("AWS_EXECUTION_ENV", "AWS_Lambda_portico".to_string()),
                ("TZ", ":UTC".to_string()),
            ]
            .map(|(k, v)| (k.to_string(), v)),
        );
        let env = Environment {
            vars,
            program_name: name.clone(),
            memory_bytes: config.memory_mb as usize * 1024 * 1024,
        };
        VersionPool {
            config,
            prepared,
            env,
            idle: Mutex::new(Vec::new()),
            context_head,
        }
    }

    #[expect(clippy::vec_box, reason = "see `idle`")]
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Box<SdkInstance>>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn idle_count(&self) -> usize {
        self.idle().len()
    }

    /// Drops idle instances unused for `keep_alive` (all of them for zero).
    pub fn reap(&self, keep_alive: Duration) -> usize {
        let mut idle = self.idle();
        let before = idle.len();
        idle.retain(|i| i.last_used.elapsed() < keep_alive);
        before - idle.len()
    }

    /// Runs one invocation with the timeout. The caller holds a concurrency
    /// permit, so the pool never holds more instances than that allows.
    pub async fn run(&self, call: Call<'_>, evict: impl Fn()) -> Run {
        let request_id = call.request_id;
        let timeout = Duration::from_secs(u64::from(self.config.timeout_s));
        let started = Instant::now();
        // Where the running instance's log capture is published, so a
        // timed-out invocation still reports what the guest printed.
        let logs = Mutex::new(None);
        let deadline = started + timeout;
        let first = std::pin::pin!(self.run_inner(call, false, &logs, started));
        let mut run = within(deadline, first)
            .await
            .unwrap_or_else(|| timed_out(request_id, timeout, &logs, started));
        if run.result.as_ref().is_err_and(|f| f.error_type == POOL_EXHAUSTED) {
            // Every instance slot is held; idle ones elsewhere can go.
            evict();
            let mut retry = Box::pin(self.run_inner(call, true, &logs, started));
            run = within(deadline, retry.as_mut())
                .await
                .unwrap_or_else(|| timed_out(request_id, timeout, &logs, started));
        }
        run
    }

    /// One attempt; `started` is when the invocation began (its duration
    /// counts from there). The clock is read as few times as possible: on a
    /// warm start, once at the end.
    async fn run_inner(
        &self,
        call: Call<'_>,
        retry: bool,
        logs_slot: &Mutex<Option<Capture>>,
        started: Instant,
    ) -> Run {
        if self.prepared.shape == GuestShape::Command {
            // Boxed, as a cold start is below: a fresh command run's state
            // machine is larger than a warm call's.
            let (result, logs, peak) = Box::pin(run_command(
                &self.prepared,
                &self.env,
                call.event,
                call.request_id,
                call.check,
            ))
            .await;
            return Run {
                result,
                logs: logs.take(),
                duration: started.elapsed(),
                init: None,
                peak_memory: peak,
            };
        }
        let warm = if retry { None } else { self.idle().pop() };
        let (mut instance, init) = match warm {
            Some(i) => (i, None),
            None => {
                let init_started = Instant::now();
                // Boxed: a cold start's state machine is larger than a warm
                // call's, and would make every invocation's future that large
                // (the front door copies each request's future whole).
                match Box::pin(SdkInstance::start(&self.prepared, &self.env, call.request_id)).await {
                    Ok(i) => (Box::new(i), Some(init_started.elapsed())),
                    Err(failure) => {
                        return Run {
                            result: Err(failure),
                            logs: Captured {
                                data: Vec::new(),
                                dropped: 0,
                            },
                            duration: started.elapsed(),
                            init: Some(init_started.elapsed()),
                            peak_memory: 0,
                        };
                    }
                }
            }
        };
        *logs_slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(instance.logs().clone());
        let outcome = instance
            .call(call.event, call.context, call.request_id, call.check)
            .await;
        let ended = Instant::now();
        let logs = instance.logs().take();
        let peak_memory = instance.peak_memory();
        let result = match outcome {
            Ok(result) => {
                instance.last_used = ended;
                // A function error is the guest's answer, not a broken
                // environment; but Lambda discards the environment after any
                // failure, and so do we.
                if result.is_ok() {
                    self.idle().push(instance);
                }
                result
            }
            Err(failure) => Err(failure),
        };
        Run {
            result,
            logs,
            duration: ended.saturating_duration_since(started),
            init,
            peak_memory,
        }
    }
}

/// Runs `fut` until `deadline` (`None` once it passed). Unlike
/// `tokio::time::timeout`, the timer is created only if the future does not
/// finish on its first poll: a warm invocation usually does, and then costs
/// no timer (tokio takes the timer driver's global lock to drop one, even
/// one never registered). The future is pinned by the caller, where it was
/// made: an invocation's state machine is kilobytes, and every move is a copy.
pub async fn within<F: Future>(deadline: Instant, mut fut: Pin<&mut F>) -> Option<F::Output> {
    let mut timer: Option<Pin<Box<tokio::time::Sleep>>> = None;
    std::future::poll_fn(|cx| {
        if let Poll::Ready(out) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline.into())));
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

fn timed_out(request_id: &str, timeout: Duration, logs: &Mutex<Option<Capture>>, started: Instant) -> Run {
    let logs = logs
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .map(|c| c.take())
        .unwrap_or(Captured {
            data: Vec::new(),
            dropped: 0,
        });
    Run {
        result: Err(GuestFailure::new(
            "Sandbox.Timedout",
            format!(
                "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
                timeout.as_secs_f64()
            ),
        )),
        logs,
        duration: started.elapsed(),
        init: None,
        peak_memory: 0,
    }
}
