//! [`AwsEnvironment`]: the steps' [`Environment`] over real AWS (or an emulator).
//!
//! The forensic account's ports use the process's own credentials (the Lambda's role). Ports into
//! a target account use the responder role there, assumed with the case id in the session name,
//! so CloudTrail in the target account shows which case did what. Assumed credentials are cached
//! per (account, region, case) and re-assumed shortly before they expire.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use custody_core::error::{ErrorName, StepError};
use custody_core::id::{AccountId, CaseId, Region, Timestamp};
use custody_steps::ports::{Clock, Environment, ForensicPorts, Settings, TargetPorts};
use tokio::sync::Mutex;
use tracing::Instrument;

use crate::clients::Clients;
use crate::config::AwsOptions;
use crate::dynamodb::DynamoCases;
use crate::ec2::Ec2;
use crate::eks::{EksConnector, KubeOpener};
use crate::error::step_error;
use crate::iam::Iam;
use crate::interceptor::OperationLog;
use crate::s3::S3Evidence;
use crate::securityhub::SecurityHub;
use crate::sns::Sns;
use crate::ssm::Ssm;
use crate::sts::{AssumeRequest, assume_role};

/// Assumed credentials are renewed when they have less than this left.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// Wall-clock time.
#[derive(Debug, Clone)]
pub struct SystemClock {
    /// The Unix epoch, the fallback for a system clock outside the years 0–9999.
    epoch: Timestamp,
}

impl SystemClock {
    /// The system clock.
    ///
    /// # Errors
    /// `Custody.Internal` if the Unix epoch cannot be represented (never, for a sane build).
    pub fn new() -> Result<Self, StepError> {
        let epoch = Timestamp::from_unix_millis(0).map_err(|e| {
            step_error(
                ErrorName::Internal,
                format!("the Unix epoch as a timestamp: {e}"),
                None,
                None,
            )
        })?;
        Ok(Self { epoch })
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let millis = i64::try_from(since.as_millis()).unwrap_or(i64::MAX);
        Timestamp::from_unix_millis(millis).unwrap_or_else(|_| {
            self.epoch
                .plus_seconds(i64::try_from(since.as_secs()).unwrap_or(0))
        })
    }
}

struct CachedTarget {
    ports: TargetPorts,
    expires: Option<SystemTime>,
}

/// Steps' ports over the AWS SDK.
pub struct AwsEnvironment {
    settings: Settings,
    options: AwsOptions,
    base: SdkConfig,
    forensic: ForensicPorts,
    sts: aws_sdk_sts::Client,
    log: OperationLog,
    clock: SystemClock,
    kube: Option<Arc<dyn KubeOpener>>,
    targets: Mutex<HashMap<(AccountId, Region, CaseId), CachedTarget>>,
}

