"""Seeds and inspects an AWS world in moto for custody's end-to-end `--aws` tests.

Seeding and checking go through boto3 (the public APIs, as a responder would look), so the Rust
tests that drive the real `custody` binary need not link the AWS SDK a second time.

    aws_world.py seed ENDPOINT CA_CERT EVENT_TEMPLATE OUT_DIR
        Creates the forensic side (evidence bucket with Object Lock, artifacts bucket with the AVML
        stand-in, case table, topic, SSM documents, workstation AMI/subnet/group/profile, the
        responder role) and one target instance (VPC, subnet, security group, instance profile
        and role, IsTriageRequired=true); imports the event's findings into Security Hub. Writes
        OUT_DIR/settings.json (the steps' Settings), OUT_DIR/event.json (EVENT_TEMPLATE naming
        the seeded instance) and prints the seeded ids as JSON.
    aws_world.py remove-tools ENDPOINT CA_CERT
        Deletes the capture tools from the artifacts bucket (a deployment that forgot them).
    aws_world.py inspect ENDPOINT CA_CERT WORLD_JSON CASE_ID
        Prints, as JSON, what custody did to that world for that case (objects with retention and
        checksums, snapshots, the instance's and its interfaces' groups, its subnet's network ACL,
        termination protection, profile associations, role policies, case items, SSM commands,
        Security Hub findings' workflow status and note).

Both sides use the account and region moto answers as by default (123456789012, us-east-1): the
responder role is assumed in the same account, as moto does not separate cross-account access.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path

import boto3
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
REGION = "us-east-1"
EVIDENCE = "custody-evidence"
ARTIFACTS = "custody-artifacts"
TABLE = "custody-cases"
TOPIC = "custody-responders"
RESPONDER = "custody-responder"
EXTERNAL_ID = "custody-e2e"
DOCUMENTS = ["capture-memory", "map-pods", "collect-host", "analyse-memory", "analyse-disk"]
# The AVML stand-in the capture document downloads and runs (like the real static binary): it
# writes the host stand-in's synthetic LiME image to the path it is given.
AVML_STANDIN = b"""#!/bin/bash
# avml stand-in (downloaded from the artifacts bucket like the real static binary)
if [ "$1" = --help ]; then printf 'Commands:\\n  acquire  Acquire a memory snapshot\\n'; exit 0; fi
printf 'avml %s\\n' "$*" >>"$CUSTODY_TEST_LOG"
[ "$1" = acquire ] && shift
cat "$CUSTODY_TEST_IMAGE" >"$1"
"""


def clients(endpoint: str, cert: str):
    def make(service: str):
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            verify=cert,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    return make


def conform(value, shape):
    """`value` with only the members `shape` (a botocore shape) has: events carry fields the
    import API's model lacks (e.g. FindingProviderFields.Severity.Product), which botocore
    refuses."""
    if shape.type_name == "structure" and isinstance(value, dict):
        return {k: conform(v, shape.members[k]) for k, v in value.items() if k in shape.members}
    if shape.type_name == "list" and isinstance(value, list):
        return [conform(v, shape.member) for v in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: conform(v, shape.value) for k, v in value.items()}
    return value


def seed(endpoint: str, cert: str, template: Path, out: Path) -> None:
    c = clients(endpoint, cert)
    ec2, iam, s3, ddb, sns, ssm = (c(x) for x in ("ec2", "iam", "s3", "dynamodb", "sns", "ssm"))
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
        }
    )

    # Forensic account.
    s3.create_bucket(Bucket=EVIDENCE, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket=EVIDENCE,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        },
    )
    s3.create_bucket(Bucket=ARTIFACTS)
    s3.put_object(Bucket=ARTIFACTS, Key="tools/avml", Body=AVML_STANDIN, ChecksumAlgorithm="SHA256")
    attributes = ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"]
    ddb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in attributes],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": f"gsi{n}",
                "KeySchema": [
                    {"AttributeName": f"gsi{n}pk", "KeyType": "HASH"},
                    {"AttributeName": f"gsi{n}sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for n in (1, 2)
        ],
    )
    topic = sns.create_topic(Name=TOPIC)["TopicArn"]
    for doc in DOCUMENTS:
        ssm.create_document(
            Name=f"custody-{doc}",
            Content=(REPO / "ssm-documents" / f"custody-{doc}.yaml").read_text(),
            DocumentType="Command",
            DocumentFormat="YAML",
        )
    iam.create_role(RoleName=RESPONDER, AssumeRolePolicyDocument=trust)
    iam.create_role(RoleName="custody-workstation", AssumeRolePolicyDocument=trust)
    iam.create_instance_profile(InstanceProfileName="custody-workstation")
    iam.add_role_to_instance_profile(InstanceProfileName="custody-workstation", RoleName="custody-workstation")
    forensic_vpc = ec2.create_vpc(CidrBlock="10.90.0.0/16")["Vpc"]["VpcId"]
    forensic_subnet = ec2.create_subnet(VpcId=forensic_vpc, CidrBlock="10.90.1.0/24", AvailabilityZone="us-east-1a")[
        "Subnet"
    ]["SubnetId"]
    forensic_sg = ec2.create_security_group(GroupName="custody-workstation", Description="custody", VpcId=forensic_vpc)[
        "GroupId"
    ]
    base = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=forensic_subnet)["Instances"][0]
    ami = ec2.create_image(InstanceId=base["InstanceId"], Name="custody-forensic-workstation")["ImageId"]
    ec2.terminate_instances(InstanceIds=[base["InstanceId"]])

    # Target account: the suspect instance.
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.3.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="bastion", Description="ssh", VpcId=vpc)["GroupId"]
    role = iam.create_role(RoleName="bastion", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    profile = iam.create_instance_profile(InstanceProfileName="bastion")["InstanceProfile"]["Arn"]
    iam.add_role_to_instance_profile(InstanceProfileName="bastion", RoleName="bastion")
    instance = ec2.run_instances(
        ImageId="ami-12c6146b",
        InstanceType="t3.micro",
        MinCount=1,
        MaxCount=1,
        SubnetId=subnet,
        SecurityGroupIds=[sg],
        IamInstanceProfile={"Arn": profile},
        TagSpecifications=[
            {
                "ResourceType": "instance",
                "Tags": [
                    {"Key": "Name", "Value": "bastion-1"},
                    {"Key": "IsTriageRequired", "Value": "true"},
                ],
            }
        ],
    )["Instances"][0]["InstanceId"]

    settings = {
        "forensicAccount": ACCOUNT,
        "forensicRegion": REGION,
        "evidenceBucket": EVIDENCE,
        "artifactsBucket": ARTIFACTS,
        "snapshotKmsKey": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/5b8f2c1e-7d4a-4e3b-9c6f-1a2b3c4d5e6f",
        "quarantineLabel": "custody.io/quarantine",
        "isolateSubnetNacl": False,
        "revokeRoleSessions": True,
        "uploadPartSizeBytes": 5 * 1024 * 1024,
        "presignedUrlSeconds": 3600,
        "documents": {
            "captureMemory": "custody-capture-memory",
            "mapPods": "custody-map-pods",
            "collectHost": "custody-collect-host",
            "analyseMemory": "custody-analyse-memory",
            "analyseDisk": "custody-analyse-disk",
        },
        "workstation": {
            "image": ami,
            "instanceType": "r5.xlarge",
            "subnet": forensic_subnet,
            "securityGroup": forensic_sg,
            "instanceProfile": "custody-workstation",
        },
        "trigger": {"triageActionId": "ForensicTriage", "isolationActionId": "ForensicIsolation"},
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "settings.json").write_text(json.dumps(settings, indent=1))
    event = template.read_text().replace("i-0123456789abcdef0", instance).replace("111122223333", ACCOUNT)
    (out / "event.json").write_text(event)
    # The finding the custom action carried is in Security Hub, as it would be in the console.
    hub = c("securityhub")
    shape = hub.meta.service_model.operation_model("BatchImportFindings").input_shape.members["Findings"]
    findings = conform(json.loads(event)["detail"]["findings"], shape)
    imported = hub.batch_import_findings(Findings=findings)
    if imported["FailedCount"]:
        raise SystemExit(f"Security Hub refused the event's findings: {imported['FailedFindings']}")
    world = {
        "instance": instance,
        "vpc": vpc,
        "subnet": subnet,
        "securityGroup": sg,
        "role": "bastion",
        "roleArn": role,
        "topicArn": topic,
        "table": TABLE,
        "externalId": EXTERNAL_ID,
        "responderRole": RESPONDER,
        "workstationImage": ami,
    }
    (out / "world.json").write_text(json.dumps(world, indent=1))
    print(json.dumps(world))


def inspect(endpoint: str, cert: str, world_path: Path, case_id: str) -> None:
    c = clients(endpoint, cert)
    ec2, iam, s3, ddb, ssm = (c(x) for x in ("ec2", "iam", "s3", "dynamodb", "ssm"))
    world = json.loads(world_path.read_text())
    instance = world["instance"]

    objects = {}
    listed = s3.list_objects_v2(Bucket=EVIDENCE, Prefix=f"cases/{case_id}/").get("Contents", [])
    for o in listed:
        key = o["Key"]
        got = s3.get_object(Bucket=EVIDENCE, Key=key, ChecksumMode="ENABLED")
        body = got["Body"].read()
        objects[key] = {
            "bytes": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "lockMode": got.get("ObjectLockMode"),
            "retainUntil": got["ObjectLockRetainUntilDate"].isoformat() if got.get("ObjectLockRetainUntilDate") else None,
            "checksumSha256": got.get("ChecksumSHA256"),
            "text": body.decode() if key.endswith((".md", ".json", ".txt")) and len(body) < 200_000 else None,
        }

    snapshots = [
        {
            "id": s["SnapshotId"],
            "volume": s["VolumeId"],
            "state": s["State"],
            "encrypted": s.get("Encrypted", False),
            "tags": {t["Key"]: t["Value"] for t in s.get("Tags", [])},
        }
        for s in ec2.describe_snapshots(
            OwnerIds=["self"], Filters=[{"Name": "tag:custody:case", "Values": [case_id]}]
        )["Snapshots"]
    ]
    described = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]
    volumes = [
        b["Ebs"]["VolumeId"] for b in described.get("BlockDeviceMappings", []) if "Ebs" in b
    ]
    groups = {}
    for g in ec2.describe_security_groups()["SecurityGroups"]:
        groups[g["GroupId"]] = {
            "name": g["GroupName"],
            "vpc": g.get("VpcId"),
            "ingress": len(g.get("IpPermissions", [])),
            "egress": len(g.get("IpPermissionsEgress", [])),
        }
    eni_groups = [
        [g["GroupId"] for g in eni.get("Groups", [])] for eni in described.get("NetworkInterfaces", [])
    ]
    acls = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [world["subnet"]]}])[
        "NetworkAcls"
    ]
    subnet_acl = [
        {
            "id": acl["NetworkAclId"],
            "default": acl.get("IsDefault", False),
            "entries": sorted(
                [{"rule": e["RuleNumber"], "egress": e["Egress"], "action": e["RuleAction"]} for e in acl["Entries"]],
                key=lambda e: (e["egress"], e["rule"]),
            ),
        }
        for acl in acls
    ]
    termination = ec2.describe_instance_attribute(InstanceId=instance, Attribute="disableApiTermination")
    associations = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [instance]}]
    )["IamInstanceProfileAssociations"]
    policies = {}
    for name in iam.list_role_policies(RoleName=world["role"])["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=world["role"], PolicyName=name)["PolicyDocument"]
        policies[name] = doc if isinstance(doc, dict) else json.loads(doc)
    items = [
        item
        for item in ddb.scan(TableName=TABLE)["Items"]
        if case_id in item.get("pk", {}).get("S", "")
    ]
    commands = [
        {"id": cmd["CommandId"], "document": cmd["DocumentName"], "comment": cmd.get("Comment"), "instances": cmd.get("InstanceIds", [])}
        for cmd in ssm.list_commands()["Commands"]
    ]
    findings = {
        f["Id"]: {"workflow": f.get("Workflow", {}).get("Status"), "note": f.get("Note")}
        for f in c("securityhub").get_findings()["Findings"]
    }
    workstations = [
        {"id": i["InstanceId"], "state": i["State"]["Name"], "tags": {t["Key"]: t["Value"] for t in i.get("Tags", [])}}
        for r in ec2.describe_instances(Filters=[{"Name": "tag:custody:case", "Values": [case_id]}])["Reservations"]
        for i in r["Instances"]
    ]
    print(
        json.dumps(
            {
                "objects": objects,
                "snapshots": snapshots,
                "volumes": volumes,
                "securityGroups": groups,
                "instanceGroups": [g["GroupId"] for g in described.get("SecurityGroups", [])],
                "eniGroups": eni_groups,
                "subnetAcl": subnet_acl,
                "disableApiTermination": termination["DisableApiTermination"]["Value"],
                "profileAssociations": [a["State"] for a in associations],
                "rolePolicies": policies,
                "caseItems": len(items),
                "caseItemKinds": sorted({item["sk"]["S"].split("#")[0] for item in items}),
                "commands": commands,
                "workstations": workstations,
                "findings": findings,
            },
            default=str,
        )
    )


def remove_tools(endpoint: str, cert: str) -> None:
    s3 = clients(endpoint, cert)("s3")
    s3.delete_object(Bucket=ARTIFACTS, Key="tools/avml")


def main() -> None:
    if sys.argv[1:2] == ["remove-tools"] and len(sys.argv) == 4:
        remove_tools(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["seed"] and len(sys.argv) == 6:
        seed(sys.argv[2], sys.argv[3], Path(sys.argv[4]), Path(sys.argv[5]))
    elif sys.argv[1:2] == ["inspect"] and len(sys.argv) == 6:
        inspect(sys.argv[2], sys.argv[3], Path(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
