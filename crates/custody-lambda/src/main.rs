//! `bootstrap`: the custody step function's Lambda runtime (provided.al2023).
//!
//! Cold start: logging, then the configuration ([`FunctionConfig::from_env`]), then the
//! production environment (custody-runtime). Any failure there is reported to Lambda's
//! `/init/error` and the process exits 1: a function never serves with half a configuration.
//! Then each invocation runs the one step this function is (see [`handler::handle`]).

use std::process::ExitCode;
use std::sync::Arc;

use custody_core::error::with_sources;
use custody_lambda::config::FunctionConfig;
use custody_lambda::{handler, init_error, logging};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> ExitCode {
    logging::init();
    let config = match FunctionConfig::from_env() {
        Ok(config) => config,
        Err(err) => return fail_init(&with_sources(&err)).await,
    };
    let step = config.step;
    let env = match custody_runtime::production_environment(config.settings, config.options).await {
        Ok(env) => Arc::new(env),
        Err(err) => return fail_init(&format!("{}: {}", err.name, err.message())).await,
    };
    tracing::info!(step = %step, "custody function ready");
    let served = lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let env = env.clone();
        async move {
            handler::handle(step, env.as_ref(), &event.context.request_id, event.payload).await
        }
    }))
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "the Lambda runtime loop stopped");
            ExitCode::FAILURE
        }
    }
}

/// Logs the reason, reports it to the Runtime API, and gives the exit code.
async fn fail_init(reason: &str) -> ExitCode {
    tracing::error!(reason = %reason, "custody function cannot start");
    if let Err(err) = init_error::report(reason).await {
        tracing::error!(error = %with_sources(&err), "could not report the init error to Lambda");
    }
    ExitCode::FAILURE
}
