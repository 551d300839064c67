//! Integration tests of the AWS adapters through the production SDK clients against moto's
//! server on loopback: real HTTP, real serialisation, real error codes. Each test starts its own
//! moto (a free port, killed on drop), seeds it through the SDK, drives an adapter, and checks the
//! effect through the API afterwards. APIs moto lacks are tested against recorded responses
//! (`replay`), and say so.
//!
//! One binary, because linking the SDK is the slow part of the build.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

#[path = "moto/harness.rs"]
mod harness;
#[path = "moto/replay.rs"]
mod replay;
#[path = "moto/seed.rs"]
mod seed;

#[path = "moto/cases.rs"]
mod cases;
#[path = "moto/ec2.rs"]
mod ec2;
#[path = "moto/environment.rs"]
mod environment;
#[path = "moto/evidence.rs"]
mod evidence;
#[path = "moto/host_upload.rs"]
mod host_upload;
#[path = "moto/identity.rs"]
mod identity;
#[path = "moto/messages.rs"]
mod messages;
