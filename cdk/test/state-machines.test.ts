import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { STATE_MACHINES_DIR, placeholders } from '../lib/forensic/state-machines';
import { built, refId } from './helpers';

const CDK_DIR = path.join(__dirname, '..', '..');
const files = fs.readdirSync(STATE_MACHINES_DIR).filter((f) => f.endsWith('.asl.json'));

test('every state machine: inline ASL, STANDARD, logging ALL to a KMS log group, tracing, no unmapped placeholder', () => {
  const { forensicT, forensic } = built();
  const machines = forensicT.findResources('AWS::StepFunctions::StateMachine');
  assert.equal(Object.keys(machines).length, files.length);
  const fnIds = new Map([...forensic.lambdas.functions].map(([step, fn]) => [forensic.getLogicalId(fn.node.defaultChild as any), step]));
  for (const m of Object.values(machines)) {
    const p = m.Properties;
    assert.equal(p.StateMachineType, 'STANDARD');
    assert.deepEqual(p.TracingConfiguration, { Enabled: true });
    assert.equal(p.LoggingConfiguration.Level, 'ALL');
    assert.equal(p.LoggingConfiguration.IncludeExecutionData, true);
    const logId = refId(p.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn);
    assert.ok(logId);
    assert.ok(forensicT.toJSON().Resources[logId].Properties.KmsKeyId, 'log group is KMS-encrypted');
    assert.equal(typeof p.DefinitionString, 'string', 'ASL is inline');
    const file = files.find((f) => `custody-${f.replace(/\.asl\.json$/, '')}` === p.StateMachineName);
    assert.ok(file, p.StateMachineName);
    assert.equal(p.DefinitionString, fs.readFileSync(path.join(STATE_MACHINES_DIR, file), 'utf8'));
    const used = placeholders(p.DefinitionString);
    assert.ok(used.length > 0);
    assert.deepEqual(Object.keys(p.DefinitionSubstitutions).sort(), used);
    for (const name of used) {
      const step = fnIds.get(refId(p.DefinitionSubstitutions[name]) ?? '');
      assert.ok(step, `${name} maps to a step function`);
      assert.equal(`${step.split('-').map((s) => s[0].toUpperCase() + s.slice(1)).join('')}FunctionArn`, name);
    }
  }
});

test('a placeholder with no step function refuses to synthesize', () => {
  const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'custody-asl-'));
  fs.writeFileSync(
    path.join(dir, 'forensic-triage.asl.json'),
    JSON.stringify({ StartAt: 'X', States: { X: { Type: 'Task', Resource: '${NoSuchStepFunctionArn}', End: true } } }),
  );
  const { App } = require('aws-cdk-lib');
  const { ForensicStack } = require('../lib/forensic-stack');
  const { config, testAsset } = require('./helpers');
  const { loadStepActions } = require('../lib/steps');
  assert.throws(
    () =>
      new ForensicStack(new App({ context: { '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true } }), 'F', {
        env: { account: '444455556666', region: 'eu-west-1' },
        config: config(),
        steps: loadStepActions(),
        lambdaAsset: testAsset(),
        stateMachinesDir: dir,
      }),
    /uses \$\{NoSuchStepFunctionArn\} but no step function is named so/,
  );
});

test('asl-validator accepts every state machine', () => {
  const bin = path.join(CDK_DIR, 'node_modules', '.bin', 'asl-validator');
  for (const file of files) {
    const r = spawnSync(bin, ['--json-path', path.join(STATE_MACHINES_DIR, file)], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${file}: ${r.stdout}${r.stderr}`);
  }
  // And it does reject a broken definition (the check is not vacuous).
  const broken = path.join(fs.mkdtempSync(path.join(require('os').tmpdir(), 'custody-asl-')), 'broken.asl.json');
  fs.writeFileSync(broken, JSON.stringify({ StartAt: 'Missing', States: { A: { Type: 'Pass', End: true } } }));
  const r = spawnSync(bin, ['--json-path', broken], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
});
