//! AWS account, region and EC2 resource identifiers.

use std::sync::LazyLock;

use regex::Regex;

use super::{Partition, describe_char, is_lower_hex, string_id};

fn validate_account(s: &str) -> Result<(), String> {
    if s.len() != 12 {
        return Err(format!("must be exactly 12 digits, got {} bytes", s.len()));
    }
    match s.chars().find(|c| !c.is_ascii_digit()) {
        Some(c) => Err(format!("must be digits only, found {}", describe_char(c))),
        None => Ok(()),
    }
}

string_id! {
    /// A 12-digit AWS account id.
    ///
    /// Leading zeros are significant, which is why it is text and never a number.
    AccountId, "account id", validate_account
}

/// Region names across the commercial, China, GovCloud and ISO partitions: `us-east-1`,
/// `cn-north-1`, `us-gov-west-1`, `us-iso-east-1`, `us-isob-east-1`, `eu-isoe-west-1`,
/// `us-isof-south-1`, `il-central-1`, `eusc-de-east-1`.
static REGION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"\A(?:[a-z]{2}(?:-gov|-iso[a-z]?)?|eusc-[a-z]{2})-(?:central|north|south|east|west|northeast|northwest|southeast|southwest)-[1-9][0-9]?\z",
    )
    .ok()
});

fn validate_region(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if s.len() > 32 {
        return Err(format!("must be at most 32 bytes, got {}", s.len()));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "must be lowercase letters, digits and '-', found {}",
            describe_char(c)
        ));
    }
    match REGION.as_ref() {
        Some(re) if re.is_match(s) => Ok(()),
        Some(_) => Err("is not an AWS region name such as \"us-east-1\"".to_owned()),
        None => Err("region pattern failed to compile".to_owned()),
    }
}

string_id! {
    /// An AWS region name, e.g. `us-east-1`, `cn-north-1`, `us-gov-west-1`.
    ///
    /// Validated by shape, not against a fixed list, so a region launched after this build is
    /// still accepted.
    Region, "region", validate_region
}

impl Region {
    /// The partition this region belongs to, derived from its name.
    ///
    /// Used to build ARNs and to refuse an ARN whose partition contradicts its region.
    pub fn partition(&self) -> Partition {
        let s = self.as_str();
        if s.starts_with("cn-") {
            Partition::AwsCn
        } else if s.starts_with("us-gov-") {
            Partition::AwsUsGov
        } else if s.starts_with("us-isob-") {
            Partition::AwsIsoB
        } else if s.starts_with("us-isof-") {
            Partition::AwsIsoF
        } else if s.starts_with("eu-isoe-") {
            Partition::AwsIsoE
        } else if s.starts_with("us-iso-") {
            Partition::AwsIso
        } else if s.starts_with("eusc-") {
            Partition::AwsEusc
        } else {
            Partition::Aws
        }
    }
}

/// Validates `<prefix>-` followed by 8 or 17 lowercase hex digits (the EC2 id format).
fn validate_ec2(s: &str, prefix: &str) -> Result<(), String> {
    let Some(rest) = s.strip_prefix(prefix).and_then(|r| r.strip_prefix('-')) else {
        return Err(format!("must start with \"{prefix}-\""));
    };
    if rest.len() != 8 && rest.len() != 17 {
        return Err(format!(
            "must be \"{prefix}-\" followed by 8 or 17 hex digits, got {} bytes after the prefix",
            rest.len()
        ));
    }
    match rest
        .chars()
        .find(|c| !(c.is_ascii_digit() || ('a'..='f').contains(c)))
    {
        Some(c) => Err(format!(
            "must be lowercase hex after the prefix, found {}",
            describe_char(c)
        )),
        None if is_lower_hex(rest) => Ok(()),
        None => Err("must be lowercase hex after the prefix".to_owned()),
    }
}

