//! EKS and Kubernetes names. These are chosen by whoever controls the cluster, so they are the
//! identifiers most likely to be hostile.

use super::{describe_char, is_lower_hex, string_id};

/// True if `s` is an RFC 1123 DNS label: 1–63 of `[a-z0-9-]`, starting and ending alphanumeric.
/// For names custody validates without a dedicated type (NetworkPolicy names, label values).
pub fn is_dns_label(s: &str) -> bool {
    check_label(s).is_ok()
}

/// True if `s` is an RFC 1123 DNS subdomain: 1–253 bytes of dot-separated parts of `[a-z0-9-]`,
/// each starting and ending alphanumeric. For names custody validates without a dedicated type
/// (workload and NetworkPolicy names, label key prefixes).
///
/// This is the Kubernetes API server's rule (apimachinery's `IsDNS1123Subdomain`), which bounds
/// the whole name only: unlike DNS, it does not limit each dot-separated part to 63 bytes.
pub fn is_dns_subdomain(s: &str) -> bool {
    check_subdomain(s).is_ok()
}

/// Checks a Kubernetes label key, `[prefix/]name`: the optional prefix a DNS subdomain (see
/// [`is_dns_subdomain`]), the name 1–63 of `[A-Za-z0-9._-]` starting and ending alphanumeric.
/// The API server's rule (apimachinery's `IsQualifiedName`).
///
/// Label keys come from settings and from workload selectors read out of the attacker's
/// cluster, and are spliced into `labelSelector` query strings: a key containing `,`, `=` or `!`
/// would change what the selector selects, so every caller checks before use.
///
/// # Errors
/// Which part breaks the rule, as a fixed sentence callers put in their own errors (it never
/// repeats the key, which may be hostile: the caller prints that with `{:?}`).
pub fn check_label_key(key: &str) -> Result<(), &'static str> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix
        && !is_dns_subdomain(prefix)
    {
        return Err("the label key prefix is not a DNS subdomain");
    }
    if is_label_segment(name) {
        Ok(())
    } else {
        Err(
            "the label key name is not 1-63 characters of [A-Za-z0-9._-] starting and ending alphanumeric",
        )
    }
}

/// Checks a Kubernetes label value: empty, or 1–63 of `[A-Za-z0-9._-]` starting and ending
/// alphanumeric (apimachinery's `IsValidLabelValue`). Checked for the same reason as
/// [`check_label_key`]: a value with `,` or `!` in it would rewrite a `labelSelector`.
///
/// # Errors
/// A fixed sentence saying the value breaks the rule (never the value itself).
pub fn check_label_value(value: &str) -> Result<(), &'static str> {
    if value.is_empty() || is_label_segment(value) {
        Ok(())
    } else {
        Err(
            "the label value is not empty or 1-63 characters of [A-Za-z0-9._-] starting and ending alphanumeric",
        )
    }
}

/// The "name" segment of label keys and values: 1–63 of `[A-Za-z0-9._-]`, alphanumeric at both
/// ends.
fn is_label_segment(s: &str) -> bool {
    let bytes = s.as_bytes();
    !s.is_empty()
        && s.len() <= 63
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn first_bad_char(s: &str, allowed: impl Fn(char) -> bool) -> Option<char> {
    s.chars().find(|c| !allowed(*c))
}

fn label_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
}

fn check_label(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if s.len() > 63 {
        return Err(format!("must be at most 63 bytes, got {}", s.len()));
    }
    if let Some(c) = first_bad_char(s, label_char) {
        return Err(format!(
            "must be lowercase letters, digits and '-' (RFC 1123 label), found {}",
            describe_char(c)
        ));
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("must start and end with a letter or digit".to_owned());
    }
    Ok(())
}

