/**
 * One Lambda function per step, all from the one `custody-lambda` bootstrap (provided.al2023,
 * arm64 unless `lambdaArchitecture` says x86_64), told its step by `CUSTODY_STEP` and everything
 * else by `CUSTODY_SETTINGS` (the steps' `Settings` as JSON) plus the `CUSTODY_*` variables
 * custody-aws reads: exactly the variables of `generated/lambda-env.json` (tested).
 *
 * Each function has its own role with a fixed name (the responder role in application accounts
 * trusts these names). Its policy `custody-step-actions` is exactly the forensic-account half of
 * the step's generated action list, scoped to custody's resources; a second policy holds what
 * running at all needs (logs, X-Ray, the custody keys, and `sts:AssumeRole` on the responder
 * role for steps that act in application accounts).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { CustodyConfig } from '../config';
import { ScopeRule, only, scopedStatements, service } from '../policy';
import { StepActions, pascal, stepRoleName } from '../steps';
import { WORKSTATION_DOCUMENTS, documentArn } from './documents';

/** Properties of [`StepLambdas`]. */
export interface StepLambdasProps {
  /** Configuration. */
  readonly config: CustodyConfig;
  /** Generated step → actions. */
  readonly steps: ReadonlyMap<string, StepActions>;
  /** The bootstrap zip. */
  readonly code: lambda.Code;
  /** The steps' `Settings`, JSON-serialisable (may hold tokens). */
  readonly settings: Record<string, unknown>;
  /** Case table. */
  readonly table: dynamodb.ITableV2;
  /** Evidence bucket. */
  readonly evidenceBucket: s3.IBucket;
  /** Artifacts bucket. */
  readonly artifactsBucket: s3.IBucket;
  /** Key of both buckets. */
  readonly evidenceKey: kms.IKey;
  /** Key of snapshot copies. */
  readonly snapshotKey: kms.IKey;
  /** Key of the topic and log groups. */
  readonly opsKey: kms.IKey;
  /** Notifications topic. */
  readonly topic: sns.ITopic;
  /** The workstation role (passed to EC2 when launching it). */
  readonly workstationRole: iam.IRole;
}

/** Actions that running needs whatever the step: not part of any step's generated list. */
export const RUNTIME_ACTIONS = new Set([
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'sts:AssumeRole',
  'kms:Decrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncrypt*',
  'kms:CreateGrant',
  'kms:DescribeKey',
]);

/** The step functions. */
export class StepLambdas extends Construct {
  /** Step name → function. */
  readonly functions = new Map<string, lambda.Function>();
  /** Step name → role. */
  readonly roles = new Map<string, iam.Role>();
  /** Step name → the policy holding exactly its generated forensic-account actions. */
  readonly stepPolicies = new Map<string, iam.Policy>();

