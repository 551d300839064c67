//! The Markdown report of a case: what was asked, what was refused, what was taken (with hashes),
//! what was changed (with what it replaced), and the timeline.
//!
//! Names from the subject's cluster are attacker-chosen: every untrusted string is escaped
//! (`{:?}`) and table cells have `|` and newlines neutralised, so a pod name cannot forge rows.

use custody_core::case::Case;

/// Makes a value safe for one Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('`', "'")
}

/// Renders the report.
pub(crate) fn render(case: &Case) -> String {
    let mut out = String::new();
    out.push_str(&format!("# custody case {}\n\n", case.id));
    out.push_str(&format!("- Status: **{:?}**\n", case.status));
    out.push_str(&format!(
        "- Opened: {}\n- Last update: {}\n",
        case.opened_at, case.updated_at
    ));
    out.push_str(&format!("- Execution: `{}`\n", cell(&case.execution_id)));
    out.push_str(&format!(
        "- Subject: {}\n",
        cell(&format!("{:?}", case.request.target))
    ));
    out.push_str(&format!(
        "- Isolation requested: {}\n",
        case.request.intent.isolate
    ));
    out.push_str(&format!(
        "- Requested by: {}\n",
        cell(&format!("{:?}", case.request.requested_by))
    ));
    if let Some(reason) = &case.request.reason {
        out.push_str(&format!("- Reason: {}\n", cell(&format!("{reason:?}"))));
    }
    if !case.request.findings.is_empty() {
        out.push_str(
            "\n## Findings\n\n| id | type | account | region |\n| --- | --- | --- | --- |\n",
        );
        for f in &case.request.findings {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                cell(&f.id),
                cell(&f.finding_type),
                f.account,
                f.region
            ));
        }
    }
    if let Some(plan) = &case.plan
        && !plan.refusals.is_empty()
    {
        out.push_str("\n## Refused by the guardrail or the planner\n\n| resource | reason |\n| --- | --- |\n");
        for r in &plan.refusals {
            out.push_str(&format!(
                "| {} | {} |\n",
                cell(&r.resource),
                cell(&r.reason.to_string())
            ));
        }
    }
    out.push_str("\n## Evidence\n\n");
    if case.evidence.is_empty() {
        out.push_str("No evidence was taken.\n");
    } else {
        out.push_str(
            "| id | kind | resource | location | SHA-256 | digest | bytes | taken at | by | method |\n",
        );
        out.push_str("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for e in &case.evidence {
            out.push_str(&format!(
                "| {} | {:?} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                cell(&e.id),
                e.kind,
                cell(&e.resource),
                cell(&e.location),
                e.sha256
                    .as_ref()
                    .map_or_else(|| "—".to_owned(), ToString::to_string),
                // Who computed the digest: a reader must not take a host's hash for S3's.
                match (&e.sha256, e.digest_source) {
                    (Some(_), Some(source)) => source.describe(),
                    (Some(_), None) => "source not recorded",
                    (None, _) => "—",
                },
                e.size_bytes
                    .map_or_else(|| "—".to_owned(), |b| b.to_string()),
                e.taken_at,
                cell(&e.taken_by),
                cell(e.method.as_deref().unwrap_or("—")),
            ));
        }
    }
    out.push_str("\n## Actions\n\n");
    if case.actions.is_empty() {
        out.push_str("Nothing was changed on the subject.\n");
    } else {
        out.push_str("| id | kind | target | status | prior state | applied at | by | detail |\n");
        out.push_str("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for a in &case.actions {
            out.push_str(&format!(
                "| {} | {:?} | {} | {:?} | {} | {} | {} | {} |\n",
                cell(&a.id),
                a.kind,
                cell(&a.target),
                a.status,
                cell(&serde_json::to_string(&a.prior).unwrap_or_default()),
                a.applied_at,
                cell(&format!("{:?}", a.by)),
                cell(a.detail.as_deref().unwrap_or("")),
            ));
        }
    }
    if let Some(failure) = &case.failure {
        out.push_str(&format!(
            "\n## Failure\n\n{}\n",
            cell(&format!("{failure:?}"))
        ));
    }
    out.push_str("\n## Timeline\n\n| at | actor | kind | message |\n| --- | --- | --- | --- |\n");
    for t in &case.timeline {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            t.at,
            cell(&format!("{:?}", t.actor)),
            cell(&t.kind),
            cell(&t.message)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_forge_rows() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
