import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { built, refId } from './helpers';

test('custom actions Forensic Triage and Forensic Isolation', () => {
  const { securityHubT } = built();
  securityHubT.hasResourceProperties('AWS::SecurityHub::ActionTarget', { Id: 'ForensicTriage', Name: 'Forensic Triage' });
  securityHubT.hasResourceProperties('AWS::SecurityHub::ActionTarget', { Id: 'ForensicIsolation', Name: 'Forensic Isolation' });
  securityHubT.resourceCountIs('AWS::SecurityHub::ActionTarget', 2);
});

test('the rule forwards exactly the two actions to the forensic bus with a PutEvents role', () => {
  const { securityHubT } = built();
  const targets = securityHubT.findResources('AWS::SecurityHub::ActionTarget');
  const rules = Object.values(securityHubT.findResources('AWS::Events::Rule'));
  assert.equal(rules.length, 1);
  const p = rules[0].Properties;
  assert.deepEqual(p.EventPattern.source, ['aws.securityhub']);
  assert.deepEqual(p.EventPattern['detail-type'], ['Security Hub Findings - Custom Action']);
  assert.equal(p.EventPattern.resources.length, 2);
  assert.deepEqual(p.EventPattern.resources.map(refId).sort(), Object.keys(targets).sort());
  const bus = 'arn:aws:events:eu-west-1:444455556666:event-bus/custody-forensic';
  assert.equal(p.Targets.length, 1);
  assert.equal(p.Targets[0].Arn, bus);
  const roleId = refId(p.Targets[0].RoleArn);
  assert.ok(roleId);
  const policy = Object.values(securityHubT.findResources('AWS::IAM::Policy')).find((x) => x.Properties.Roles.some((r: unknown) => refId(r) === roleId));
  assert.ok(policy);
  for (const st of policy.Properties.PolicyDocument.Statement) {
    assert.equal(st.Effect, 'Allow');
    assert.equal(st.Action, 'events:PutEvents');
    assert.equal(st.Resource, bus);
  }
});
