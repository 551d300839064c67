//! moto's server for one test (started by custody-testkit), plus the SDK configuration pointing
//! at it.
//!
//! Each test gets its own server on a free loopback port, so tests share no state and run in
//! parallel. moto is required: when it is missing the test FAILS with a message naming the fix
//! (`scripts/bootstrap`), it is never skipped.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::Credentials;
use aws_types::region::Region;

pub use custody_testkit::{ACCOUNT, REGION};

/// A running moto server (custody-testkit's, which links no SDK), killed on drop, with the SDK
/// half of the harness on top.
pub struct Moto(custody_testkit::Moto);

impl std::ops::Deref for Moto {
    type Target = custody_testkit::Moto;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Moto {
    /// Starts moto on a free port and waits until it listens.
    pub fn start() -> Moto {
        Moto(custody_testkit::Moto::start())
    }

    /// SDK configuration pointing at this server, with static test credentials and NO retries
    /// (moto's "not implemented" 500s would otherwise be retried).
    pub fn sdk_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(Region::new(REGION))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                    "testing", "testing", None, None, "moto",
                )),
            )
            .retry_config(RetryConfig::disabled())
            .build()
    }
}
