//! `custody run DEFINITION --event FILE --aws`: the same state machine as in AWS, each
//! `${<Step>FunctionArn}` task answered by the step handler in-process, against the production
//! environment (AWS, or an emulator behind `--endpoint-url`).
//!
//! Configuration is what the Lambda functions read: the steps' `Settings` as JSON
//! (`--settings FILE`, else the `CUSTODY_SETTINGS` variable) and the AWS options from the
//! `CUSTODY_*` variables (`AwsOptions::from_env`); `--endpoint-url` and `--region` override. The
//! forensic account's credentials come from the SDK's default chain.
//!
//! The case id is `CaseId::for_execution(start time, execution ARN)` as in Step Functions; the
//! execution ARN is built from the forensic account and region, and a named execution
//! (`--name`) keeps its start time across runs (see [`executions`]), so running it again
//! re-drives the same case.

pub mod clock;
pub mod executions;
pub mod record;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use custody_asl::{Clock, ExecutionInfo, RealClock, TaskInvoker};
use custody_aws::{AwsEnvironment, AwsOptions};
use custody_core::id::{CaseId, Region, Timestamp};
use custody_steps::ports::{Environment, Settings};
use serde_json::Value;
use time::OffsetDateTime;

use crate::local::{case_dir, machine, run as local_run, summary};

/// The variable holding the steps' settings as JSON (the Lambda functions' contract).
pub const SETTINGS_VAR: &str = "CUSTODY_SETTINGS";

/// How an `--aws` run is configured and reports.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--settings FILE`; else `CUSTODY_SETTINGS`.
    pub settings: Option<PathBuf>,
    /// Overrides `CUSTODY_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
    /// Overrides the settings' forensic region.
    pub region: Option<String>,
    /// Execution name (default: a fresh UUID).
    pub name: Option<String>,
    /// `Wait` states and back-offs take no time (emulators only).
    pub skip_waits: bool,
    /// Where to write the IAM actions each step exercised.
    pub record_actions: Option<PathBuf>,
    /// Execution records, reports.
    pub state_dir: PathBuf,
    /// No progress lines.
    pub quiet: bool,
    /// Machine-readable output.
    pub json: bool,
}

/// The steps' settings from `--settings FILE` or `CUSTODY_SETTINGS`, with `--region` applied.
///
/// # Errors
/// Neither is given, the JSON is not the steps' Settings, or the region is malformed.
pub fn settings(options: &Options) -> anyhow::Result<Settings> {
    let (text, source) = match &options.settings {
        Some(path) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the settings {}", path.display()))?,
            path.display().to_string(),
        ),
        None => match std::env::var(SETTINGS_VAR) {
            Ok(text) => (text, SETTINGS_VAR.to_owned()),
            Err(_) => bail!(
                "--aws needs the steps' settings: --settings FILE or {SETTINGS_VAR} (JSON, as the Lambda functions get it)"
            ),
        },
    };
    let mut settings: Settings = serde_json::from_str(&text)
        .with_context(|| format!("{source} is not the steps' Settings JSON"))?;
    if let Some(region) = &options.region {
        settings.forensic_region =
            Region::parse(region).map_err(|e| anyhow::anyhow!("--region {region:?}: {e}"))?;
    }
    Ok(settings)
}

/// The production environment, built exactly as the Lambda functions build it
/// (custody-runtime): every port over the AWS SDK, EKS clusters through custody-kube, in the
/// settings' forensic region, credentials from the default chain.
///
/// # Errors
/// The AWS options are missing or malformed, or the environment cannot be built.
pub async fn environment(
    settings: Settings,
    endpoint_url: Option<String>,
) -> anyhow::Result<AwsEnvironment> {
    let mut aws = AwsOptions::from_env().map_err(|e| anyhow::anyhow!("--aws: {e}"))?;
    if endpoint_url.is_some() {
        aws.endpoint_url = endpoint_url;
    }
    custody_runtime::production_environment(settings, aws)
        .await
        .map_err(|e| anyhow::anyhow!("cannot set up the AWS environment: {e}"))
}