macro_rules! ec2_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal, $prefix:literal, $validate:ident) => {
        fn $validate(s: &str) -> Result<(), String> {
            validate_ec2(s, $prefix)
        }
        string_id! { $(#[$meta])* $name, $kind, $validate }
    };
}

ec2_id! {
    /// An EC2 instance id (`i-` + 8 or 17 lowercase hex digits).
    InstanceId, "instance id", "i", validate_instance
}
ec2_id! {
    /// An EBS volume id (`vol-` + 8 or 17 lowercase hex digits).
    VolumeId, "volume id", "vol", validate_volume
}
ec2_id! {
    /// An EBS snapshot id (`snap-` + 8 or 17 lowercase hex digits).
    SnapshotId, "snapshot id", "snap", validate_snapshot
}
ec2_id! {
    /// A VPC security group id (`sg-` + 8 or 17 lowercase hex digits).
    SecurityGroupId, "security group id", "sg", validate_sg
}
ec2_id! {
    /// A VPC id (`vpc-` + 8 or 17 lowercase hex digits).
    VpcId, "vpc id", "vpc", validate_vpc
}
ec2_id! {
    /// A subnet id (`subnet-` + 8 or 17 lowercase hex digits).
    SubnetId, "subnet id", "subnet", validate_subnet
}
ec2_id! {
    /// An elastic network interface id (`eni-` + 8 or 17 lowercase hex digits).
    NetworkInterfaceId, "network interface id", "eni", validate_eni
}
ec2_id! {
    /// A network ACL id (`acl-` + 8 or 17 lowercase hex digits).
    NetworkAclId, "network ACL id", "acl", validate_acl
}
ec2_id! {
    /// An AMI id (`ami-` + 8 or 17 lowercase hex digits).
    ImageId, "image id", "ami", validate_ami
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids() {
        for ok in ["111122223333", "000000000000"] {
            assert_eq!(AccountId::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "11112222333",
            "1111222233334",
            "11112222333a",
            " 111122223333",
            "111122223333\n",
            "１11122223333",
        ] {
            let err = AccountId::parse(bad).unwrap_err();
            assert_eq!(err.kind, "account id", "{bad:?}");
        }
    }

    #[test]
    fn regions_and_partitions() {
        let table = [
            ("us-east-1", Partition::Aws),
            ("eu-central-2", Partition::Aws),
            ("il-central-1", Partition::Aws),
            ("ap-southeast-5", Partition::Aws),
            ("cn-north-1", Partition::AwsCn),
            ("cn-northwest-1", Partition::AwsCn),
            ("us-gov-west-1", Partition::AwsUsGov),
            ("us-iso-east-1", Partition::AwsIso),
            ("us-isob-east-1", Partition::AwsIsoB),
            ("eu-isoe-west-1", Partition::AwsIsoE),
            ("us-isof-south-1", Partition::AwsIsoF),
            ("eusc-de-east-1", Partition::AwsEusc),
        ];
        for (name, partition) in table {
            let region = Region::parse(name).unwrap();
            assert_eq!(region.partition(), partition, "{name}");
        }
        for bad in [
            "",
            "US-EAST-1",
            "us-east",
            "us-east-0",
            "useast1",
            "us-east-1 ",
            "us-middle-1",
            "us-east-1\0",
            "global",
            "us-east-1a",
            "us-east-1/x",
            "us--1",
            "east-1",
        ] {
            assert!(Region::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    /// Each EC2 id type: its prefix with 8 or 17 lowercase hex digits, nothing else.
    #[test]
    fn ec2_ids() {
        fn table(prefix: &str, parse: fn(&str) -> bool) {
            for ok in [
                format!("{prefix}-0abc1234"),
                format!("{prefix}-0123456789abcdef0"),
            ] {
                assert!(parse(&ok), "{ok:?} refused");
            }
            for bad in [
                String::new(),
                format!("{prefix}-"),
                format!("{prefix}-0123456"),
                format!("{prefix}-012345678"),
                format!("{prefix}-0123456789abcdef"),
                format!("{prefix}-0123456789abcdef01"),
                format!("{prefix}-0123456789ABCDEF0"),
                format!("{}-0123456789abcdef0", prefix.to_uppercase()),
                format!("{prefix}-0123456789abcdeg0"),
                format!("{prefix}_0123456789abcdef0"),
                format!(" {prefix}-0123456789abcdef0"),
                format!("{prefix}-0123456789abcdef0\n"),
                format!("{prefix}-0123456789abcdef0;rm"),
                format!("{prefix}-０123456789abcdef0"),
                "x-0123456789abcdef0".to_owned(),
            ] {
                assert!(!parse(&bad), "{bad:?} accepted as {prefix}");
            }
        }
        table("i", |s| InstanceId::parse(s).is_ok());
        table("vol", |s| VolumeId::parse(s).is_ok());
        table("snap", |s| SnapshotId::parse(s).is_ok());
        table("sg", |s| SecurityGroupId::parse(s).is_ok());
        table("vpc", |s| VpcId::parse(s).is_ok());
        table("subnet", |s| SubnetId::parse(s).is_ok());
        table("eni", |s| NetworkInterfaceId::parse(s).is_ok());
        table("acl", |s| NetworkAclId::parse(s).is_ok());
        table("ami", |s| ImageId::parse(s).is_ok());
        assert!(VolumeId::parse("i-0123456789abcdef0").is_err());
        assert_eq!(InstanceId::parse("i-x").unwrap_err().kind, "instance id");
    }

    #[test]
    fn serde_is_a_plain_validated_string() {
        let id: InstanceId = serde_json::from_str("\"i-0123456789abcdef0\"").unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"i-0123456789abcdef0\""
        );
        let err = serde_json::from_str::<InstanceId>("\"i-$(reboot)\"").unwrap_err();
        assert!(err.to_string().contains("instance id"), "{err}");
    }
}
