//! Requests a person (or a SIEM acting for one) sends: a finding with who asks and why, a target
//! named directly, or a batch of ASFF findings.
//!
//! These are custody's own formats, so unknown keys are refused (a misspelt `isolate` must not
//! silently mean "do not isolate").

use super::json::Node;
use super::request::{CaseRequest, FindingRef, Intent, RequestSource, Requester, Target};
use super::{InputError, asff, guardduty};
use crate::id::{AccountId, ClusterName, InstanceId, Namespace, NodeName, PodName, Region};

/// The requester recorded for a bare ASFF finding (no person named).
pub(crate) const FORWARDED_ASFF: &str = "forwarded ASFF finding";
/// The requester recorded for a bare GuardDuty finding (no person named).
pub(crate) const FORWARDED_GUARDDUTY: &str = "forwarded GuardDuty finding";

/// The most pods one plain request may name.
const MAX_PODS: usize = 100;
/// The most findings one input may carry.
const MAX_FINDINGS: usize = 100;

/// `isolate`, defaulting to false (the safe direction) when absent.
fn isolate(root: &Node<'_>) -> Result<bool, InputError> {
    root.opt("isolate")?
        .map(|n| n.bool())
        .transpose()
        .map(|b| b.unwrap_or(false))
}

/// `requestedBy`: required, 1–256 characters, no control characters.
fn requester(root: &Node<'_>) -> Result<Requester, InputError> {
    Ok(Requester::Human {
        principal: root.field("requestedBy")?.text(256)?,
    })
}

/// `reason`: optional, at most 1024 characters.
fn reason(root: &Node<'_>) -> Result<Option<String>, InputError> {
    root.opt("reason")?.map(|n| n.text(1024)).transpose()
}

