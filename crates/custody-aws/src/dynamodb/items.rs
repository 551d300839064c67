//! The items of one case's collection, to and from DynamoDB attribute maps (see `SCHEMA.md`).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use custody_core::case::{Case, CaseStatus};
use custody_core::error::{ErrorName, StepError};
use custody_core::id::{CaseId, Timestamp};
use custody_core::trigger::Target;
use custody_steps::ports::CaseSummary;
use serde_json::Value;

use crate::error::step_error;

/// The sort key of the case item.
const CASE_SK: &str = "CASE";
/// The prefix of finding pointers.
const FINDING_PREFIX: &str = "FINDING#";

/// The lists stored as items of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Timeline,
    Evidence,
    Actions,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Timeline, Kind::Evidence, Kind::Actions];

    /// The field of the case's JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Timeline => "timeline",
            Kind::Evidence => "evidence",
            Kind::Actions => "actions",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Kind::Timeline => "TIMELINE#",
            Kind::Evidence => "EVIDENCE#",
            Kind::Actions => "ACTION#",
        }
    }

    fn count_attribute(self) -> &'static str {
        match self {
            Kind::Timeline => "timelineCount",
            Kind::Evidence => "evidenceCount",
            Kind::Actions => "actionCount",
        }
    }

    /// Timeline events and evidence are never rewritten; actions change status.
    pub(crate) fn is_append_only(self) -> bool {
        !matches!(self, Kind::Actions)
    }
}

/// `CASE#<id>`.
pub(crate) fn case_key(id: &CaseId) -> String {
    format!("CASE#{id}")
}

/// `STATUS#<status>`.
pub(crate) fn status_key(status: &CaseStatus) -> Result<String, StepError> {
    Ok(format!("STATUS#{}", status.as_str()))
}

/// Every status, for listing without a filter.
pub(crate) fn all_statuses() -> Vec<CaseStatus> {
    CaseStatus::ALL.to_vec()
}

