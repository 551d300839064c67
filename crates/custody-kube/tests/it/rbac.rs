//! The responder's ClusterRole (`cdk/manifests/responder-clusterrole.yaml`) against the
//! `Cluster` port's declared RBAC needs (`custody_steps::ports::ops::cluster`): it must grant
//! every `resource:verb` an operation declares (or the operation fails with
//! `Custody.AccessDenied` in a real cluster) and nothing else (the role is documented as the
//! minimum).

use std::collections::BTreeSet;

use custody_steps::ports::ops::cluster::ALL;

/// The items of a YAML flow list `key: ["a", "b"]` (the manifest's only list style).
fn flow_list(line: &str) -> Vec<String> {
    let (_, rest) = line.split_once(':').unwrap();
    let inner = rest
        .trim()
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or_else(|| panic!("not a flow list: {line:?}"));
    inner
        .split(',')
        .map(|item| item.trim().trim_matches('"').to_owned())
        .filter(|item| !item.is_empty() || inner.trim() == "\"\"")
        .collect()
}

/// `resource[.group]:verb` for every rule of the ClusterRole (the manifest's first document).
fn granted() -> BTreeSet<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../cdk/manifests/responder-clusterrole.yaml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let role = text.split("\n---").next().unwrap();
    assert!(
        role.contains("kind: ClusterRole"),
        "first document is the role"
    );
    let mut rules: Vec<(Vec<String>, Vec<String>, Vec<String>)> = Vec::new();
    for line in role.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
        if let Some(rest) = line.strip_prefix("- apiGroups:") {
            rules.push((flow_list(&format!("apiGroups:{rest}")), vec![], vec![]));
        } else if line.starts_with("resources:") {
            rules.last_mut().unwrap().1 = flow_list(line);
        } else if line.starts_with("verbs:") {
            rules.last_mut().unwrap().2 = flow_list(line);
        }
    }
    assert!(!rules.is_empty(), "the role has rules");
    let mut granted = BTreeSet::new();
    for (groups, resources, verbs) in rules {
        assert!(!resources.is_empty() && !verbs.is_empty(), "complete rule");
        for group in &groups {
            for resource in &resources {
                for verb in &verbs {
                    let qualified = if group.is_empty() {
                        resource.clone()
                    } else {
                        format!("{resource}.{group}")
                    };
                    granted.insert(format!("{qualified}:{verb}"));
                }
            }
        }
    }
    granted
}

#[test]
fn the_cluster_role_grants_exactly_what_the_port_declares() {
    let declared: BTreeSet<String> = ALL
        .iter()
        .flat_map(|c| c.rbac.iter().map(|r| (*r).to_owned()))
        .collect();
    let granted = granted();
    let missing: Vec<_> = declared.difference(&granted).collect();
    let extra: Vec<_> = granted.difference(&declared).collect();
    assert!(
        missing.is_empty(),
        "the ClusterRole lacks what operations need: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "the ClusterRole grants what no operation declares: {extra:?}"
    );
}

#[test]
fn the_role_parser_reads_core_and_named_groups() {
    assert_eq!(flow_list(r#"apiGroups: [""]"#), [""]);
    assert_eq!(
        flow_list(r#"verbs: ["get", "list"]"#),
        ["get".to_owned(), "list".to_owned()]
    );
    assert!(granted().contains("pods:patch"));
    assert!(granted().contains("networkpolicies.networking.k8s.io:create"));
}