/// Parses every finding in `list` and checks they are about one subject. Pods of the same
/// namespace are merged into one target (a person selecting several findings about one
/// workload's pods means one case).
pub(crate) fn findings(
    list: &Node<'_>,
    parse: impl Fn(&Node<'_>) -> Result<(Target, FindingRef), InputError>,
) -> Result<(Target, Vec<FindingRef>), InputError> {
    let items = list.array()?;
    if items.is_empty() {
        return Err(list.error("must contain at least one finding"));
    }
    if items.len() > MAX_FINDINGS {
        return Err(list.error(format!(
            "contains {} findings; at most {MAX_FINDINGS} per case",
            items.len()
        )));
    }
    let mut target: Option<Target> = None;
    let mut refs = Vec::with_capacity(items.len());
    for item in &items {
        let (next, finding) = parse(item)?;
        target = Some(match target {
            None => next,
            Some(current) => merge(&current, &next).ok_or_else(|| {
                item.error(format!(
                    "names a different subject ({next}) than the findings before it ({current}); custody opens one case per subject"
                ))
            })?,
        });
        if !refs
            .iter()
            .any(|r: &FindingRef| r.id == finding.id && r.product == finding.product)
        {
            refs.push(finding);
        }
    }
    match target {
        Some(t) => Ok((t, refs)),
        None => Err(list.error("must contain at least one finding")),
    }
}

/// Two findings' subjects as one: equal subjects, or pods of one namespace (merged, in order).
fn merge(a: &Target, b: &Target) -> Option<Target> {
    if a == b {
        return Some(a.clone());
    }
    match (a, b) {
        (
            Target::Pods {
                account,
                region,
                cluster,
                namespace,
                pods,
            },
            Target::Pods {
                account: a2,
                region: r2,
                cluster: c2,
                namespace: n2,
                pods: more,
            },
        ) if account == a2 && region == r2 && cluster == c2 && namespace == n2 => {
            let mut pods = pods.clone();
            for p in more {
                if !pods.contains(p) {
                    pods.push(p.clone());
                }
            }
            Some(Target::Pods {
                account: account.clone(),
                region: region.clone(),
                cluster: cluster.clone(),
                namespace: namespace.clone(),
                pods,
            })
        }
        _ => None,
    }
}

/// `{"finding": <GuardDuty or ASFF finding>, "isolate", "requestedBy", "reason"}`.
pub(crate) fn siem_request(root: &Node<'_>) -> Result<CaseRequest, InputError> {
    root.only_keys(&["finding", "isolate", "requestedBy", "reason"])?;
    let finding = root.field("finding")?;
    finding.object()?;
    let (source, (target, finding)) = if guardduty::looks_like(&finding) {
        (RequestSource::GuardDutyFinding, guardduty::parse(&finding)?)
    } else if asff::looks_like(&finding) {
        (RequestSource::AsffFinding, asff::parse(&finding)?)
    } else {
        return Err(finding.error(
            "is neither a GuardDuty finding (schemaVersion, accountId, type, resource) nor an ASFF finding (SchemaVersion, ProductArn, Resources)",
        ));
    };
    Ok(CaseRequest {
        source,
        intent: Intent {
            isolate: isolate(root)?,
        },
        target,
        findings: vec![finding],
        requested_by: requester(root)?,
        reason: reason(root)?,
    })
}

/// `{"findings"|"Findings": [ASFF...], "isolate"?, "requestedBy"?, "reason"?}`. Isolation
/// needs a named requester.
pub(crate) fn asff_batch(root: &Node<'_>) -> Result<CaseRequest, InputError> {
    root.only_keys(&["findings", "Findings", "isolate", "requestedBy", "reason"])?;
    if root.has("findings") && root.has("Findings") {
        return Err(root.error("has both \"findings\" and \"Findings\"; send one list"));
    }
    let list = match root.opt("findings")? {
        Some(l) => l,
        None => root.field("Findings")?,
    };
    let (target, findings) = findings(&list, asff::parse)?;
    let isolate = isolate(root)?;
    let requested_by = match root.opt("requestedBy")? {
        Some(_) => requester(root)?,
        None if isolate => {
            return Err(InputError {
                path: root.child_path("requestedBy"),
                reason: "is required when isolate is true: containment needs a named requester"
                    .to_owned(),
            });
        }
        None => Requester::Automation {
            rule: FORWARDED_ASFF.to_owned(),
        },
    };
    Ok(CaseRequest {
        source: RequestSource::AsffFinding,
        intent: Intent { isolate },
        target,
        findings,
        requested_by,
        reason: reason(root)?,
    })
}

/// `{"target": {...}, "account", "region", "isolate", "requestedBy", "reason"}` where the
/// target is `{"instanceId"}`, `{"cluster", "node"}` or `{"cluster", "namespace", "pods"}`.
pub(crate) fn plain_request(root: &Node<'_>) -> Result<CaseRequest, InputError> {
    root.only_keys(&[
        "target",
        "account",
        "region",
        "isolate",
        "requestedBy",
        "reason",
    ])?;
    let account = root.field("account")?.id(AccountId::parse)?;
    let region = root.field("region")?.id(Region::parse)?;
    let t = root.field("target")?;
    t.object()?;
    let target = if t.has("instanceId") {
        t.only_keys(&["instanceId"])?;
        Target::Instance {
            account,
            region,
            instance_id: t.field("instanceId")?.id(InstanceId::parse)?,
        }
    } else if t.has("node") {
        t.only_keys(&["cluster", "node"])?;
        Target::Node {
            account,
            region,
            cluster: t.field("cluster")?.id(ClusterName::parse)?,
            node: t.field("node")?.id(NodeName::parse)?,
        }
    } else if t.has("pods") {
        t.only_keys(&["cluster", "namespace", "pods"])?;
        let cluster = t.field("cluster")?.id(ClusterName::parse)?;
        let namespace = t.field("namespace")?.id(Namespace::parse)?;
        let list = t.field("pods")?;
        let items = list.array()?;
        if items.is_empty() {
            return Err(list.error("must name at least one pod"));
        }
        if items.len() > MAX_PODS {
            return Err(list.error(format!(
                "names {} pods; at most {MAX_PODS} per case",
                items.len()
            )));
        }
        let mut pods: Vec<PodName> = Vec::with_capacity(items.len());
        for item in &items {
            let pod = item.id(PodName::parse)?;
            if !pods.contains(&pod) {
                pods.push(pod);
            }
        }
        Target::Pods {
            account,
            region,
            cluster,
            namespace,
            pods,
        }
    } else {
        return Err(t.error(
            "must name {\"instanceId\"}, {\"cluster\", \"node\"} or {\"cluster\", \"namespace\", \"pods\"}",
        ));
    };
    Ok(CaseRequest {
        source: RequestSource::PlainRequest,
        intent: Intent {
            isolate: isolate(root)?,
        },
        target,
        findings: Vec::new(),
        requested_by: requester(root)?,
        reason: reason(root)?,
    })
}
