//! SHA-256 digests of evidence.

use sha2::{Digest as _, Sha256};

use super::{describe_char, is_lower_hex, string_id};

fn validate_sha256(s: &str) -> Result<(), String> {
    if s.len() != 64 {
        return Err(format!(
            "must be exactly 64 hex digits, got {} bytes",
            s.len()
        ));
    }
    match s
        .chars()
        .find(|c| !(c.is_ascii_digit() || ('a'..='f').contains(c)))
    {
        Some(c) => Err(format!("must be lowercase hex, found {}", describe_char(c))),
        None if is_lower_hex(s) => Ok(()),
        None => Err("must be lowercase hex".to_owned()),
    }
}

string_id! {
    /// A SHA-256 digest as 64 lowercase hex digits.
    ///
    /// Evidence integrity rests on comparing these as text, so there is exactly one spelling:
    /// lowercase, no prefix, no separators.
    Sha256Digest, "sha256 digest", validate_sha256
}

impl Sha256Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(hex::encode(Sha256::digest(bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn of_matches_known_vector() {
        assert_eq!(
            Sha256Digest::of(b"abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(Sha256Digest::parse(Sha256Digest::of(b"").as_str()).is_ok());
    }

    #[test]
    fn refuses_other_spellings() {
        let upper = Sha256Digest::of(b"abc").as_str().to_uppercase();
        for bad in [
            upper.as_str(),
            "",
            "sha256:ba78",
            &"0".repeat(63),
            &"0".repeat(65),
        ] {
            assert!(Sha256Digest::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
