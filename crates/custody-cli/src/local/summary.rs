//! How a case is shown to a person: the run summary, `case show`, and the fallback report.
//!
//! Every string here may come from the attacker's cluster (pod names, labels), so free text is
//! printed with `{:?}`.

use std::fmt::Write as _;

use custody_core::case::Case;

/// The readable case: status, subject, evidence with hashes, actions with prior state,
/// refusals, failure, and (with `timeline`) every timeline entry.
pub fn render_case(case: &Case, timeline: bool) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "case      {}", case.id);
    let _ = writeln!(o, "status    {}", case.status);
    let _ = writeln!(o, "subject   {:?}", case.request.target.to_string());
    let _ = writeln!(o, "opened    {}", case.opened_at);
    let _ = writeln!(o, "\nevidence ({})", case.evidence.len());
    for e in &case.evidence {
        let _ = writeln!(
            o,
            "  {:<22} {:?}\n    location {:?}\n    sha256   {}\n    size     {}",
            format!("{:?}", e.kind),
            e.resource,
            e.location,
            e.sha256
                .as_ref()
                .map_or_else(|| "-".to_owned(), ToString::to_string),
            e.size_bytes
                .map_or_else(|| "-".to_owned(), |s| format!("{s} bytes")),
        );
    }
    let _ = writeln!(o, "\nactions ({})", case.actions.len());
    for a in &case.actions {
        let _ = writeln!(
            o,
            "  {:<24} {:<10} {:?}\n    prior    {}",
            format!("{:?}", a.kind),
            format!("{:?}", a.status),
            a.target,
            serde_json::to_string(&a.prior).unwrap_or_default()
        );
    }
    let refusals = case
        .plan
        .as_ref()
        .map(|p| p.refusals.as_slice())
        .unwrap_or_default();
    let _ = writeln!(o, "\nrefusals ({})", refusals.len());
    for r in refusals {
        let _ = writeln!(o, "  {}", serde_json::to_string(r).unwrap_or_default());
    }
    if let Some(f) = &case.failure {
        let _ = writeln!(
            o,
            "\nfailure   {} in {:?}: {:?}",
            f.error.name.as_str(),
            f.step,
            f.error.cause
        );
    }
    if timeline {
        let _ = writeln!(o, "\ntimeline ({})", case.timeline.len());
        for t in &case.timeline {
            let _ = writeln!(o, "  {} {:<18} {:?}", t.at, t.kind, t.message);
        }
    }
    o
}

/// A report rendered from the case record, for when the report step stored none.
pub fn fallback_report(case: &Case) -> String {
    format!(
        "# custody case {}\n\n(rendered locally from the case record: the report step stored no report)\n\n```\n{}```\n",
        case.id,
        render_case(case, true)
    )
}
