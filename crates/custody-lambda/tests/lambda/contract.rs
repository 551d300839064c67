//! The environment-variable contract with the CDK app: `cdk/generated/lambda-env.json` is
//! [`ENV_CONTRACT`], and [`ENV_CONTRACT`] is what this crate and custody-aws really read.
//!
//! Regenerate the file after changing the contract with
//! `CUSTODY_REGENERATE=1 cargo test -p custody-lambda --test lambda contract`.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::Path;

use custody_aws::AwsOptions;
use custody_lambda::config::{ENV_CONTRACT, FunctionConfig, env_contract_json};

use crate::common::{lookup, vars};

#[test]
fn the_committed_contract_is_the_code_s() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../cdk/generated/lambda-env.json");
    let want = format!(
        "{}\n",
        serde_json::to_string_pretty(&env_contract_json()).unwrap()
    );
    if std::env::var_os("CUSTODY_REGENERATE").is_some() {
        std::fs::write(&file, &want).unwrap();
    }
    let have = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        have == want,
        "cdk/generated/lambda-env.json is stale: regenerate it with \
         CUSTODY_REGENERATE=1 cargo test -p custody-lambda --test lambda contract"
    );
}

/// Every variable a configuration read asks for.
fn asked(read: impl FnOnce(&dyn Fn(&str) -> Option<String>)) -> BTreeSet<String> {
    let asked = RefCell::new(BTreeSet::new());
    let v = vars();
    let base = lookup(&v);
    let recording = |name: &str| {
        asked.borrow_mut().insert(name.to_owned());
        base(name)
    };
    read(&recording);
    asked.into_inner()
}

#[test]
fn the_contract_lists_exactly_what_the_code_reads() {
    let aws = asked(|l| {
        AwsOptions::from_lookup(l).unwrap();
    });
    let function = asked(|l| {
        FunctionConfig::from_lookup(l).unwrap();
    });
    assert!(aws.is_subset(&function), "FunctionConfig reads AwsOptions");
    let mut read = function;
    // Read by logging::init from the process environment (not through a lookup).
    read.insert("CUSTODY_LOG".to_owned());
    let listed: BTreeSet<String> = ENV_CONTRACT.iter().map(|v| v.name.to_owned()).collect();
    assert_eq!(listed, read);
    for var in ENV_CONTRACT.iter().filter(|v| v.required) {
        let mut v = vars();
        v.remove(var.name);
        assert!(
            FunctionConfig::from_lookup(lookup(&v)).is_err(),
            "{} is listed as required",
            var.name
        );
    }
}