fn check_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if s.len() > 253 {
        return Err(format!("must be at most 253 bytes, got {}", s.len()));
    }
    if let Some(c) = first_bad_char(s, |c| label_char(c) || c == '.') {
        return Err(format!(
            "must be lowercase letters, digits, '-' and '.' (RFC 1123 subdomain), found {}",
            describe_char(c)
        ));
    }
    for part in s.split('.') {
        if part.is_empty() {
            return Err("must not have empty dot-separated parts".to_owned());
        }
        if part.starts_with('-') || part.ends_with('-') {
            return Err(
                "each dot-separated part must start and end with a letter or digit".to_owned(),
            );
        }
    }
    Ok(())
}

fn validate_cluster(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if s.len() > 100 {
        return Err(format!("must be at most 100 bytes, got {}", s.len()));
    }
    if let Some(c) = first_bad_char(s, |c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(format!(
            "must be letters, digits, '-' and '_', found {}",
            describe_char(c)
        ));
    }
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("must start with a letter or digit".to_owned());
    }
    Ok(())
}

string_id! {
    /// An EKS cluster name: 1–100 characters, `^[0-9A-Za-z][A-Za-z0-9_-]*$` (the EKS API rule).
    ClusterName, "cluster name", validate_cluster
}

string_id! {
    /// A Kubernetes namespace: an RFC 1123 label of at most 63 characters.
    Namespace, "namespace", check_label
}

string_id! {
    /// A pod name: an RFC 1123 subdomain of at most 253 characters.
    ///
    /// Attacker-chosen: never interpolated into a shell or a log line without escaping.
    PodName, "pod name", check_subdomain
}

string_id! {
    /// A Kubernetes node name, e.g. `ip-10-0-1-23.ec2.internal`: an RFC 1123 subdomain.
    NodeName, "node name", check_subdomain
}

string_id! {
    /// A Kubernetes service account name: an RFC 1123 subdomain.
    ServiceAccountName, "service account name", check_subdomain
}

fn validate_container(s: &str) -> Result<(), String> {
    if s.len() != 64 {
        return Err(format!(
            "must be exactly 64 hex digits, got {} bytes",
            s.len()
        ));
    }
    match first_bad_char(s, |c| c.is_ascii_digit() || ('a'..='f').contains(&c)) {
        Some(c) => Err(format!("must be lowercase hex, found {}", describe_char(c))),
        None if is_lower_hex(s) => Ok(()),
        None => Err("must be lowercase hex".to_owned()),
    }
}

string_id! {
    /// A container id as the runtime knows it: 64 lowercase hex digits.
    ContainerId, "container id", validate_container
}

