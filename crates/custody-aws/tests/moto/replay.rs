//! A replaying HTTP client for the APIs moto lacks (Security Hub BatchUpdateFindings, SSM
//! DescribeInstanceInformation): the production SDK client serialises a real request, this
//! records it, and answers with a response recorded from the real service (shape copied from the
//! service's API reference examples). The SDK then deserialises it exactly as in production.
//!
//! Written here rather than taken from aws-smithy-http-client's `test-util` feature: that feature
//! changes aws-smithy-http-client's feature set, and with it the fingerprint of every aws-sdk-*
//! crate, so test builds and normal builds would each compile the whole SDK (~5 min).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_types::region::Region;

/// A request as the SDK sent it.
#[derive(Debug, Clone)]
pub struct Sent {
    /// `POST`, `GET`, …
    pub method: String,
    /// The full URI.
    pub uri: String,
    /// Headers, lower-case names.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

impl Sent {
    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("request body is JSON")
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A canned response: status, headers, body.
type Canned = (u16, Vec<(&'static str, &'static str)>, String);

/// Canned responses, answered in order; every request is recorded.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    responses: Arc<Mutex<VecDeque<Canned>>>,
    sent: Arc<Mutex<Vec<Sent>>>,
}

impl Replay {
    /// Queues a response.
    pub fn respond(
        &self,
        status: u16,
        headers: &[(&'static str, &'static str)],
        body: impl Into<String>,
    ) -> &Self {
        self.responses
            .lock()
            .unwrap()
            .push_back((status, headers.to_vec(), body.into()));
        self
    }

    /// What was sent so far.
    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().unwrap().clone()
    }

    /// An SDK configuration that sends through this replay, with static credentials, no retries.
    pub fn sdk_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKID", "SECRET", None, None, "replay",
            )))
            .retry_config(RetryConfig::disabled())
            .http_client(SharedHttpClient::new(self.clone()))
            .build()
    }
}

impl HttpConnector for Replay {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let sent = Sent {
            method: request.method().to_owned(),
            uri: request.uri().to_owned(),
            headers: request
                .headers()
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
                .collect(),
            body: String::from_utf8_lossy(request.body().bytes().unwrap_or_default()).into_owned(),
        };
        self.sent.lock().unwrap().push(sent.clone());
        let (status, headers, body) =
            self.responses
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or_else(|| {
                    panic!(
                        "replay has no response left for {} {}",
                        sent.method, sent.uri
                    )
                });
        let mut response =
            HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body));
        for (k, v) in headers {
            response.headers_mut().insert(k, v);
        }
        HttpConnectorFuture::ready(Ok(response))
    }
}

impl HttpClient for Replay {
    fn http_connector(
        &self,
        _: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}
