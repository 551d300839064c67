import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Match } from 'aws-cdk-lib/assertions';
import { built, refId } from './helpers';

test('one arm64 provided.al2023 function per step, all from one asset, told their step', () => {
  const { forensicT, steps } = built();
  const fns = forensicT.findResources('AWS::Lambda::Function', {
    Properties: { Runtime: 'provided.al2023', Handler: 'bootstrap', Architectures: ['arm64'] },
  });
  const custody = Object.values(fns).filter((f) => f.Properties.Environment?.Variables?.CUSTODY_STEP !== undefined);
  assert.equal(custody.length, steps.size);
  const named = custody.map((f) => f.Properties.Environment.Variables.CUSTODY_STEP).sort();
  assert.deepEqual(named, [...steps.keys()].sort());
  const keys = new Set(custody.map((f) => JSON.stringify(f.Properties.Code.S3Key)));
  assert.equal(keys.size, 1, 'every function uses the same code asset');
  for (const f of custody) {
    const env = f.Properties.Environment.Variables;
    assert.equal(env.CUSTODY_OBJECT_LOCK_MODE, 'COMPLIANCE');
    assert.equal(env.CUSTODY_OBJECT_LOCK_DAYS, '90');
    assert.equal(env.CUSTODY_RESPONDER_EXTERNAL_ID, 'custody-ext-1234');
    assert.ok(env.CUSTODY_CASE_TABLE && env.CUSTODY_TOPIC_ARN && env.CUSTODY_SETTINGS);
    assert.deepEqual(f.Properties.TracingConfig, { Mode: 'Active' });
  }
});

test('settings carry the isolation defaults, the AMI, the trigger and shared document ARNs', () => {
  const { forensicT } = built();
  const fn = Object.values(forensicT.findResources('AWS::Lambda::Function')).find(
    (f) => f.Properties.Environment?.Variables?.CUSTODY_STEP === 'triage',
  );
  assert.ok(fn);
  const text = JSON.stringify(fn.Properties.Environment.Variables.CUSTODY_SETTINGS);
  assert.match(text, /\\"isolateSubnetNacl\\":false/);
  assert.match(text, /\\"revokeRoleSessions\\":true/);
  assert.match(text, /ami-0f1e2d3c4b5a69788/);
  assert.match(text, /\\"triageActionId\\":\\"ForensicTriage\\"/);
  assert.match(text, /\\"securityhubAccount\\":\\"777788889999\\"/);
  assert.match(text, /arn:aws:ssm:eu-west-1:444455556666:document\/custody-capture-memory/);
});

test('case table: pk/sk, gsi1 and gsi2, PITR, deletion protection, retained', () => {
  const { forensicT } = built();
  forensicT.hasResource('AWS::DynamoDB::GlobalTable', {
    DeletionPolicy: 'Retain',
    UpdateReplacePolicy: 'Retain',
    Properties: Match.objectLike({
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({ IndexName: 'gsi1', KeySchema: [{ AttributeName: 'gsi1pk', KeyType: 'HASH' }, { AttributeName: 'gsi1sk', KeyType: 'RANGE' }] }),
        Match.objectLike({ IndexName: 'gsi2', KeySchema: [{ AttributeName: 'gsi2pk', KeyType: 'HASH' }, { AttributeName: 'gsi2sk', KeyType: 'RANGE' }] }),
      ]),
      Replicas: [
        Match.objectLike({
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        }),
      ],
    }),
  });
});

function bucketWithLock() {
  const { forensicT } = built();
  const buckets = forensicT.findResources('AWS::S3::Bucket', { Properties: { ObjectLockEnabled: true } });
  assert.equal(Object.keys(buckets).length, 1, 'exactly one Object Lock bucket (evidence)');
  const [id, bucket] = Object.entries(buckets)[0];
  return { id, bucket };
}

test('evidence bucket: Object Lock COMPLIANCE with the configured days, versioned, SSE-KMS customer key, no public access, access logs, retained', () => {
  const { forensicT } = built();
  const { bucket } = bucketWithLock();
  const p = bucket.Properties;
  assert.equal(bucket.DeletionPolicy, 'Retain');
  assert.deepEqual(p.ObjectLockConfiguration, {
    ObjectLockEnabled: 'Enabled',
    Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 90 } },
  });
  assert.deepEqual(p.VersioningConfiguration, { Status: 'Enabled' });
  const sse = p.BucketEncryption.ServerSideEncryptionConfiguration[0];
  assert.equal(sse.ServerSideEncryptionByDefault.SSEAlgorithm, 'aws:kms');
  const keyId = refId(sse.ServerSideEncryptionByDefault.KMSMasterKeyID);
  assert.ok(keyId);
  forensicT.hasResource('AWS::KMS::Key', { Properties: Match.objectLike({ EnableKeyRotation: true }), DeletionPolicy: 'Retain' });
  assert.equal(forensicT.toJSON().Resources[keyId].Properties.EnableKeyRotation, true);
  assert.deepEqual(p.PublicAccessBlockConfiguration, {
    BlockPublicAcls: true,
    BlockPublicPolicy: true,
    IgnorePublicAcls: true,
    RestrictPublicBuckets: true,
  });
  assert.ok(refId(p.LoggingConfiguration.DestinationBucketName), 'server access logs go to the log bucket');
});

