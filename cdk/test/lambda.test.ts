import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AssetError, assetArchitecture } from '../lib/lambda-asset';
import { loadLambdaEnv } from '../lib/lambda-env';
import { built, storedZip, synthApp as synth, testAsset } from './helpers';

function tempFile(name: string, data: Buffer): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'custody-asset-')), name);
  fs.writeFileSync(file, data);
  return file;
}

test('the asset architecture is read from the bootstrap ELF inside the zip', () => {
  assert.equal(assetArchitecture(testAsset('arm64')), 'arm64');
  assert.equal(assetArchitecture(testAsset('x86_64')), 'x86_64');
});

test('assets that are not a bootstrap zip are refused with the reason', () => {
  const refused = (file: string, reason: RegExp) =>
    assert.throws(() => assetArchitecture(file), (e: unknown) => e instanceof AssetError && reason.test(e.message));
  refused(tempFile('bootstrap.zip', Buffer.from('test asset: not a Lambda bootstrap')), /not a zip file/);
  refused(tempFile('other.zip', storedZip('handler', Buffer.alloc(64))), /no bootstrap entry/);
  refused(tempFile('script.zip', storedZip('bootstrap', Buffer.from('#!/bin/sh\nexec ./custody\n'.padEnd(64)))), /not an ELF/);
  const riscv = Buffer.from(fs.readFileSync(testAsset('arm64')));
  const elfAt = riscv.indexOf(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  riscv.writeUInt16LE(0xf3, elfAt + 18);
  refused(tempFile('riscv.zip', riscv), /ELF machine 0xf3/);
});

test('the app refuses an asset built for another architecture, and follows lambdaArchitecture', () => {
  const x86 = testAsset('x86_64');
  const refused = synth({ lambdaAsset: x86 });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /context lambdaAsset: .* is built for x86_64 but the functions are arm64 \(context lambdaArchitecture\): rebuild with scripts\/build-lambda --arch arm64/);

  const ok = synth({ lambdaAsset: x86, lambdaArchitecture: 'x86_64' });
  assert.equal(ok.status, 0, ok.stderr);
  const template = JSON.parse(fs.readFileSync(path.join(ok.out, 'CustodyForensic.template.json'), 'utf8'));
  const fns = Object.values(template.Resources as Record<string, any>).filter((r) => r.Type === 'AWS::Lambda::Function');
  assert.ok(fns.length > 0);
  // x86_64 is CloudFormation's default, which the CDK leaves implicit.
  for (const fn of fns) assert.deepEqual(fn.Properties.Architectures ?? ['x86_64'], ['x86_64']);

  const bad = synth({ lambdaAsset: testAsset(), lambdaArchitecture: 'arm' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /context lambdaArchitecture: is "arm", not arm64 or x86_64/);
});

test('every function sets exactly variables custody-lambda reads, and all it requires', () => {
  const contract = loadLambdaEnv();
  const names = new Set(contract.map((v) => v.name));
  const required = contract.filter((v) => v.required).map((v) => v.name);
  const { forensicT, forensic, steps } = built();
  const resources = forensicT.toJSON().Resources as Record<string, any>;
  const seen = new Set<string>();
  for (const stepFn of forensic.lambdas.functions.values()) {
    const fn = resources[forensic.getLogicalId(stepFn.node.defaultChild as any)];
    const vars = fn.Properties.Environment.Variables as Record<string, unknown>;
    for (const key of Object.keys(vars)) assert.ok(names.has(key), `${key} is not read by custody-lambda (generated/lambda-env.json)`);
    for (const key of required) assert.ok(key in vars, `required ${key} is not set`);
    assert.deepEqual(fn.Properties.Architectures, ['arm64']);
    assert.equal(fn.Properties.Runtime, 'provided.al2023');
    assert.equal(fn.Properties.Handler, 'bootstrap');
    seen.add(String(vars.CUSTODY_STEP));
  }
  assert.deepEqual([...seen].sort(), [...steps.keys()].sort(), 'one function per step, told its step');
});
