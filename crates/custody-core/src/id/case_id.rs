//! Case ids.

use sha2::{Digest as _, Sha256};

use super::{Timestamp, describe_char, string_id};

/// Crockford base32 as ULIDs spell it (uppercase, no I, L, O, U).
const CROCKFORD: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn validate_case_id(s: &str) -> Result<(), String> {
    let Some(ulid) = s.strip_prefix("case-") else {
        return Err("must start with \"case-\"".to_owned());
    };
    if ulid.len() != 26 {
        return Err(format!(
            "must be \"case-\" followed by a 26-character ULID, got {} bytes after the prefix",
            ulid.len()
        ));
    }
    if let Some(c) = ulid.chars().find(|c| !CROCKFORD.contains(*c)) {
        return Err(format!(
            "ULID must be uppercase Crockford base32, found {}",
            describe_char(c)
        ));
    }
    // 26 base32 characters carry 130 bits; a ULID is 128, so the first character is at most 7.
    if !ulid.starts_with(|c: char| ('0'..='7').contains(&c)) {
        return Err("ULID overflows 128 bits (first character must be 0-7)".to_owned());
    }
    Ok(())
}

string_id! {
    /// A case's id: `case-` followed by a ULID, e.g. `case-01JD2ZQ5N8X7C4V3B2A1M0K9PQ`.
    ///
    /// A ULID sorts by time, so listing cases by id lists them by when they were opened.
    CaseId, "case id", validate_case_id
}

impl CaseId {
    /// The case id for a Step Functions execution: the ULID's time is the execution's start (in
    /// milliseconds) and its 80 random bits are the first 80 bits of SHA-256 of the execution id.
    ///
    /// Deterministic on purpose: when triage is retried, or the whole step is re-driven, the same
    /// execution gets the same case id, so the case store's conditional create finds the existing
    /// case instead of opening a duplicate.
    ///
    /// # Caveats
    /// A start time before 1970 (impossible for a real execution) is clamped to the epoch.
    pub fn for_execution(started_at: Timestamp, execution_id: &str) -> Self {
        let millis = u64::try_from(started_at.unix_millis()).unwrap_or(0);
        let hash = Sha256::digest(execution_id.as_bytes());
        let random = hash
            .iter()
            .take(10)
            .fold(0u128, |acc, b| (acc << 8) | u128::from(*b));
        let ulid = ulid::Ulid::from_parts(millis, random);
        Self(format!("case-{}", ulid.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn for_execution_is_deterministic_and_valid() {
        let at = Timestamp::parse("2026-11-23T08:55:26.123Z").unwrap();
        let exec = "arn:aws:states:us-east-1:111122223333:execution:custody-triage:abc";
        let a = CaseId::for_execution(at, exec);
        let b = CaseId::for_execution(at, exec);
        assert_eq!(a, b);
        assert!(CaseId::parse(a.as_str()).is_ok(), "{a}");
        assert_ne!(a, CaseId::for_execution(at, "other"));
        assert_ne!(a, CaseId::for_execution(at.plus_seconds(1), exec));
        // Later executions sort later.
        assert!(
            CaseId::for_execution(at.plus_seconds(1), "zzz") > CaseId::for_execution(at, "zzz")
        );
        let ulid = ulid::Ulid::from_string(a.as_str().trim_start_matches("case-")).unwrap();
        assert_eq!(ulid.timestamp_ms(), 1_795_424_126_123);
    }

    #[test]
    fn accept_reject() {
        assert!(CaseId::parse("case-01JD2ZQ5N8X7C4V3B2A1M0K9PQ").is_ok());
        for bad in [
            "",
            "case-",
            "01JD2ZQ5N8X7C4V3B2A1M0K9PQ",
            "CASE-01JD2ZQ5N8X7C4V3B2A1M0K9PQ",
            "case-01jd2zq5n8x7c4v3b2a1m0k9pq",
            "case-01JD2ZQ5N8X7C4V3B2A1M0K9P",
            "case-01JD2ZQ5N8X7C4V3B2A1M0K9PQQ",
            "case-01JD2ZQ5N8X7C4V3B2A1M0K9PI",
            "case-81JD2ZQ5N8X7C4V3B2A1M0K9PQ",
            "case-01JD2ZQ5N8X7C4V3B2A1M0K9PQ\n",
        ] {
            assert!(CaseId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
