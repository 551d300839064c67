//! The `IsTriageRequired` guardrail: owners mark resources custody must never touch.
//!
//! On an instance or on its EKS cluster, the tag `IsTriageRequired`:
//! - `false` (case-insensitive, trimmed): the resource is PROTECTED. No acquisition, no
//!   isolation, nothing that mutates it or the pods scheduled on it.
//! - `true`, or no such tag: allowed.
//! - anything else (`no`, `0`, `False-ish`, empty): REFUSED with the value quoted. A typo in a
//!   safety tag is never guessed at in either direction.
//!
//! A key that differs only in case (`istriagerequired`) is refused the same way: the owner meant
//! something, and custody will not decide what.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The guardrail tag key.
pub const GUARDRAIL_TAG: &str = "IsTriageRequired";

/// What kind of resource carried the tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum GuardrailScope {
    /// An EC2 instance (an EKS node is its instance).
    Instance,
    /// An EKS cluster: its tag covers every node of the case.
    Cluster,
}

impl fmt::Display for GuardrailScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GuardrailScope::Instance => "instance",
            GuardrailScope::Cluster => "cluster",
        })
    }
}

/// What a resource's tags say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "outcome",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum TagVerdict {
    /// No tag, or `true`: custody may act.
    Allowed {
        /// The tag's value, if the tag is present.
        value: Option<String>,
    },
    /// `false`: custody must not act.
    Protected {
        /// The value as written.
        value: String,
    },
    /// A value (or a key spelling) that is neither true nor false: refused, never guessed.
    Malformed {
        /// The key as written.
        key: String,
        /// The value as written.
        value: String,
    },
}

impl TagVerdict {
    /// True only for [`TagVerdict::Allowed`].
    pub fn is_allowed(&self) -> bool {
        matches!(self, TagVerdict::Allowed { .. })
    }
}

/// Reads the guardrail tag from a resource's tags.
pub fn evaluate(tags: &BTreeMap<String, String>) -> TagVerdict {
    let mut keyed: Vec<(&String, &String)> = tags
        .iter()
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case(GUARDRAIL_TAG))
        .collect();
    // An exact key first; any other spelling present at all is malformed.
    keyed.sort_by_key(|(k, _)| k.as_str() != GUARDRAIL_TAG);
    match keyed.as_slice() {
        [] => TagVerdict::Allowed { value: None },
        [(key, value)] if key.as_str() == GUARDRAIL_TAG => {
            let v = value.trim();
            if v.eq_ignore_ascii_case("true") {
                TagVerdict::Allowed {
                    value: Some((*value).clone()),
                }
            } else if v.eq_ignore_ascii_case("false") {
                TagVerdict::Protected {
                    value: (*value).clone(),
                }
            } else {
                TagVerdict::Malformed {
                    key: (*key).clone(),
                    value: (*value).clone(),
                }
            }
        }
        [(key, value), ..] => {
            // Either the only key is misspelt, or several spellings coexist: pick the first
            // non-exact one to name in the refusal.
            let (key, value) = keyed
                .iter()
                .find(|(k, _)| k.as_str() != GUARDRAIL_TAG)
                .copied()
                .unwrap_or((key, value));
            TagVerdict::Malformed {
                key: key.clone(),
                value: value.clone(),
            }
        }
    }
}

/// The guardrail's verdict on one resource of a case, kept in the plan for the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuardrailDecision {
    /// The resource (instance id or cluster name).
    pub resource: String,
    /// What kind of resource.
    pub scope: GuardrailScope,
    /// What its tags say.
    pub verdict: TagVerdict,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn table() {
        let allowed_none = TagVerdict::Allowed { value: None };
        assert_eq!(evaluate(&tags(&[])), allowed_none);
        assert_eq!(evaluate(&tags(&[("Name", "x")])), allowed_none);
        for v in ["true", "True", "TRUE", " true "] {
            assert!(
                evaluate(&tags(&[("IsTriageRequired", v)])).is_allowed(),
                "{v:?}"
            );
        }
        for v in ["false", "False", "FALSE", " false\t"] {
            assert_eq!(
                evaluate(&tags(&[("IsTriageRequired", v)])),
                TagVerdict::Protected {
                    value: v.to_owned()
                },
                "{v:?}"
            );
        }
        for v in ["", "no", "0", "yes", "falsee", "fals", "nope"] {
            assert!(
                matches!(
                    evaluate(&tags(&[("IsTriageRequired", v)])),
                    TagVerdict::Malformed { .. }
                ),
                "{v:?}"
            );
        }
    }

    #[test]
    fn misspelt_keys_are_malformed_not_ignored() {
        let verdict = evaluate(&tags(&[("istriagerequired", "false")]));
        assert_eq!(
            verdict,
            TagVerdict::Malformed {
                key: "istriagerequired".to_owned(),
                value: "false".to_owned()
            }
        );
        let both = evaluate(&tags(&[
            ("IsTriageRequired", "true"),
            ("ISTRIAGEREQUIRED", "false"),
        ]));
        assert!(matches!(both, TagVerdict::Malformed { ref key, .. } if key == "ISTRIAGEREQUIRED"));
    }
}
