/**
 * What the forensic workstation runs with: its network (an existing subnet, or a small isolated
 * VPC with the endpoints SSM and S3 need), a security group with no ingress and HTTPS-only
 * egress, and a role that can register with SSM, write evidence under `cases/` and read artifacts.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Fn, Stack } from 'aws-cdk-lib';
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
  readonly securityGroup: ec2.CfnSecurityGroup;
  /** The subnet the steps launch it in. */
  readonly subnetId: string;

  constructor(scope: Construct, id: string, props: WorkstationProps) {
    super(scope, id);
    let vpcId: string;
    if (props.existing !== undefined) {
      vpcId = props.existing.vpcId;
      this.subnetId = props.existing.subnetId;
    } else {
      const created = isolatedVpc(this);
      vpcId = created.vpcId;
      this.subnetId = created.subnetId;
    }
    // L1: the L2 SecurityGroup wants an IVpc, which for an imported or token VPC id needs a lookup.
    this.securityGroup = new ec2.CfnSecurityGroup(this, 'SecurityGroup', {
      vpcId,
      groupDescription: 'custody forensic workstation: no ingress, HTTPS egress only',
      securityGroupEgress: [
        { ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIp: '0.0.0.0/0', description: 'SSM, S3 and KMS over HTTPS' },
      ],
    });

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

/**
 * A one-subnet VPC with no route out, reaching SSM and S3 through endpoints only. Built from
 * CloudFormation resources so its zone is picked at deploy time (`Fn::GetAZs`): the L2 `Vpc`
 * needs an account lookup to validate zones, which would break offline synth.
 */
function isolatedVpc(scope: Construct): { vpcId: string; subnetId: string } {
  const cidr = '10.90.0.0/24';
  const vpc = new ec2.CfnVPC(scope, 'Vpc', {
    cidrBlock: cidr,
    enableDnsHostnames: true,
    enableDnsSupport: true,
    tags: [{ key: 'Name', value: 'custody-workstation' }],
  });
  const subnet = new ec2.CfnSubnet(scope, 'Subnet', {
    vpcId: vpc.ref,
    cidrBlock: '10.90.0.0/26',
    availabilityZone: Fn.select(0, Fn.getAzs(Stack.of(scope).region)),
    mapPublicIpOnLaunch: false,
    tags: [{ key: 'Name', value: 'custody-workstation' }],
  });
  const routes = new ec2.CfnRouteTable(scope, 'Routes', { vpcId: vpc.ref });
  new ec2.CfnSubnetRouteTableAssociation(scope, 'RoutesAssociation', { subnetId: subnet.ref, routeTableId: routes.ref });
  const region = Stack.of(scope).region;
  new ec2.CfnVPCEndpoint(scope, 'S3Endpoint', {
    vpcId: vpc.ref,
    serviceName: `com.amazonaws.${region}.s3`,
    vpcEndpointType: 'Gateway',
    routeTableIds: [routes.ref],
  });
  const endpointSg = new ec2.CfnSecurityGroup(scope, 'EndpointSecurityGroup', {
    vpcId: vpc.ref,
    groupDescription: 'custody workstation VPC endpoints: HTTPS from the VPC',
    securityGroupIngress: [{ ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIp: cidr, description: 'HTTPS from the VPC' }],
  });
  for (const [id, svc] of [
    ['SsmEndpoint', 'ssm'],
    ['SsmMessagesEndpoint', 'ssmmessages'],
    ['Ec2MessagesEndpoint', 'ec2messages'],
  ] as const) {
    new ec2.CfnVPCEndpoint(scope, id, {
      vpcId: vpc.ref,
      serviceName: `com.amazonaws.${region}.${svc}`,
      vpcEndpointType: 'Interface',
      privateDnsEnabled: true,
      subnetIds: [subnet.ref],
      securityGroupIds: [endpointSg.attrGroupId],
    });
  }
  return { vpcId: vpc.ref, subnetId: subnet.ref };
}
