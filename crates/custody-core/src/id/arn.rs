//! Partitions and ARNs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{AccountId, IdError, Region, describe_char};

/// An AWS partition: the first field of every ARN.
///
/// Custody builds ARNs (roles to assume, policies to attach) from a region, and refuses an ARN
/// whose partition contradicts its region: a GovCloud finding naming a commercial-partition
/// resource is a forgery or a bug, never something to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Partition {
    /// `aws`: the commercial regions.
    Aws,
    /// `aws-cn`: the China regions.
    AwsCn,
    /// `aws-us-gov`: AWS GovCloud (US).
    AwsUsGov,
    /// `aws-iso`: US ISO East/West.
    AwsIso,
    /// `aws-iso-b`: US ISOB.
    AwsIsoB,
    /// `aws-iso-e`: EU ISOE.
    AwsIsoE,
    /// `aws-iso-f`: US ISOF.
    AwsIsoF,
    /// `aws-eusc`: the AWS European Sovereign Cloud.
    AwsEusc,
}

impl Partition {
    /// Every partition, for tables and tests.
    pub const ALL: [Partition; 8] = [
        Partition::Aws,
        Partition::AwsCn,
        Partition::AwsUsGov,
        Partition::AwsIso,
        Partition::AwsIsoB,
        Partition::AwsIsoE,
        Partition::AwsIsoF,
        Partition::AwsEusc,
    ];

