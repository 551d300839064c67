import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { RUNTIME_ACTIONS } from '../lib/forensic/step-lambdas';
import { RESPONDER_KMS_ACTIONS, responderActions, targetSteps } from '../lib/responder-stack';
import { actionsOf, built, refId } from './helpers';

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, any> };

/** Role logical id → { policyName → statements } of the inline policies attached to it. */
function policiesByRole(resources: Record<string, any>): Map<string, Map<string, Statement[]>> {
  const out = new Map<string, Map<string, Statement[]>>();
  for (const p of Object.values(resources)) {
    for (const r of p.Properties.Roles ?? []) {
      const role = refId(r);
      if (role === undefined) continue;
      const byName = out.get(role) ?? new Map<string, Statement[]>();
      byName.set(p.Properties.PolicyName, [...(byName.get(p.Properties.PolicyName) ?? []), ...p.Properties.PolicyDocument.Statement]);
      out.set(role, byName);
    }
  }
  return out;
}

test("every function's step policy equals its generated forensic-account actions; the rest is runtime only", () => {
  const { forensicT, steps } = built();
  const roles = forensicT.findResources('AWS::IAM::Role');
  const fns = Object.values(forensicT.findResources('AWS::Lambda::Function'));
  const policies = policiesByRole(forensicT.findResources('AWS::IAM::Policy'));
  for (const [step, actions] of steps) {
    const fn = fns.find((f) => f.Properties.Environment?.Variables?.CUSTODY_STEP === step);
    assert.ok(fn, step);
    const roleId = refId(fn.Properties.Role);
    assert.ok(roleId && roles[roleId], `${step} has its own role`);
    assert.equal(roles[roleId].Properties.RoleName, `custody-step-${step}`);
    assert.equal(roles[roleId].Properties.ManagedPolicyArns, undefined, `${step}: no managed policies`);
    const attached = policies.get(roleId) ?? new Map();
    const stepStatements = attached.get('custody-step-actions') ?? [];
    const granted = [...new Set(stepStatements.flatMap(actionsOf))].sort();
    assert.deepEqual(granted, [...actions.forensic].sort(), `${step}: step policy = generated forensic actions`);
    assert.ok(stepStatements.every((s: Statement) => s.Effect === 'Allow'));
    for (const [name, statements] of attached) {
      if (name === 'custody-step-actions') continue;
      for (const a of statements.flatMap(actionsOf)) {
        assert.ok(RUNTIME_ACTIONS.has(a), `${step}: ${name} grants ${a}, which is neither generated nor runtime`);
      }
    }
    // The part acting in application accounts goes through the responder role only.
    const assume = [...attached.values()].flat().filter((s) => actionsOf(s).includes('sts:AssumeRole'));
    if (actions.target.length > 0) {
      assert.equal(assume.length, 1, `${step} assumes the responder role`);
      assert.deepEqual(assume[0].Resource, [
        'arn:aws:iam::111122223333:role/custody-responder',
        'arn:aws:iam::222233334444:role/custody-responder',
      ]);
    } else {
      assert.equal(assume.length, 0, `${step} acts only in the forensic account`);
    }
  }
});

