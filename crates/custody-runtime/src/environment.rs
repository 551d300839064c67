//! Building the production [`AwsEnvironment`], the one way both entry points do it.

use std::sync::Arc;

use aws_config::SdkConfig;
use custody_aws::{AwsEnvironment, AwsOptions};
use custody_core::error::StepError;
use custody_steps::ports::Settings;

use crate::opener::EksKubeOpener;

/// The environment the steps run against in AWS: the forensic account's credentials from the
/// default chain (the Lambda's role, or the usual profile and variables), in
/// `settings.forensic_region`, `options.endpoint_url` for every service when set (an emulator),
/// and EKS clusters opened with [`EksKubeOpener`].
///
/// `options` comes from [`AwsOptions::from_env`] (the Lambda, `custody run --aws`) or is built
/// explicitly. Nothing is called at build time: credentials are resolved by the first request.
///
/// # Errors
/// As [`AwsEnvironment::load`] (`Custody.Internal` if the system clock cannot be set up).
pub async fn production_environment(
    settings: Settings,
    options: AwsOptions,
) -> Result<AwsEnvironment, StepError> {
    Ok(AwsEnvironment::load(settings, options)
        .await?
        .with_kube(Arc::new(EksKubeOpener::new())))
}

/// Like [`production_environment`] on a given SDK configuration (tests pass an emulator's
/// endpoint, static credentials and disabled retries).
///
/// # Errors
/// As [`AwsEnvironment::new`].
pub fn environment_on(
    settings: Settings,
    options: AwsOptions,
    base: SdkConfig,
) -> Result<AwsEnvironment, StepError> {
    Ok(AwsEnvironment::new(settings, options, base)?.with_kube(Arc::new(EksKubeOpener::new())))
}
