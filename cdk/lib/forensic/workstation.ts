/**
 * What the forensic workstation runs with: its network (an existing subnet, or a small isolated
 * VPC with the endpoints SSM and S3 need), a security group with no ingress and HTTPS-only
 * egress, and a role that can register with SSM, write evidence under `cases/` and read artifacts.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** Properties of [`Workstation`]. */
export interface WorkstationProps {
  /** Existing VPC and subnet; absent: a VPC is created. */
  readonly existing?: { vpcId: string; subnetId: string };
  /** Evidence bucket (write under `cases/`). */
  readonly evidenceBucket: s3.IBucket;
  /** Artifacts bucket (read). */
  readonly artifactsBucket: s3.IBucket;
  /** The key of both buckets. */
  readonly evidenceKey: kms.IKey;
  /** Instance profile and role name. */
  readonly name: string;
}

/** The workstation's network, role and profile. */
export class Workstation extends Construct {
  /** The role the instance runs as. */
  readonly role: iam.Role;
  /** Its instance profile (name passed to the steps). */
  readonly profile: iam.InstanceProfile;
  /** No ingress, egress 443 only. */
  readonly securityGroup: ec2.SecurityGroup;
  /** The subnet the steps launch it in. */
  readonly subnetId: string;

  constructor(scope: Construct, id: string, props: WorkstationProps) {
    super(scope, id);
    let vpc: ec2.IVpc;
    if (props.existing !== undefined) {
      vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: props.existing.vpcId, availabilityZones: [] });
      this.subnetId = props.existing.subnetId;
    } else {
      const created = new ec2.Vpc(this, 'Vpc', {
        ipAddresses: ec2.IpAddresses.cidr('10.90.0.0/24'),
        // Named explicitly so synth needs no AZ lookup (works offline).
        availabilityZones: [`${Stack.of(this).region}a`],
        natGateways: 0,
        subnetConfiguration: [{ name: 'workstation', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 26 }],
      });
      created.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
      for (const [name, svc] of [
        ['Ssm', ec2.InterfaceVpcEndpointAwsService.SSM],
        ['SsmMessages', ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES],
        ['Ec2Messages', ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES],
      ] as const) {
        created.addInterfaceEndpoint(name, { service: svc, privateDnsEnabled: true });
      }
      vpc = created;
      this.subnetId = created.isolatedSubnets[0].subnetId;
    }
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'custody forensic workstation: no ingress, HTTPS egress only',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'SSM, S3 and KMS over HTTPS');

    this.role = new iam.Role(this, 'Role', {
      roleName: props.name,
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'custody forensic workstation',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteEvidenceUnderCases',
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [props.evidenceBucket.arnForObjects('cases/*')],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadArtifacts',
        actions: ['s3:GetObject'],
        resources: [props.artifactsBucket.arnForObjects('*')],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EvidenceKey',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [props.evidenceKey.keyArn],
      }),
    );
    this.profile = new iam.InstanceProfile(this, 'Profile', { instanceProfileName: props.name, role: this.role });
  }
}