  constructor(scope: Construct, id: string, props: StepLambdasProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { config } = props;
    const rules = forensicRules(this, props);
    const settingsJson = stack.toJsonString(props.settings);
    for (const [step, actions] of props.steps) {
      const name = pascal(step);
      const role = new iam.Role(this, `${name}Role`, {
        roleName: stepRoleName(config.namePrefix, step),
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `custody step ${step}`,
      });
      const logGroup = new logs.LogGroup(this, `${name}Logs`, {
        retention: logs.RetentionDays.ONE_YEAR,
        encryptionKey: props.opsKey,
      });
      const fn = new lambda.Function(this, name, {
        runtime: lambda.Runtime.PROVIDED_AL2023,
        architecture: config.lambdaArchitecture === 'x86_64' ? lambda.Architecture.X86_64 : lambda.Architecture.ARM_64,
        handler: 'bootstrap',
        code: props.code,
        role,
        logGroup,
        tracing: lambda.Tracing.ACTIVE,
        memorySize: 512,
        timeout: Duration.minutes(5),
        description: `custody step ${step}`,
        environment: {
          CUSTODY_STEP: step,
          CUSTODY_SETTINGS: settingsJson,
          CUSTODY_CASE_TABLE: props.table.tableName,
          CUSTODY_TOPIC_ARN: props.topic.topicArn,
          CUSTODY_RESPONDER_ROLE: config.responderRoleName,
          CUSTODY_RESPONDER_EXTERNAL_ID: config.responderExternalId,
          CUSTODY_OBJECT_LOCK_MODE: 'COMPLIANCE',
          CUSTODY_OBJECT_LOCK_DAYS: String(config.evidenceRetentionDays),
        },
      });

      if (actions.forensic.length > 0) {
        const stepPolicy = new iam.Policy(this, `${name}StepActions`, {
          policyName: 'custody-step-actions',
          statements: scopedStatements('Step', actions.forensic, rules),
        });
        role.attachInlinePolicy(stepPolicy);
        this.stepPolicies.set(step, stepPolicy);
      }

      const runtime = new iam.Policy(this, `${name}Runtime`, { policyName: 'custody-runtime' });
      runtime.addStatements(
        new iam.PolicyStatement({
          sid: 'Logs',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn, `${logGroup.logGroupArn}:*`],
        }),
        new iam.PolicyStatement({
          sid: 'Tracing',
          actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
          resources: ['*'],
        }),
      );
      const usesService = (prefix: string) => actions.forensic.some((a) => a.startsWith(prefix));
      if (usesService('s3:')) {
        runtime.addStatements(
          new iam.PolicyStatement({
            sid: 'EvidenceKey',
            actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
            resources: [props.evidenceKey.keyArn],
          }),
        );
      }
      if (usesService('sns:')) {
        runtime.addStatements(
          new iam.PolicyStatement({
            sid: 'TopicKey',
            actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
            resources: [props.opsKey.keyArn],
          }),
        );
      }
      if (actions.forensic.some((a) => ['ec2:CopySnapshot', 'ec2:CreateVolume', 'ec2:AttachVolume', 'ec2:RunInstances'].includes(a))) {
        runtime.addStatements(
          new iam.PolicyStatement({
            sid: 'SnapshotKey',
            actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncrypt*'],
            resources: [props.snapshotKey.keyArn],
          }),
          new iam.PolicyStatement({
            sid: 'SnapshotKeyGrantsToEbs',
            actions: ['kms:CreateGrant'],
            resources: [props.snapshotKey.keyArn],
            conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
          }),
        );
      }
      if (actions.target.length > 0 && config.applicationAccounts.length > 0) {
        runtime.addStatements(
          new iam.PolicyStatement({
            sid: 'AssumeResponderRole',
            actions: ['sts:AssumeRole'],
            resources: config.applicationAccounts.map((a) => `arn:aws:iam::${a}:role/${config.responderRoleName}`),
          }),
        );
      }
      role.attachInlinePolicy(runtime);
      this.functions.set(step, fn);
      this.roles.set(step, role);
    }
  }
}

/** How the forensic-account actions are scoped. */
function forensicRules(scope: Construct, props: StepLambdasProps): ScopeRule[] {
  const stack = Stack.of(scope);
  const region = stack.region;
  const account = stack.account;
  const inRegion = { StringEquals: { 'aws:RequestedRegion': region } };
  return [
    {
      sid: 'CaseTable',
      matches: service('dynamodb'),
      resources: [props.table.tableArn, `${props.table.tableArn}/index/*`],
    },
    {
      sid: 'EvidenceWrite',
      matches: only('s3:PutObject', 's3:AbortMultipartUpload'),
      resources: [props.evidenceBucket.arnForObjects('cases/*')],
    },
    {
      sid: 'EvidenceRead',
      matches: only('s3:GetObject'),
      resources: [props.evidenceBucket.arnForObjects('cases/*'), props.artifactsBucket.arnForObjects('*')],
    },
    {
      sid: 'Buckets',
      matches: service('s3'),
      resources: [props.evidenceBucket.bucketArn, props.artifactsBucket.bucketArn],
    },
    { sid: 'Topic', matches: service('sns'), resources: [props.topic.topicArn] },
    {
      sid: 'Findings',
      matches: service('securityhub'),
      resources: [`arn:aws:securityhub:${region}:${account}:hub/default`],
    },
    {
      sid: 'PassWorkstationRole',
      matches: only('iam:PassRole'),
      resources: [props.workstationRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    },
    {
      sid: 'WorkstationCommands',
      matches: only('ssm:SendCommand'),
      resources: [
        ...WORKSTATION_DOCUMENTS.map((d) => documentArn(scope, d)),
        `arn:aws:ec2:${region}:${account}:instance/*`,
      ],
    },
    { sid: 'Ec2InRegion', matches: service('ec2'), resources: ['*'], conditions: inRegion },
  ];
}