impl std::fmt::Debug for AwsEnvironment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsEnvironment")
            .field("forensic_account", &self.settings.forensic_account)
            .field("forensic_region", &self.settings.forensic_region)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl AwsEnvironment {
    /// Loads the forensic account's credentials from the default chain (the Lambda's role, or
    /// the usual profile/environment variables), in the forensic region, with standard retries.
    ///
    /// # Errors
    /// As [`AwsEnvironment::new`].
    pub async fn load(settings: Settings, options: AwsOptions) -> Result<Self, StepError> {
        let retry = if options.max_attempts <= 1 {
            RetryConfig::disabled()
        } else {
            RetryConfig::standard().with_max_attempts(options.max_attempts)
        };
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new(
                settings.forensic_region.to_string(),
            ))
            .retry_config(retry)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(30))
                    .build(),
            );
        if let Some(endpoint) = &options.endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        let base = loader.load().await;
        Self::new(settings, options, base)
    }

    /// Builds on a given SDK configuration (tests pass moto's endpoint, static credentials and
    /// disabled retries). The forensic ports act in `base`'s region.
    ///
    /// # Errors
    /// `Custody.Internal` if the system clock cannot be set up.
    pub fn new(
        settings: Settings,
        options: AwsOptions,
        base: SdkConfig,
    ) -> Result<Self, StepError> {
        let log = OperationLog::new();
        let clients = Clients::new(&base, &log);
        let ec2 = Arc::new(Ec2::new(clients.ec2.clone()));
        let forensic = ForensicPorts {
            cases: Arc::new(DynamoCases::new(
                clients.dynamodb.clone(),
                options.case_table.clone(),
            )),
            evidence: Arc::new(S3Evidence::new(
                clients.s3.clone(),
                settings.evidence_bucket.clone(),
                settings.artifacts_bucket.clone(),
                options.lock_mode,
                options.lock_days,
            )),
            notifier: Arc::new(Sns::new(clients.sns.clone(), options.topic_arn.clone())),
            findings: Arc::new(SecurityHub::new(clients.securityhub.clone())),
            snapshots: ec2.clone(),
            workstation: ec2,
            commands: Arc::new(Ssm::new(clients.ssm.clone())),
        };
        Ok(Self {
            settings,
            options,
            base,
            forensic,
            sts: clients.sts,
            log,
            clock: SystemClock::new()?,
            kube: None,
            targets: Mutex::new(HashMap::new()),
        })
    }

    /// Plugs in the Kubernetes half of cluster access (custody-kube).
    pub fn with_kube(mut self, opener: Arc<dyn KubeOpener>) -> Self {
        self.kube = Some(opener);
        self
    }

    /// The IAM actions every request made through this environment exercised.
    pub fn operation_log(&self) -> &OperationLog {
        &self.log
    }

    /// The AWS-side options.
    pub fn options(&self) -> &AwsOptions {
        &self.options
    }

    async fn assume(
        &self,
        account: &AccountId,
        region: &Region,
        case: &CaseId,
    ) -> Result<CachedTarget, StepError> {
        let request = AssumeRequest::responder(
            region.partition(),
            account,
            &self.options.responder_role,
            case,
            self.options.external_id.as_deref(),
            &self.options.session_tags,
            self.options.session_seconds,
        );
        let credentials = assume_role(&self.sts, &request).await?;
        let expires = credentials.expiry();
        let config = self
            .base
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(credentials.clone()))
            .region(aws_config::Region::new(region.to_string()))
            .build();
        let clients = Clients::new(&config, &self.log);
        let ec2 = Arc::new(Ec2::new(clients.ec2));
        let ports = TargetPorts {
            compute: ec2.clone(),
            snapshots: ec2.clone(),
            quarantine: ec2,
            commands: Arc::new(Ssm::new(clients.ssm)),
            identity: Arc::new(Iam::new(clients.iam)),
            clusters: Arc::new(EksConnector::new(
                clients.eks,
                account.clone(),
                region.clone(),
                credentials,
                self.kube.clone(),
            )),
        };
        Ok(CachedTarget { ports, expires })
    }
}

#[async_trait]
impl Environment for AwsEnvironment {
    fn forensic(&self) -> &ForensicPorts {
        &self.forensic
    }

    /// # Errors
    /// `Custody.AccessDenied` when the responder role cannot be assumed (not deployed, trust
    /// policy or external id wrong); `Custody.InvalidInput` for a malformed request.
    async fn target(
        &self,
        account: &AccountId,
        region: &Region,
        case: &CaseId,
    ) -> Result<TargetPorts, StepError> {
        let span = tracing::info_span!("target", case_id = %case, %account, %region);
        async {
            let key = (account.clone(), region.clone(), case.clone());
            let mut targets = self.targets.lock().await;
            let fresh = |t: &CachedTarget| {
                t.expires.is_none_or(|at| {
                    at.duration_since(SystemTime::now())
                        .is_ok_and(|left| left > RENEW_BEFORE)
                })
            };
            if let Some(cached) = targets.get(&key).filter(|t| fresh(t)) {
                return Ok(cached.ports.clone());
            }
            let target = self.assume(account, region, case).await.map_err(|mut e| {
                if e.name == ErrorName::NotFound {
                    // STS says the role does not exist as AccessDenied; keep the name for the
                    // operator either way.
                    e.name = ErrorName::AccessDenied;
                }
                e
            })?;
            let ports = target.ports.clone();
            targets.insert(key, target);
            Ok(ports)
        }
        .instrument(span)
        .await
    }

    fn clock(&self) -> &dyn Clock {
        &self.clock
    }

    fn settings(&self) -> &Settings {
        &self.settings
    }
}
