//! The `Cluster` port's contract: one set of scenarios, written once against
//! [`contract::ClusterUnderTest`], run against both implementations —
//!
//! - `on_sim`: the simulated cluster of custody-sim (what every scenario test and local run
//!   uses), and
//! - `on_kube`: custody-kube's `KubeCluster` over HTTP to kmock's KubernetesEmulator on
//!   loopback (a stateful in-memory API server; see [`kmock`] for what it does not do).
//!
//! A scenario seeds its objects, calls the port, and reads back the stored objects, so both
//! sides are judged by their effects. Where the two once disagreed the rule is written in the
//! port's documentation (`custody_steps::ports::Cluster`) and both follow it.
//!
//! Run: `cargo test -p custody-scenarios --test cluster_contract` (needs `.venv` with kmock:
//! `scripts/bootstrap`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test that cannot set up must fail loudly"
)]

mod actions;
mod contract;
mod kmock;
mod reads;
mod seed;
mod sim;

/// Declares each scenario once per implementation: `on_sim::<scenario>` and
/// `on_kube::<scenario>`.
macro_rules! contract {
    ($($module:ident :: $scenario:ident),+ $(,)?) => {
        mod on_sim {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let backend = crate::sim::SimBackend::new().await;
                    crate::$module::$scenario(&backend).await;
                }
            )+
        }

        mod on_kube {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let backend = crate::kmock::KmockBackend::start().await;
                    crate::$module::$scenario(&backend).await;
                }
            )+
        }
    };
}

contract!(
    reads::find_pod_by_name,
    reads::find_pods_by_label_selector,
    reads::refuse_selectors_that_widen_the_case,
    reads::find_pods_by_service_account,
    reads::find_pods_on_a_node,
    reads::pod_to_node_to_instance,
    reads::node_with_a_malformed_provider_id_has_no_instance,
    reads::workload_selectors_by_kind,
    reads::unknown_workload_kind_is_unsupported,
    reads::workload_selectors_that_cannot_be_used,
    actions::quarantine_label_keeps_other_labels_and_is_idempotent,
    actions::quarantine_label_over_an_existing_value,
    actions::quarantine_label_failures_are_named_alike,
    actions::restore_pod_label_puts_back_what_was_there,
    actions::deny_all_policy_is_created_once,
    actions::allowing_policies_are_reported,
    actions::delete_policy_is_idempotent,
    actions::cordon_and_uncordon_restore_prior,
);