    /// The partition's name as it appears in ARNs.
    pub fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsCn => "aws-cn",
            Partition::AwsUsGov => "aws-us-gov",
            Partition::AwsIso => "aws-iso",
            Partition::AwsIsoB => "aws-iso-b",
            Partition::AwsIsoE => "aws-iso-e",
            Partition::AwsIsoF => "aws-iso-f",
            Partition::AwsEusc => "aws-eusc",
        }
    }

    /// Parses a partition name exactly (`aws`, `aws-cn`, `aws-us-gov`, …).
    ///
    /// # Errors
    /// [`IdError`] if `s` is not a known partition.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| IdError::new("partition", s, "must be one of aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc"))
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Partition {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Partition {
    type Error = IdError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Partition> for String {
    fn from(p: Partition) -> String {
        p.as_str().to_owned()
    }
}

/// The longest ARN accepted (IAM documents 2048 for most resource types).
const MAX_ARN: usize = 2048;

/// A parsed Amazon Resource Name: `arn:partition:service:region:account:resource`.
///
/// Region and account may be empty (IAM and S3 ARNs); the account may also be `aws` for
/// AWS-managed policies. The region, when present, must belong to the partition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Arn {
    raw: String,
    partition: Partition,
    service: String,
    region: Option<Region>,
    account: Option<AccountId>,
    aws_managed: bool,
    resource: String,
}

impl Arn {
    /// What this identifier is called in error messages.
    pub const KIND: &'static str = "ARN";

    /// Parses and validates an ARN.
    ///
    /// # Errors
    /// [`IdError`] naming the field at fault (partition, service, region, account, resource).
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let fail = |reason: String| IdError::new(Self::KIND, s, reason);
        if s.len() > MAX_ARN {
            return Err(fail(format!(
                "must be at most {MAX_ARN} bytes, got {}",
                s.len()
            )));
        }
        if let Some(c) = s
            .chars()
            .find(|c| c.is_control() || c.is_whitespace() || !c.is_ascii())
        {
            return Err(fail(format!(
                "must be printable ASCII without spaces, found {}",
                describe_char(c)
            )));
        }
        let mut parts = s.splitn(6, ':');
        let (
            Some("arn"),
            Some(partition),
            Some(service),
            Some(region),
            Some(account),
            Some(resource),
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return Err(fail(
                "must have the form arn:partition:service:region:account:resource".to_owned(),
            ));
        };
        let partition = Partition::parse(partition)
            .map_err(|e| fail(format!("partition {}: {}", e.value, e.reason)))?;
        if service.is_empty()
            || !service
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(fail(format!(
                "service {service:?} must be non-empty lowercase letters, digits and '-'"
            )));
        }
        let region = if region.is_empty() {
            None
        } else {
            let r = Region::parse(region)
                .map_err(|e| fail(format!("region {}: {}", e.value, e.reason)))?;
            if r.partition() != partition {
                return Err(fail(format!(
                    "region {region:?} belongs to partition {:?}, not {:?}",
                    r.partition().as_str(),
                    partition.as_str()
                )));
            }
            Some(r)
        };
        let (account, aws_managed) = match account {
            "" => (None, false),
            "aws" => (None, true),
            a => (
                Some(
                    AccountId::parse(a)
                        .map_err(|e| fail(format!("account {}: {}", e.value, e.reason)))?,
                ),
                false,
            ),
        };
        if resource.is_empty() {
            return Err(fail("resource must not be empty".to_owned()));
        }
        Ok(Self {
            raw: s.to_owned(),
            partition,
            service: service.to_owned(),
            region,
            account,
            aws_managed,
            resource: resource.to_owned(),
        })
    }

    /// The whole ARN.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The partition field.
    pub fn partition(&self) -> Partition {
        self.partition
    }

    /// The service namespace, e.g. `iam`, `eks`, `securityhub`.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The region, `None` for global resources (IAM, S3 buckets).
    pub fn region(&self) -> Option<&Region> {
        self.region.as_ref()
    }

    /// The owning account, `None` when the field is empty or `aws`.
    pub fn account(&self) -> Option<&AccountId> {
        self.account.as_ref()
    }

    /// True when the account field is `aws` (an AWS-managed policy).
    pub fn is_aws_managed(&self) -> bool {
        self.aws_managed
    }

    /// Everything after the account field, e.g. `role/path/Name` or `cluster/prod-payments`.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The last `/`- or `:`-separated segment of the resource: a custom action's id, a role's
    /// name, a cluster's name.
    pub fn resource_name(&self) -> &str {
        self.resource
            .rsplit(['/', ':'])
            .next()
            .unwrap_or(&self.resource)
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl FromStr for Arn {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for Arn {
    fn as_ref(&self) -> &str {
        &self.raw
    }
}

impl TryFrom<String> for Arn {
    type Error = IdError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Arn> for String {
    fn from(arn: Arn) -> String {
        arn.raw
    }
}

/// An IAM role ARN: `arn:<partition>:iam::<account>:role/<path/><name>`.
///
/// Custody assumes roles across accounts and revokes role sessions, so the account is required
/// and the name is checked against IAM's rule (1–64 of `[A-Za-z0-9+=,.@_-]`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoleArn {
    arn: Arn,
    account: AccountId,
}

fn iam_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

impl RoleArn {
    /// What this identifier is called in error messages.
    pub const KIND: &'static str = "role ARN";

    /// Parses and validates an IAM role ARN.
    ///
    /// # Errors
    /// [`IdError`] if it is not an ARN, not an IAM role, has no account, or the role's path or
    /// name break IAM's rules.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let fail = |reason: String| IdError::new(Self::KIND, s, reason);
        let arn = Arn::parse(s).map_err(|e| fail(e.reason))?;
        if arn.service() != "iam" {
            return Err(fail(format!(
                "service must be \"iam\", not {:?}",
                arn.service()
            )));
        }
        if arn.region().is_some() {
            return Err(fail("IAM ARNs have an empty region field".to_owned()));
        }
        let Some(account) = arn.account().cloned() else {
            return Err(fail("must name a 12-digit account".to_owned()));
        };
        let Some(path_and_name) = arn.resource().strip_prefix("role/") else {
            return Err(fail("resource must start with \"role/\"".to_owned()));
        };
        let (path, name) = match path_and_name.rsplit_once('/') {
            Some((path, name)) => (Some(path), name),
            None => (None, path_and_name),
        };
        if name.is_empty() || name.len() > 64 || !name.chars().all(iam_name_char) {
            return Err(fail(
                "role name must be 1-64 of letters, digits and +=,.@_-".to_owned(),
            ));
        }
        if let Some(path) = path
            && (path.len() > 510
                || !path
                    .split('/')
                    .all(|seg| !seg.is_empty() && seg.chars().all(iam_name_char)))
        {
            return Err(fail(
                "role path must be '/'-separated non-empty segments of letters, digits and +=,.@_-"
                    .to_owned(),
            ));
        }
        Ok(Self { arn, account })
    }

    /// The whole ARN text.
    pub fn as_str(&self) -> &str {
        self.arn.as_str()
    }

    /// The ARN, for the generic accessors.
    pub fn arn(&self) -> &Arn {
        &self.arn
    }

    /// The account that owns the role.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The partition.
    pub fn partition(&self) -> Partition {
        self.arn.partition()
    }

    /// The role's name (without its path): what `iam:PutRolePolicy` takes.
    pub fn role_name(&self) -> &str {
        self.arn.resource_name()
    }

    /// The role's path, `/` when it has none (e.g. `/service-role/`).
    pub fn path(&self) -> String {
        let rest = self.arn.resource().trim_start_matches("role/");
        match rest.rsplit_once('/') {
            Some((path, _)) => format!("/{path}/"),
            None => "/".to_owned(),
        }
    }
}

impl fmt::Display for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RoleArn {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for RoleArn {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl TryFrom<String> for RoleArn {
    type Error = IdError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<RoleArn> for String {
    fn from(arn: RoleArn) -> String {
        arn.arn.raw
    }
}

impl From<RoleArn> for Arn {
    fn from(arn: RoleArn) -> Arn {
        arn.arn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_round_trip() {
        for p in Partition::ALL {
            assert_eq!(Partition::parse(p.as_str()).unwrap(), p);
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(serde_json::from_str::<Partition>(&json).unwrap(), p);
        }
        assert!(Partition::parse("aws-xx").is_err());
        assert!(Partition::parse("AWS").is_err());
    }

    #[test]
    fn arns_parse_into_fields() {
        let arn =
            Arn::parse("arn:aws:securityhub:us-east-1:111122223333:action/custom/ForensicTriage")
                .unwrap();
        assert_eq!(arn.partition(), Partition::Aws);
        assert_eq!(arn.service(), "securityhub");
        assert_eq!(arn.region().unwrap().as_str(), "us-east-1");
        assert_eq!(arn.account().unwrap().as_str(), "111122223333");
        assert_eq!(arn.resource(), "action/custom/ForensicTriage");
        assert_eq!(arn.resource_name(), "ForensicTriage");

        let bucket = Arn::parse("arn:aws:s3:::custody-evidence-111122223333").unwrap();
        assert!(bucket.region().is_none() && bucket.account().is_none());

        let managed = Arn::parse("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore").unwrap();
        assert!(managed.is_aws_managed());

        let gd =
            Arn::parse("arn:aws-cn:guardduty:cn-north-1:111122223333:detector/abc/finding/def")
                .unwrap();
        assert_eq!(gd.partition(), Partition::AwsCn);
    }

    #[test]
    fn arns_refused() {
        for bad in [
            "",
            "arn",
            "arn:aws:eks",
            "arn:aws:eks:us-east-1:111122223333:",
            "arn:aws-xx:eks:us-east-1:111122223333:cluster/x",
            "arn:aws-cn:eks:us-east-1:111122223333:cluster/x",
            "arn:aws:eks:cn-north-1:111122223333:cluster/x",
            "arn:aws:EKS:us-east-1:111122223333:cluster/x",
            "arn:aws:eks:us-east-1:11112222333:cluster/x",
            "arn:aws:eks:us-east-1:111122223333:cluster/x y",
            "arn:aws:eks:us-east-1:111122223333:cluster/x\n",
            " arn:aws:eks:us-east-1:111122223333:cluster/x",
            "urn:aws:eks:us-east-1:111122223333:cluster/x",
        ] {
            let err = Arn::parse(bad).unwrap_err();
            assert_eq!(err.kind, "ARN", "{bad:?}");
        }
        let err = Arn::parse("arn:aws-cn:eks:us-east-1:111122223333:cluster/x").unwrap_err();
        assert!(err.reason.contains("partition"), "{err}");
    }

    #[test]
    fn role_arns() {
        let role =
            RoleArn::parse("arn:aws:iam::111122223333:role/custody/CustodyResponder").unwrap();
        assert_eq!(role.role_name(), "CustodyResponder");
        assert_eq!(role.path(), "/custody/");
        assert_eq!(role.account().as_str(), "111122223333");
        let plain = RoleArn::parse("arn:aws-us-gov:iam::111122223333:role/NodeRole").unwrap();
        assert_eq!(plain.path(), "/");
        assert_eq!(plain.partition(), Partition::AwsUsGov);
        for bad in [
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:iam::aws:role/x",
            "arn:aws:iam:::role/x",
            "arn:aws:sts::111122223333:assumed-role/x/y",
            "arn:aws:iam:us-east-1:111122223333:role/x",
            "arn:aws:iam::111122223333:role/",
            "arn:aws:iam::111122223333:role//x",
            "arn:aws:iam::111122223333:role/x*y",
        ] {
            assert!(RoleArn::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
