//! `custody iam-policy [--step NAME | --all] [--json]`: the IAM actions each step's code declares.
//!
//! Every port operation carries a [`Capability`](custody_steps::capability::Capability) with the
//! IAM actions its AWS adapter calls; a step lists the capabilities it uses. This command prints
//! their union per step, so the deployment (the CDK app in `cdk/`, which reads the committed
//! `cdk/generated/step-actions.json`) grants exactly what the code calls and nothing more. A test
//! (`tests/iam_policy.rs`) fails when the committed file drifts from this output.
//!
//! The output also says in which account each action is exercised, because a step acts in two
//! places: the forensic account (with its function's own role) and the application account of the
//! case (with the responder role it assumes there). The split follows the ports:
//!
//! | port | account |
//! | --- | --- |
//! | Compute, Quarantine, Identity, Cluster | target (responder role) |
//! | Snapshots, NodeCommands | both: source snapshots and commands on the subject in the target, copies and workstation commands in the forensic account |
//! | CaseStore, EvidenceStore, Notifier, FindingsHub, Workstation | forensic (function role) |

use custody_steps::StepName;
use custody_steps::capability::{Capability, PortName, iam_actions};
use serde::Serialize;
use std::collections::BTreeMap;
use std::process::ExitCode;

/// Arguments of `custody iam-policy`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["step", "all"])))]
pub struct Args {
    /// One step (kebab-case, as `custody step` takes it).
    #[arg(long, value_name = "NAME")]
    step: Option<StepName>,
    /// Every step.
    #[arg(long)]
    all: bool,
    /// Print one JSON object (`{"steps": {...}, "accounts": {...}}`) instead of text.
    #[arg(long)]
    json: bool,
}

/// The accounts one step acts in, with the actions it needs in each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountSplit {
    /// Actions the function's own role needs in the forensic account.
    pub forensic: Vec<&'static str>,
    /// Actions the responder role needs in the case's application account.
    pub target: Vec<&'static str>,
}

/// What the command prints with `--json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policies {
    /// Step name → the sorted, de-duplicated IAM actions of every capability it declares.
    pub steps: BTreeMap<&'static str, Vec<&'static str>>,
    /// Step name → the same actions split by the account they are exercised in.
    pub accounts: BTreeMap<&'static str, AccountSplit>,
}

/// Where a port's operations run, see the module docs.
const fn acts_in(port: PortName) -> (bool, bool) {
    // (forensic, target)
    match port {
        PortName::Compute | PortName::Quarantine | PortName::Identity | PortName::Cluster => {
            (false, true)
        }
        PortName::Snapshots | PortName::NodeCommands => (true, true),
        PortName::CaseStore
        | PortName::EvidenceStore
        | PortName::Notifier
        | PortName::FindingsHub
        | PortName::Workstation => (true, false),
    }
}

/// The policies of `steps`.
pub fn policies(steps: &[StepName]) -> Policies {
    let mut out = Policies {
        steps: BTreeMap::new(),
        accounts: BTreeMap::new(),
    };
    for step in steps {
        let caps = step.capabilities();
        let forensic: Vec<&Capability> =
            caps.iter().copied().filter(|c| acts_in(c.port).0).collect();
        let target: Vec<&Capability> = caps.iter().copied().filter(|c| acts_in(c.port).1).collect();
        out.steps.insert(step.as_str(), iam_actions(caps));
        out.accounts.insert(
            step.as_str(),
            AccountSplit {
                forensic: iam_actions(&forensic),
                target: iam_actions(&target),
            },
        );
    }
    out
}

/// Prints the policies of one step or of all.
///
/// # Errors
/// When the JSON cannot be serialised (never for these types).
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let steps: Vec<StepName> = match args.step {
        Some(step) if !args.all => vec![step],
        _ => StepName::ALL.to_vec(),
    };
    let policies = policies(&steps);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&policies)?);
    } else {
        for (step, split) in &policies.accounts {
            println!("{step}");
            println!("  forensic account: {}", join(&split.forensic));
            println!("  target account:   {}", join(&split.target));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn join(actions: &[&str]) -> String {
    if actions.is_empty() {
        "(none)".to_owned()
    } else {
        actions.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_lands_in_at_least_one_account() {
        let p = policies(StepName::ALL);
        for (step, actions) in &p.steps {
            let split = &p.accounts[step];
            for a in actions {
                assert!(
                    split.forensic.contains(a) || split.target.contains(a),
                    "{step}: {a} is in no account"
                );
            }
        }
    }

    #[test]
    fn case_table_is_forensic_only_and_ec2_reads_target_only() {
        let p = policies(&[StepName::Triage]);
        let split = &p.accounts["triage"];
        assert!(split.forensic.iter().any(|a| a.starts_with("dynamodb:")));
        assert!(!split.target.iter().any(|a| a.starts_with("dynamodb:")));
        assert!(split.target.contains(&"ec2:DescribeInstances"));
        assert!(!split.forensic.contains(&"ec2:DescribeInstances"));
    }
}