test('step statements are scoped: table, evidence under cases/, topic, passed role', () => {
  const { forensicT } = built();
  const text = JSON.stringify(forensicT.findResources('AWS::IAM::Policy'));
  const statements: Statement[] = Object.values(forensicT.findResources('AWS::IAM::Policy')).flatMap(
    (p: any) => p.Properties.PolicyDocument.Statement,
  );
  for (const s of statements) {
    for (const a of actionsOf(s)) {
      if (a.startsWith('dynamodb:') || a.startsWith('sns:') || a === 's3:PutObject' || a === 'iam:PassRole') {
        assert.notEqual(s.Resource, '*', `${a} is scoped`);
      }
    }
  }
  assert.match(text, /"Sid":"StepEvidenceWrite"/);
  const write = statements.find((s) => s.Sid === 'StepEvidenceWrite');
  assert.ok(write);
  assert.match(JSON.stringify(write.Resource), /\/cases\/\*/);
  const pass = statements.find((s) => s.Sid === 'StepPassWorkstationRole');
  if (pass !== undefined) assert.deepEqual(pass.Condition, { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
});

test('responder role: trusted only by the step roles that act there, with the external id', () => {
  const { responderT, steps } = built();
  const roles = Object.values(responderT.findResources('AWS::IAM::Role'));
  assert.equal(roles.length, 1);
  const role = roles[0].Properties;
  assert.equal(role.RoleName, 'custody-responder');
  const trust = role.AssumeRolePolicyDocument.Statement;
  assert.equal(trust.length, 1);
  assert.equal(trust[0].Action, 'sts:AssumeRole');
  assert.match(JSON.stringify(trust[0].Principal.AWS), /:iam::444455556666:root/);
  assert.deepEqual(Object.keys(trust[0].Principal), ['AWS']);
  assert.deepEqual(trust[0].Condition.StringEquals, { 'sts:ExternalId': 'custody-ext-1234' });
  const trusted = trust[0].Condition.ArnEquals['aws:PrincipalArn'];
  const expected = targetSteps(steps).map((s) => `arn:aws:iam::444455556666:role/custody-step-${s}`);
  assert.deepEqual(trusted, expected);
  assert.ok(expected.length > 0 && expected.length < steps.size, 'forensic-only steps are not trusted');
});

test("responder permissions equal the union of the steps' target-account actions, scoped by tag, document and account", () => {
  const { responderT, steps } = built();
  const policies = policiesByRole(responderT.findResources('AWS::IAM::Policy'));
  assert.equal(policies.size, 1);
  const attached = [...policies.values()][0];
  const stepStatements = attached.get('custody-step-actions') ?? [];
  assert.deepEqual([...new Set(stepStatements.flatMap(actionsOf))].sort(), responderActions(steps));
  for (const s of attached.get('custody-support') ?? []) {
    for (const a of actionsOf(s)) {
      assert.ok(s.Effect === 'Deny' || RESPONDER_KMS_ACTIONS.includes(a), `support grants only KMS: ${a}`);
    }
  }
  const bySid = new Map(stepStatements.map((s) => [s.Sid, s]));
  const created = bySid.get('StepCreateOnlyTagged');
  assert.ok(created);
  assert.ok(actionsOf(created).includes('ec2:CreateSecurityGroup'));
  assert.deepEqual(created.Condition, { Null: { 'aws:RequestTag/custody:case': 'false' } });
  const changed = bySid.get('StepChangeOnlyTagged');
  assert.ok(changed);
  assert.deepEqual(changed.Condition, { Null: { 'aws:ResourceTag/custody:case': 'false' } });
  const send = bySid.get('StepCustodyDocumentsOnly');
  assert.ok(send);
  assert.deepEqual(actionsOf(send), ['ssm:SendCommand']);
  const resources = JSON.stringify(send.Resource);
  for (const d of ['custody-capture-memory', 'custody-map-pods', 'custody-collect-host']) {
    assert.ok(resources.includes(`arn:aws:ssm:eu-west-1:444455556666:document/${d}`), d);
  }
  assert.ok(!resources.includes('document/*'));
  const iamRoles = bySid.get('StepRolePolicies');
  assert.ok(iamRoles);
  assert.ok(actionsOf(iamRoles).includes('iam:PutRolePolicy'));
  const deny = (attached.get('custody-support') ?? []).find((s) => s.Sid === 'NeverEditOwnPolicies');
  assert.ok(deny && deny.Effect === 'Deny' && actionsOf(deny).includes('iam:PutRolePolicy'));
  assert.ok(actionsOf(bySid.get('StepClusters') ?? { Action: [] }).includes('eks:DescribeCluster'));
});

test('responder template needs no CDK bootstrap (deployable by StackSets)', () => {
  const { responderT } = built();
  const t = responderT.toJSON();
  assert.equal(t.Parameters?.BootstrapVersion, undefined);
  assert.equal(t.Rules?.CheckBootstrapVersion, undefined);
});

test('snapshot key lets only the responder roles use it, through EC2 grants', () => {
  const { forensicT } = built();
  const keys = Object.values(forensicT.findResources('AWS::KMS::Key'));
  const snapshot = keys.find((k) => k.Properties.Description === 'custody: EBS snapshot copies of evidence volumes');
  assert.ok(snapshot);
  const statements = snapshot.Properties.KeyPolicy.Statement as Statement[];
  const grant = statements.find((s) => s.Sid === 'ResponderRolesGrantToEbs');
  assert.ok(grant);
  assert.deepEqual(grant.Condition?.Bool, { 'kms:GrantIsForAWSResource': 'true' });
  assert.deepEqual(grant.Condition?.ArnEquals['aws:PrincipalArn'], [
    'arn:aws:iam::111122223333:role/custody-responder',
    'arn:aws:iam::222233334444:role/custody-responder',
  ]);
});