impl ContainerId {
    /// Parses the `containerID` form Kubernetes reports in pod status, `<runtime>://<id>`
    /// (`containerd://`, `docker://`, `cri-o://`), or a bare id.
    ///
    /// # Errors
    /// [`super::IdError`] if the runtime prefix is unknown or the id is not 64 lowercase hex.
    pub fn from_runtime_uri(s: &str) -> Result<Self, super::IdError> {
        let bare = match s.split_once("://") {
            Some(("containerd" | "docker" | "cri-o", id)) => id,
            Some(_) => {
                return Err(super::IdError::new(
                    Self::KIND,
                    s,
                    "runtime prefix must be containerd://, docker:// or cri-o://",
                ));
            }
            None => s,
        };
        Self::parse(bare).map_err(|e| super::IdError::new(Self::KIND, s, e.reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_names() {
        for ok in ["prod-payments", "A", "9_cluster-x", &"a".repeat(100)] {
            assert!(ClusterName::parse(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "",
            "-prod",
            "_prod",
            "prod payments",
            "prod.payments",
            "prod\n",
            &"a".repeat(101),
            "prod$(id)",
            "prоd",
        ] {
            assert!(ClusterName::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn namespaces() {
        for ok in ["payments", "kube-system", "a", "0", &"a".repeat(63)] {
            assert!(Namespace::parse(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "",
            "Payments",
            "-a",
            "a-",
            "a.b",
            "a_b",
            &"a".repeat(64),
            "pay\u{200b}ments",
            "payments\n",
        ] {
            assert!(Namespace::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn pod_node_and_service_account_names() {
        for ok in [
            "payments-api-7d9f8b6c5-x2k4q",
            "ip-10-0-1-23.ec2.internal",
            "a.b.c",
            &"a".repeat(253),
        ] {
            assert!(PodName::parse(ok).is_ok(), "{ok:?}");
            assert!(NodeName::parse(ok).is_ok(), "{ok:?}");
            assert!(ServiceAccountName::parse(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "",
            "a..b",
            ".a",
            "a.",
            "a.-b",
            "x;rm -rf /",
            "$(curl evil)",
            "`id`",
            "pod\nname",
            "pod\u{0430}",
            "Pod",
            &"a".repeat(254),
        ] {
            let err = PodName::parse(bad).unwrap_err();
            assert_eq!(err.kind, "pod name");
            assert!(!err.to_string().contains('\n'));
        }
    }

    #[test]
    fn subdomain_parts_are_not_limited_to_63_bytes() {
        // The API server bounds the whole name (253), not each part: a 64-byte part is a valid
        // object name and label key prefix.
        let long_part = format!("{}.example", "a".repeat(64));
        assert!(is_dns_subdomain(&long_part));
        assert!(check_label_key(&format!("{long_part}/app")).is_ok());
        assert!(!is_dns_subdomain(&"a".repeat(254)));
    }

    #[test]
    fn label_keys_and_values() {
        assert!(check_label_key("app").is_ok());
        assert!(check_label_key("custody.example/quarantine").is_ok());
        assert!(check_label_key("app.kubernetes.io/name").is_ok());
        assert!(check_label_key("a,b").is_err());
        assert!(check_label_key("Bad_Prefix/x").is_err());
        assert!(check_label_key("x/").is_err());
        assert!(check_label_value("").is_ok());
        assert!(check_label_value("case-01jd0000000000000000000000").is_ok());
        assert!(check_label_value("v1,app!=x").is_err());
        assert!(check_label_value("-x").is_err());
        assert!(check_label_value(&"v".repeat(64)).is_err());
    }

    #[test]
    fn label_key_parts_and_their_reasons() {
        // The name may hold uppercase, '_' and '.', unlike the prefix.
        for ok in ["App_Name.v1", "a", &"a".repeat(63), "x.io/A-b_c.9"] {
            assert_eq!(check_label_key(ok), Ok(()), "{ok:?}");
        }
        for bad_name in [
            "",
            &"a".repeat(64),
            "a/b/c",
            "-a",
            "a_",
            "a b",
            "a=b",
            "\u{0430}",
        ] {
            let reason = check_label_key(bad_name).unwrap_err();
            assert!(reason.contains("key name"), "{bad_name:?}: {reason}");
        }
        for bad_prefix in ["/x", "X.io/x", "a..b/x", "-a/x", "a_b/x"] {
            let reason = check_label_key(bad_prefix).unwrap_err();
            assert!(reason.contains("prefix"), "{bad_prefix:?}: {reason}");
        }
        for ok in ["A", "01JD", "a.b_c-d", &"v".repeat(63)] {
            assert_eq!(check_label_value(ok), Ok(()), "{ok:?}");
        }
        for bad in ["a/b", "a\n", "x ", "v\u{0430}", "a_", "a=b"] {
            let reason = check_label_value(bad).unwrap_err();
            assert!(reason.contains("label value"), "{bad:?}: {reason}");
        }
    }

    #[test]
    fn container_ids() {
        let id = "a".repeat(64);
        assert!(ContainerId::parse(&id).is_ok());
        assert_eq!(
            ContainerId::from_runtime_uri(&format!("containerd://{id}"))
                .unwrap()
                .as_str(),
            id
        );
        assert!(ContainerId::from_runtime_uri(&format!("evil://{id}")).is_err());
        for bad in [
            "",
            &"A".repeat(64),
            &"a".repeat(63),
            &"a".repeat(65),
            &"g".repeat(64),
        ] {
            assert!(ContainerId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
