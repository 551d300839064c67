import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, readConfig } from '../lib/config';
import { CONTEXT, synthApp, testAsset } from './helpers';

test('the app refuses to synthesize without the custody-lambda bootstrap, naming the build script', () => {
  const r = synthApp({ lambdaAsset: '/nonexistent/bootstrap.zip' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /context lambdaAsset: the custody-lambda bootstrap \/nonexistent\/bootstrap.zip does not exist: build it with scripts\/build-lambda/);
});

test('the app synthesizes the three stacks with a (test) asset', () => {
  const { out, ...r } = synthApp({ lambdaAsset: testAsset() });
  assert.equal(r.status, 0, r.stderr);
  for (const stack of ['CustodyForensic', 'CustodySecurityHub', 'CustodyResponder']) {
    assert.ok(fs.existsSync(path.join(out, `${stack}.template.json`)), stack);
  }
});

test('configuration: missing or malformed keys are named; no wildcard accounts; defaults', () => {
  const read = (ctx: Record<string, unknown>) => readConfig((k) => ctx[k]);
  const expectKey = (ctx: Record<string, unknown>, key: string) =>
    assert.throws(() => read(ctx), (e: unknown) => e instanceof ConfigError && e.key === key);
  expectKey({ ...CONTEXT, forensicAccount: undefined }, 'forensicAccount');
  expectKey({ ...CONTEXT, applicationAccounts: ['*'] }, 'applicationAccounts');
  expectKey({ ...CONTEXT, applicationAccounts: '111122223333,abc' }, 'applicationAccounts');
  expectKey({ ...CONTEXT, responderExternalId: undefined }, 'responderExternalId');
  expectKey({ ...CONTEXT, evidenceRetentionDays: 0 }, 'evidenceRetentionDays');
  expectKey({ ...CONTEXT, workstationVpcId: 'vpc-0123456789abcdef0' }, 'workstationSubnetId');
  expectKey({ ...CONTEXT, securityHubRegion: 'us-east-1' }, 'securityHubRegion');
  expectKey({ ...CONTEXT, isolateSubnetNacl: 'yes' }, 'isolateSubnetNacl');
  expectKey({ ...CONTEXT, isolationActionId: 'ForensicTriage' }, 'isolationActionId');
  const c = read({ forensicAccount: '444455556666', forensicRegion: 'eu-west-1', responderExternalId: 'xx' });
  assert.deepEqual(c.applicationAccounts, []);
  assert.equal(c.securityHubAccount, '444455556666');
  assert.equal(c.isolateSubnetNacl, false);
  assert.equal(c.revokeRoleSessions, true);
  assert.equal(c.evidenceRetentionDays, 365);
  assert.equal(c.responderRoleName, 'custody-responder');
  assert.equal(c.triageActionId, 'ForensicTriage');
  assert.equal(c.isolationActionId, 'ForensicIsolation');
  assert.deepEqual(read({ ...CONTEXT, applicationAccounts: '["111122223333"]' }).applicationAccounts, ['111122223333']);
});