/// The `id` field of a list item's JSON, if it has one.
pub(crate) fn item_id(body: &str) -> Option<String> {
    serde_json::from_str::<Value>(body)
        .ok()?
        .get("id")?
        .as_str()
        .map(str::to_owned)
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn corrupt(context: &str, what: impl std::fmt::Display) -> StepError {
    step_error(
        ErrorName::Internal,
        format!("{context}: the stored case is unreadable: {what}"),
        None,
        None,
    )
}

/// A short description of a case's subject for listings (every name in a target is validated).
pub(crate) fn subject(target: &Target) -> String {
    let (account, region) = target.account_region();
    format!("{target} ({account}/{region})")
}

/// A case split into its stored parts.
pub(crate) struct CaseParts {
    id: CaseId,
    status: CaseStatus,
    opened_at: String,
    subject: String,
    header: serde_json::Map<String, Value>,
    timeline: Vec<String>,
    evidence: Vec<String>,
    actions: Vec<String>,
    /// The ids of the findings that motivated the case.
    pub(crate) findings: Vec<String>,
}

impl CaseParts {
    pub(crate) fn of(context: &str, case: &Case) -> Result<Self, StepError> {
        let unserialisable = |e: &dyn std::fmt::Display| {
            step_error(
                ErrorName::Internal,
                format!("{context}: the case does not serialise: {e}"),
                None,
                None,
            )
        };
        let Value::Object(mut header) =
            serde_json::to_value(case).map_err(|e| unserialisable(&e))?
        else {
            return Err(unserialisable(&"not a JSON object"));
        };
        let mut take = |kind: Kind| -> Result<Vec<String>, StepError> {
            match header.remove(kind.name()) {
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| serde_json::to_string(i).map_err(|e| unserialisable(&e)))
                    .collect(),
                None => Ok(Vec::new()),
                Some(_) => Err(unserialisable(&format!("{} is not a list", kind.name()))),
            }
        };
        let timeline = take(Kind::Timeline)?;
        let evidence = take(Kind::Evidence)?;
        let actions = take(Kind::Actions)?;
        let mut findings: Vec<String> =
            case.request.findings.iter().map(|f| f.id.clone()).collect();
        findings.sort();
        findings.dedup();
        Ok(Self {
            id: case.id.clone(),
            status: case.status,
            opened_at: case.opened_at.to_rfc3339(),
            subject: subject(&case.request.target),
            header,
            timeline,
            evidence,
            actions,
            findings,
        })
    }

    pub(crate) fn lists(&self) -> [(Kind, &Vec<String>); 3] {
        [
            (Kind::Timeline, &self.timeline),
            (Kind::Evidence, &self.evidence),
            (Kind::Actions, &self.actions),
        ]
    }

    fn list(&self, kind: Kind) -> &[String] {
        match kind {
            Kind::Timeline => &self.timeline,
            Kind::Evidence => &self.evidence,
            Kind::Actions => &self.actions,
        }
    }

    fn order_key(&self) -> String {
        format!("{}#{}", self.opened_at, self.id)
    }

    /// The case item, stored at `version`.
    pub(crate) fn case_item(&self, version: u64) -> BTreeMap<String, AttributeValue> {
        let mut header = self.header.clone();
        header.insert("version".to_owned(), Value::from(version));
        let mut item = BTreeMap::from([
            ("pk".to_owned(), s(case_key(&self.id))),
            ("sk".to_owned(), s(CASE_SK)),
            ("caseId".to_owned(), s(self.id.as_str())),
            ("version".to_owned(), n(version)),
            ("status".to_owned(), s(self.status.as_str())),
            ("openedAt".to_owned(), s(&self.opened_at)),
            ("subject".to_owned(), s(&self.subject)),
            ("body".to_owned(), s(Value::Object(header).to_string())),
            (
                "gsi2pk".to_owned(),
                s(format!("STATUS#{}", self.status.as_str())),
            ),
            ("gsi2sk".to_owned(), s(self.order_key())),
        ]);
        for kind in Kind::ALL {
            item.insert(kind.count_attribute().to_owned(), n(self.list(kind).len()));
        }
        item
    }

    /// The pointer from a finding to this case.
    pub(crate) fn finding_item(&self, finding: &str) -> BTreeMap<String, AttributeValue> {
        BTreeMap::from([
            ("pk".to_owned(), s(case_key(&self.id))),
            ("sk".to_owned(), s(format!("{FINDING_PREFIX}{finding}"))),
            ("caseId".to_owned(), s(self.id.as_str())),
            ("gsi1pk".to_owned(), s(format!("{FINDING_PREFIX}{finding}"))),
            ("gsi1sk".to_owned(), s(self.order_key())),
        ])
    }

    /// Item `index` of a list.
    pub(crate) fn list_item(&self, kind: Kind, index: usize) -> BTreeMap<String, AttributeValue> {
        let body = self.list(kind).get(index).cloned().unwrap_or_default();
        let mut item = BTreeMap::from([
            ("pk".to_owned(), s(case_key(&self.id))),
            ("sk".to_owned(), s(format!("{}{index:06}", kind.prefix()))),
        ]);
        if let Some(id) = item_id(&body) {
            let attribute = if kind == Kind::Actions {
                "actionId"
            } else {
                "evidenceId"
            };
            if kind != Kind::Timeline {
                item.insert(attribute.to_owned(), s(id));
            }
        }
        item.insert("body".to_owned(), s(body));
        item
    }
}

/// A case's collection as read back.
pub(crate) struct StoredCase {
    pub(crate) version: u64,
    header: serde_json::Map<String, Value>,
    timeline: Vec<String>,
    evidence: Vec<String>,
    actions: Vec<String>,
    pub(crate) findings: Vec<String>,
}

fn text<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

