/**
 * The responder role, deployed in every application account (CloudFormation StackSet or one
 * stack per account; synthesized as `cdk.out/<stack>.template.json`, bootstrap-free).
 *
 * Trust: only the forensic account's step roles that act in application accounts, and only with
 * the external id. The trust names the forensic account as principal and pins the role ARNs with
 * `aws:PrincipalArn`, so it survives a step role being recreated and deploys before the forensic
 * stack exists. Permissions: the union of the steps' target-account actions (generated from the
 * code), scoped where IAM can express it:
 * - snapshots, security groups and NACLs may only be created carrying the `custody:case` tag,
 *   and only resources carrying it may be changed, shared or deleted;
 * - `ssm:SendCommand` only with the forensic account's custody documents, on this account's
 *   instances;
 * - IAM role policies only on this account's roles (the policy name `custody-revoke-*` cannot be
 *   expressed in IAM), never on the responder role itself (explicit deny);
 * - EKS only on this account's clusters.
 * Kubernetes access is separate: map this role to the `custody-responder` group
 * (cdk/manifests/responder-clusterrole.md).
 */
import { Aws, BootstraplessSynthesizer, CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { CustodyConfig } from './config';
import { TARGET_DOCUMENTS } from './forensic/documents';
import { ScopeRule, only, scopedStatements, service } from './policy';
import { StepActions, stepRoleName } from './steps';

/** The tag every resource custody creates carries (crates/custody-steps/src/support/tags.rs). */
export const CASE_TAG = 'custody:case';

/** Properties of [`ResponderStack`]. */
export interface ResponderStackProps extends StackProps {
  /** Configuration. */
  readonly config: CustodyConfig;
  /** Generated step → actions. */
  readonly steps: ReadonlyMap<string, StepActions>;
}

/** The steps that act in application accounts (their roles are the only ones trusted). */
export function targetSteps(steps: ReadonlyMap<string, StepActions>): string[] {
  return [...steps].filter(([, a]) => a.target.length > 0).map(([s]) => s);
}

/** The union of every step's target-account actions. */
export function responderActions(steps: ReadonlyMap<string, StepActions>): string[] {
  return [...new Set([...steps.values()].flatMap((a) => a.target))].sort();
}

/** Key actions the responder needs to re-encrypt snapshot copies: not in any step's list. */
export const RESPONDER_KMS_ACTIONS = ['kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'];

/** The responder role template. */
export class ResponderStack extends Stack {
  /** The role. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ResponderStackProps) {
    // Deployed by plain CloudFormation/StackSets into accounts that are not CDK-bootstrapped.
    super(scope, id, { synthesizer: new BootstraplessSynthesizer(), ...props });
    const { config } = props;
    const trusted = targetSteps(props.steps).map(
      (s) => `arn:aws:iam::${config.forensicAccount}:role/${stepRoleName(config.namePrefix, s)}`,
    );
    this.role = new iam.Role(this, 'Role', {
      roleName: config.responderRoleName,
      description: 'custody responder: assumed by the forensic account step functions for one case',
      assumedBy: new iam.PrincipalWithConditions(new iam.AccountPrincipal(config.forensicAccount), {
        StringEquals: { 'sts:ExternalId': config.responderExternalId },
        ArnEquals: { 'aws:PrincipalArn': trusted },
      }),
    });
    const here = Aws.ACCOUNT_ID;
    const docs = TARGET_DOCUMENTS.map((d) => `arn:aws:ssm:${config.forensicRegion}:${config.forensicAccount}:document/${d}`);
    const rules: ScopeRule[] = [
      {
        sid: 'CreateOnlyTagged',
        matches: only('ec2:CreateSnapshots', 'ec2:CreateSnapshot', 'ec2:CopySnapshot', 'ec2:CreateSecurityGroup', 'ec2:CreateNetworkAcl', 'ec2:CreateVolume'),
        resources: ['*'],
        conditions: { Null: { [`aws:RequestTag/${CASE_TAG}`]: 'false' } },
      },
      {
        sid: 'ChangeOnlyTagged',
        matches: only(
          'ec2:CreateNetworkAclEntry',
          'ec2:DeleteNetworkAclEntry',
          'ec2:DeleteNetworkAcl',
          'ec2:RevokeSecurityGroupEgress',
          'ec2:RevokeSecurityGroupIngress',
          'ec2:AuthorizeSecurityGroupEgress',
          'ec2:AuthorizeSecurityGroupIngress',
          'ec2:DeleteSecurityGroup',
          'ec2:ModifySnapshotAttribute',
          'ec2:DeleteSnapshot',
        ),
        resources: ['*'],
        conditions: { Null: { [`aws:ResourceTag/${CASE_TAG}`]: 'false' } },
      },
      {
        sid: 'CustodyDocumentsOnly',
        matches: only('ssm:SendCommand'),
        resources: [...docs, `arn:aws:ec2:*:${here}:instance/*`],
      },
      {
        sid: 'RolePolicies',
        matches: only('iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:GetRolePolicy'),
        resources: [`arn:aws:iam::${here}:role/*`],
      },
      { sid: 'InstanceProfiles', matches: only('iam:GetInstanceProfile'), resources: [`arn:aws:iam::${here}:instance-profile/*`] },
      { sid: 'Clusters', matches: service('eks'), resources: [`arn:aws:eks:*:${here}:cluster/*`] },
    ];
    const policy = new iam.Policy(this, 'StepActions', {
      policyName: 'custody-step-actions',
      statements: scopedStatements('Step', responderActions(props.steps), rules),
    });
    this.role.attachInlinePolicy(policy);
    const support = new iam.Policy(this, 'Support', { policyName: 'custody-support' });
    support.addStatements(
      new iam.PolicyStatement({
        sid: 'NeverEditOwnPolicies',
        effect: iam.Effect.DENY,
        actions: ['iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:AttachRolePolicy', 'iam:DetachRolePolicy', 'iam:UpdateAssumeRolePolicy'],
        resources: [`arn:aws:iam::${here}:role/${config.responderRoleName}`],
      }),
      new iam.PolicyStatement({
        // Copies of the subject's snapshots are re-encrypted with the forensic snapshot key (its
        // key policy names this role); reading the source needs its own key, through EC2 only.
        sid: 'SnapshotKeysViaEc2',
        actions: RESPONDER_KMS_ACTIONS,
        resources: [`arn:aws:kms:*:${here}:key/*`, `arn:aws:kms:${config.forensicRegion}:${config.forensicAccount}:key/*`],
        conditions: { StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' } },
      }),
    );
    this.role.attachInlinePolicy(support);
    new CfnOutput(this, 'ResponderRoleArn', { value: this.role.roleArn });
    new CfnOutput(this, 'KubernetesMapping', {
      value: 'Map this role to the Kubernetes group custody-responder (EKS access entry); see cdk/manifests/responder-clusterrole.md',
    });
  }
}