test('evidence bucket policy denies non-TLS, non-KMS and other-key puts', () => {
  const { forensicT } = built();
  const { id } = bucketWithLock();
  const policies = Object.values(forensicT.findResources('AWS::S3::BucketPolicy')).filter((p) => refId(p.Properties.Bucket) === id);
  assert.equal(policies.length, 1);
  const statements = policies[0].Properties.PolicyDocument.Statement as Array<Record<string, any>>;
  const tls = statements.find((s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false');
  assert.ok(tls, 'deny without TLS');
  assert.equal(tls.Action, 's3:*');
  const sse = statements.find((s) => s.Sid === 'DenyPutWithoutSseKms');
  assert.ok(sse);
  assert.equal(sse.Effect, 'Deny');
  assert.equal(sse.Action, 's3:PutObject');
  assert.deepEqual(sse.Condition.StringNotEquals, { 's3:x-amz-server-side-encryption': 'aws:kms' });
  const key = statements.find((s) => s.Sid === 'DenyPutWithAnotherKey');
  assert.ok(key);
  assert.equal(key.Effect, 'Deny');
  assert.ok(key.Condition.StringNotEquals['s3:x-amz-server-side-encryption-aws-kms-key-id']);
});

test('artifacts bucket: same hygiene, no Object Lock; log bucket private and TLS-only', () => {
  const { forensicT } = built();
  const buckets = forensicT.findResources('AWS::S3::Bucket');
  const logged = Object.values(buckets).filter((b) => b.Properties.LoggingConfiguration !== undefined);
  assert.equal(logged.length, 2, 'evidence and artifacts log their access');
  const artifacts = logged.find((b) => b.Properties.ObjectLockEnabled === undefined);
  assert.ok(artifacts);
  assert.equal(artifacts.DeletionPolicy, 'Retain');
  assert.equal(artifacts.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm, 'aws:kms');
  assert.deepEqual(artifacts.Properties.VersioningConfiguration, { Status: 'Enabled' });
  for (const [id] of Object.entries(buckets)) {
    const policy = Object.values(forensicT.findResources('AWS::S3::BucketPolicy')).find((p) => refId(p.Properties.Bucket) === id);
    assert.ok(policy, `bucket ${id} has a policy`);
    assert.ok(
      policy.Properties.PolicyDocument.Statement.some((s: any) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false'),
      `bucket ${id} is TLS-only`,
    );
  }
});

test('SNS topic is KMS-encrypted and the e-mails are subscribed', () => {
  const { forensicT } = built();
  forensicT.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  for (const email of ['ir@example.com', 'oncall@example.com']) {
    forensicT.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: email });
  }
});

test('event bus accepts PutEvents only from the Security Hub account; the rule matches exactly the two actions and starts triage', () => {
  const { forensicT } = built();
  forensicT.hasResourceProperties('AWS::Events::EventBusPolicy', {
    Statement: Match.objectLike({
      Action: 'events:PutEvents',
      Effect: 'Allow',
      Principal: { AWS: { 'Fn::Join': Match.arrayWith([Match.arrayWith([':iam::777788889999:root'])]) } },
    }),
  });
  const rules = Object.values(forensicT.findResources('AWS::Events::Rule'));
  assert.equal(rules.length, 1);
  const pattern = rules[0].Properties.EventPattern;
  assert.deepEqual(pattern.source, ['aws.securityhub']);
  assert.deepEqual(pattern['detail-type'], ['Security Hub Findings - Custom Action']);
  assert.deepEqual(pattern.resources, [
    'arn:aws:securityhub:eu-west-1:777788889999:action/custom/ForensicTriage',
    'arn:aws:securityhub:eu-west-1:777788889999:action/custom/ForensicIsolation',
  ]);
  const target = rules[0].Properties.Targets[0];
  const machines = forensicT.findResources('AWS::StepFunctions::StateMachine', { Properties: { StateMachineName: 'custody-forensic-triage' } });
  assert.equal(refId(target.Arn), Object.keys(machines)[0]);
});

test('SSM documents: every YAML file as a Command document; host documents shared with the application accounts', () => {
  const { forensicT } = built();
  const docs = Object.values(forensicT.findResources('AWS::SSM::Document'));
  const names = docs.map((d) => d.Properties.Name).sort();
  assert.deepEqual(names, ['custody-analyse-disk', 'custody-analyse-memory', 'custody-capture-memory', 'custody-collect-host', 'custody-map-pods']);
  for (const d of docs) {
    assert.equal(d.Properties.DocumentType, 'Command');
    assert.equal(d.Properties.Content.schemaVersion, '2.2');
    assert.ok(Object.keys(d.Properties.Content.mainSteps).length > 0);
  }
  const shares = Object.values(forensicT.findResources('Custom::AWS')).map((r) => JSON.stringify(r.Properties.Create));
  assert.equal(shares.length, 3);
  for (const name of ['custody-capture-memory', 'custody-map-pods', 'custody-collect-host']) {
    const share = shares.find((s) => s.includes(`\\"Name\\":\\"${name}\\"`));
    assert.ok(share, `${name} is shared`);
    assert.match(share, /111122223333/);
    assert.match(share, /222233334444/);
  }
  assert.ok(!shares.some((s) => s.includes('custody-analyse')), 'workstation documents are not shared');
});

test('workstation: SSM core role with evidence writes under cases/, profile, SG with no ingress and 443-only egress', () => {
  const { forensicT } = built();
  forensicT.hasResourceProperties('AWS::IAM::InstanceProfile', { InstanceProfileName: 'custody-workstation' });
  const sgs = Object.values(forensicT.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('forensic workstation') } }));
  assert.equal(sgs.length, 1);
  assert.equal(sgs[0].Properties.SecurityGroupIngress, undefined);
  assert.deepEqual(sgs[0].Properties.SecurityGroupEgress, [
    { CidrIp: '0.0.0.0/0', Description: 'SSM, S3 and KMS over HTTPS', FromPort: 443, IpProtocol: 'tcp', ToPort: 443 },
  ]);
  const role = Object.values(forensicT.findResources('AWS::IAM::Role', { Properties: { RoleName: 'custody-workstation' } }))[0];
  assert.ok(JSON.stringify(role.Properties.ManagedPolicyArns).includes('AmazonSSMManagedInstanceCore'));
  const text = JSON.stringify(forensicT.findResources('AWS::IAM::Policy'));
  assert.match(text, /"Sid":"WriteEvidenceUnderCases"[^}]*/);
  assert.match(text, /\/cases\/\*/);
});