/// Runs the definition against AWS, prints the outcome as the `--world` run does, and writes the
/// case's report into the state directory.
///
/// # Errors
/// Configuration, an unreadable definition or input, an engine that cannot start, files that
/// cannot be written. A failed execution is not an error: it is exit code 1.
pub async fn run_case(
    definition: &Path,
    input: Value,
    options: &Options,
) -> anyhow::Result<ExitCode> {
    let settings = settings(options)?;
    let env = Arc::new(environment(settings, options.endpoint_url.clone()).await?);
    let log = env.operation_log().clone();
    let env_dyn: Arc<dyn Environment> = env.clone();
    let def = machine::load_definition(definition, env_dyn.as_ref())?;

    let machine_name = local_run::machine_name(definition);
    let name = options
        .name
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let s = env_dyn.settings();
    let prefix = format!(
        "arn:{}:states:{}:{}",
        s.forensic_region.partition(),
        s.forensic_region,
        s.forensic_account
    );
    let record = executions::begin(
        &options.state_dir,
        &machine_name,
        &name,
        format!("{prefix}:execution:{machine_name}:{name}"),
        OffsetDateTime::now_utc(),
    )?;
    let info = ExecutionInfo {
        name: name.clone(),
        arn: record.arn.clone(),
        state_machine_name: machine_name.clone(),
        state_machine_arn: format!("{prefix}:stateMachine:{machine_name}"),
        role_arn: format!(
            "arn:{}:iam::{}:role/custody-local",
            s.forensic_region.partition(),
            s.forensic_account
        ),
        start_time: Some(record.start_time),
        redrive_count: record.redrive_count,
    };
    let case_id = CaseId::for_execution(
        Timestamp::try_from(record.start_time)
            .map_err(|e| anyhow::anyhow!("execution start time: {e}"))?,
        &record.arn,
    );

    let clock: Arc<dyn Clock> = if options.skip_waits {
        Arc::new(clock::SkipWaitsClock::new())
    } else {
        Arc::new(RealClock)
    };
    let steps: Arc<dyn TaskInvoker> = Arc::new(machine::StepInvoker::new(env_dyn.clone()));
    let recorder = options
        .record_actions
        .as_ref()
        .map(|_| Arc::new(record::RecordingInvoker::new(steps.clone(), log)));
    let invoker: Arc<dyn TaskInvoker> = match &recorder {
        Some(r) => r.clone(),
        None => steps,
    };
    let outcome =
        machine::execute_with(def, input, invoker, clock, info, None, options.quiet).await?;
    if let (Some(recorder), Some(path)) = (&recorder, &options.record_actions) {
        recorder.write(path)?;
    }

    let case = env_dyn
        .forensic()
        .cases
        .load(&case_id)
        .await
        .map_err(|e| anyhow::anyhow!("cannot read case {case_id} back: {e}"))?;
    let mut report_path = None;
    if let Some(case) = &case {
        // The report step stores `s3://<evidence bucket>/cases/<case>/report.md`.
        let in_bucket = format!("s3://{}/", env_dyn.settings().evidence_bucket);
        let key = outcome
            .output
            .as_ref()
            .and_then(|o| o["report"]["reportLocation"].as_str())
            .and_then(|l| l.strip_prefix(&in_bucket))
            .map_or_else(|| format!("cases/{}/report.md", case.id), str::to_owned);
        let stored = env_dyn
            .forensic()
            .evidence
            .get_object(&key)
            .await
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        let text = stored.unwrap_or_else(|| summary::fallback_report(case));
        let dir = case_dir(&options.state_dir, &case.id);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join("report.md");
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        report_path = Some(path);
    }
    local_run::print_outcome(
        &outcome,
        case.as_ref(),
        report_path.as_deref(),
        options.json,
    )?;
    Ok(local_run::exit_code(&outcome))
}