impl StoredCase {
    /// Assembles the items of one partition; `None` when there is no case item.
    pub(crate) fn from_items(
        context: &str,
        items: Vec<HashMap<String, AttributeValue>>,
    ) -> Result<Option<Self>, StepError> {
        let mut case_item = None;
        let mut lists: [Vec<(String, String)>; 3] = Default::default();
        let mut findings = Vec::new();
        for item in items {
            let Some(sk) = text(&item, "sk").map(str::to_owned) else {
                continue;
            };
            if sk == CASE_SK {
                case_item = Some(item);
                continue;
            }
            if let Some(finding) = sk.strip_prefix(FINDING_PREFIX) {
                findings.push(finding.to_owned());
                continue;
            }
            for (slot, kind) in Kind::ALL.iter().enumerate() {
                if sk.starts_with(kind.prefix()) {
                    let body = text(&item, "body")
                        .ok_or_else(|| corrupt(context, format!("{sk} has no body")))?;
                    if let Some(list) = lists.get_mut(slot) {
                        list.push((sk.clone(), body.to_owned()));
                    }
                }
            }
        }
        let Some(case_item) = case_item else {
            return Ok(None);
        };
        let version = text(&case_item, "version")
            .or_else(|| {
                case_item
                    .get("version")
                    .and_then(|v| v.as_n().ok())
                    .map(String::as_str)
            })
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| corrupt(context, "the case item has no numeric version"))?;
        let body = text(&case_item, "body")
            .ok_or_else(|| corrupt(context, "the case item has no body"))?;
        let Value::Object(header) = serde_json::from_str(body).map_err(|e| corrupt(context, e))?
        else {
            return Err(corrupt(context, "the case body is not a JSON object"));
        };
        let [mut timeline, mut evidence, mut actions] = lists;
        for list in [&mut timeline, &mut evidence, &mut actions] {
            list.sort();
        }
        let bodies = |l: Vec<(String, String)>| l.into_iter().map(|(_, b)| b).collect::<Vec<_>>();
        findings.sort();
        Ok(Some(Self {
            version,
            header,
            timeline: bodies(timeline),
            evidence: bodies(evidence),
            actions: bodies(actions),
            findings,
        }))
    }

    /// A stored list, as JSON texts in order.
    pub(crate) fn list(&self, kind: Kind) -> &[String] {
        match kind {
            Kind::Timeline => &self.timeline,
            Kind::Evidence => &self.evidence,
            Kind::Actions => &self.actions,
        }
    }

    /// The case, with the version the store holds.
    pub(crate) fn into_case(self, context: &str) -> Result<Case, StepError> {
        let mut header = self.header;
        header.insert("version".to_owned(), Value::from(self.version));
        for kind in Kind::ALL {
            let items = match kind {
                Kind::Timeline => &self.timeline,
                Kind::Evidence => &self.evidence,
                Kind::Actions => &self.actions,
            };
            let values = items
                .iter()
                .map(|b| serde_json::from_str::<Value>(b).map_err(|e| corrupt(context, e)))
                .collect::<Result<Vec<_>, _>>()?;
            header.insert(kind.name().to_owned(), Value::Array(values));
        }
        let bytes = serde_json::to_vec(&Value::Object(header)).map_err(|e| corrupt(context, e))?;
        Case::from_json(&bytes).map_err(|e| corrupt(context, e))
    }
}

/// One line of a listing, from a GSI2 item.
pub(crate) fn summary_from_item(
    context: &str,
    item: &HashMap<String, AttributeValue>,
) -> Result<CaseSummary, StepError> {
    let field = |name: &str| {
        text(item, name).ok_or_else(|| corrupt(context, format!("a listed case has no {name}")))
    };
    let status_text = field("status")?;
    let status = CaseStatus::ALL
        .into_iter()
        .find(|s| s.as_str() == status_text)
        .ok_or_else(|| corrupt(context, format!("unknown status {status_text:?}")))?;
    Ok(CaseSummary {
        case_id: CaseId::parse(field("caseId")?).map_err(|e| corrupt(context, e))?,
        status,
        opened_at: Timestamp::parse(field("openedAt")?).map_err(|e| corrupt(context, e))?,
        subject: field("subject")?.to_owned(),
    })
}
