//! Validated identifiers.
//!
//! Every name custody handles arrives from somewhere it does not control: a finding written about
//! an attacker's cluster, an operator's SIEM, a Step Functions payload. Pod names and namespaces
//! are chosen by whoever compromised the cluster. So every identifier is a newtype that can only
//! be built by [`parse`](CaseId::parse)-ing it against a strict, total rule (length, character set,
//! no control characters, no leading or trailing junk). Once a value has one of these types, the
//! rest of custody can put it in a tag, an S3 key or a shell-free API call without re-checking it.
//!
//! Each type serialises as a plain JSON string and re-validates when deserialised, so a tampered
//! case record cannot smuggle an invalid name back in.

mod arn;
mod aws;
mod case_id;
mod digest;
mod error;
mod kube;
mod timestamp;

pub use arn::{Arn, Partition, RoleArn};
pub use aws::{
    AccountId, ImageId, InstanceId, NetworkAclId, NetworkInterfaceId, Region, SecurityGroupId,
    SnapshotId, SubnetId, VolumeId, VpcId,
};
pub use case_id::CaseId;
pub use digest::Sha256Digest;
pub use error::IdError;
pub use kube::{ClusterName, ContainerId, Namespace, NodeName, PodName, ServiceAccountName};
pub use timestamp::Timestamp;

pub use kube::{check_label_key, check_label_value, is_dns_label, is_dns_subdomain};

/// Declares a validated string newtype with the shared API: `parse`, `as_str`, `Display`,
/// `FromStr`, `AsRef<str>`, `TryFrom<String>`, `From<T> for String` and serde as a plain string.
macro_rules! string_id {
    (
        $(#[$meta:meta])*
        $name:ident, $kind:literal, $validate:path
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// What this identifier is called in error messages.
            pub const KIND: &'static str = $kind;

            /// Validates `s` strictly and wraps it.
            ///
            /// # Errors
            /// [`IdError`](crate::id::IdError) naming the rule `s` breaks; the offending value is escaped and
            /// truncated in the error.
            pub fn parse(s: &str) -> Result<Self, $crate::id::IdError> {
                match $validate(s) {
                    Ok(()) => Ok(Self(s.to_owned())),
                    Err(reason) => Err($crate::id::IdError::new($kind, s, reason)),
                }
            }

            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::id::IdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::id::IdError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                match $validate(&s) {
                    Ok(()) => Ok(Self(s)),
                    Err(reason) => Err($crate::id::IdError::new($kind, &s, reason)),
                }
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

pub(crate) use string_id;

/// True if every byte is a lowercase hexadecimal digit.
pub(crate) fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A short description of the first character that is not allowed, for error reasons.
pub(crate) fn describe_char(c: char) -> String {
    if c.is_control() {
        format!("control character {c:?}")
    } else if c.is_whitespace() {
        format!("whitespace {c:?}")
    } else if !c.is_ascii() {
        format!("non-ASCII character {c:?} (U+{:04X})", u32::from(c))
    } else {
        format!("character {c:?}")
    }
}
