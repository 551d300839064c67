//! Syntax checks for the strings this crate puts into URLs, selectors and signed headers.
//!
//! Most names reach this crate already validated by custody-core's id types. What remains are
//! label keys and values (from settings and from workload selectors read out of the attacker's
//! cluster), which are spliced into `labelSelector` query strings: a value containing `,` or `!`
//! would change the selector's meaning, so they are checked here before use.

/// Checks an EKS cluster name: 1–100 characters, `^[0-9A-Za-z][A-Za-z0-9_-]*$`.
pub(crate) fn check_cluster_name(name: &str) -> Result<(), &'static str> {
    let mut bytes = name.bytes();
    match bytes.next() {
        None => return Err("it is empty"),
        Some(b) if !b.is_ascii_alphanumeric() => {
            return Err("it must start with a letter or digit");
        }
        Some(_) => {}
    }
    if name.len() > 100 {
        return Err("it is longer than 100 characters");
    }
    if bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        Ok(())
    } else {
        Err("only letters, digits, '-' and '_' are allowed")
    }
}

/// Checks the shape of an AWS region name (`us-east-1`, `us-gov-west-1`, `cn-north-1`,
/// `us-isob-east-1`): lowercase groups of letters separated by `-`, ending in a number.
pub(crate) fn check_region(region: &str) -> Result<(), &'static str> {
    if region.is_empty() || region.len() > 32 {
        return Err("a region is 1 to 32 characters");
    }
    let parts: Vec<&str> = region.split('-').collect();
    let Some((last, head)) = parts.split_last() else {
        return Err("a region has dash-separated parts");
    };
    if head.len() < 2 {
        return Err("a region has at least three dash-separated parts");
    }
    if !head
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
    {
        return Err("a region's leading parts are lowercase letters");
    }
    if last.is_empty() || !last.bytes().all(|b| b.is_ascii_digit()) {
        return Err("a region ends in a number");
    }
    Ok(())
}

/// True for a Kubernetes "name" segment as used in label keys and values: at most 63
/// characters of `[A-Za-z0-9._-]`, starting and ending alphanumeric.
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

/// True for an RFC 1123 DNS subdomain (lowercase, at most 253 characters, dot-separated labels).
pub(crate) fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.len() <= 63
                && b.first()
                    .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && b.last()
                    .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        })
}

/// Checks a label key: `[prefix/]name`, the prefix a DNS subdomain, the name a label segment.
pub(crate) fn check_label_key(key: &str) -> Result<(), &'static str> {
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

/// Checks a label value: empty, or a label segment.
pub(crate) fn check_label_value(value: &str) -> Result<(), &'static str> {
    if value.is_empty() || is_label_segment(value) {
        Ok(())
    } else {
        Err(
            "the label value is not empty or 1-63 characters of [A-Za-z0-9._-] starting and ending alphanumeric",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_names() {
        assert!(check_cluster_name("prod-payments").is_ok());
        assert!(check_cluster_name("a_b-9").is_ok());
        assert!(check_cluster_name("").is_err());
        assert!(check_cluster_name("-x").is_err());
        assert!(check_cluster_name("a b").is_err());
        assert!(check_cluster_name("a\nb").is_err());
        assert!(check_cluster_name(&"a".repeat(101)).is_err());
    }

    #[test]
    fn regions() {
        for ok in [
            "us-east-1",
            "us-gov-west-1",
            "cn-north-1",
            "us-isob-east-1",
            "il-central-1",
        ] {
            assert!(check_region(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "us-east",
            "US-EAST-1",
            "us-east-1/x",
            "us--1",
            "us-east-1a",
            "east-1",
        ] {
            assert!(check_region(bad).is_err(), "{bad}");
        }
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
}