test('without a workstation subnet, a routeless VPC with SSM and S3 endpoints is created', () => {
  const { forensicT } = built();
  forensicT.resourceCountIs('AWS::EC2::VPC', 1);
  forensicT.resourceCountIs('AWS::EC2::InternetGateway', 0);
  forensicT.resourceCountIs('AWS::EC2::NatGateway', 0);
  forensicT.resourceCountIs('AWS::EC2::Route', 0);
  const endpoints = Object.values(forensicT.findResources('AWS::EC2::VPCEndpoint')).map((e) => e.Properties.ServiceName).sort();
  assert.deepEqual(endpoints, ['com.amazonaws.eu-west-1.ec2messages', 'com.amazonaws.eu-west-1.s3', 'com.amazonaws.eu-west-1.ssm', 'com.amazonaws.eu-west-1.ssmmessages']);
});

test('an existing workstation VPC and subnet are used as given', () => {
  const { App } = require('aws-cdk-lib');
  const { Template } = require('aws-cdk-lib/assertions');
  const { ForensicStack } = require('../lib/forensic-stack');
  const { config, testAsset } = require('./helpers');
  const { loadStepActions } = require('../lib/steps');
  const stack = new ForensicStack(new App({ context: { '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true } }), 'F', {
    env: { account: '444455556666', region: 'eu-west-1' },
    config: config({ workstationVpcId: 'vpc-0123456789abcdef0', workstationSubnetId: 'subnet-0123456789abcdef0' }),
    steps: loadStepActions(),
    lambdaAsset: testAsset(),
  });
  const t = Template.fromStack(stack);
  t.resourceCountIs('AWS::EC2::VPC', 0);
  t.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: 'vpc-0123456789abcdef0' });
  assert.match(JSON.stringify(t.toJSON()), /subnet-0123456789abcdef0/);
});
