/**
 * The real thing, when it has been built: `cdk synth` offline against the bootstrap zip that
 * scripts/build-lambda made (CUSTODY_LAMBDA_ASSET), and `custody validate` on every state machine
 * (CUSTODY_BIN). On a workstation without them these tests are skipped, saying so; under CI
 * (CI=true) a missing one FAILS: CI must prove the deployable asset synthesizes.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { assetArchitecture } from '../lib/lambda-asset';
import { STATE_MACHINES_DIR } from '../lib/forensic/state-machines';
import { CONTEXT } from './helpers';

const CDK_BIN = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'cdk');
const ROOT = path.join(__dirname, '..', '..', '..');

/** The path in `variable`, or undefined after skipping (or failing, under CI) the test. */
function required(t: { skip: (message: string) => void }, variable: string, what: string): string | undefined {
  const value = process.env[variable];
  if (value !== undefined && value !== '') {
    const resolved = path.resolve(ROOT, value);
    assert.ok(fs.existsSync(resolved), `${variable}=${value}: ${resolved} does not exist`);
    return resolved;
  }
  if (process.env.CI === 'true') {
    assert.fail(`${variable} is not set under CI: ${what}`);
  }
  t.skip(`${variable} is not set (${what})`);
  return undefined;
}

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

test('cdk synth works offline with the real custody-lambda bootstrap', (t) => {
  const asset = required(t, 'CUSTODY_LAMBDA_ASSET', 'the zip scripts/build-lambda printed');
  if (asset === undefined) return;
  const arch = assetArchitecture(asset);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'custody-cdk-out-'));
  const context = { ...CONTEXT, lambdaAsset: asset, lambdaArchitecture: arch };
  const args = ['synth', '--quiet', '--output', out, '--no-notices', '--no-version-reporting'];
  for (const [k, v] of Object.entries(context)) args.push('-c', `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`);
  const r = spawnSync(CDK_BIN, args, {
    encoding: 'utf8',
    cwd: path.join(__dirname, '..', '..'),
    // Offline: no account lookups, no version check, no telemetry.
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: 'true', AWS_EC2_METADATA_DISABLED: 'true' },
    timeout: 300_000,
  });
  assert.equal(r.status, 0, `cdk synth failed:\n${r.stderr}\n${r.stdout}`);

  const template = JSON.parse(fs.readFileSync(path.join(out, 'CustodyForensic.template.json'), 'utf8'));
  // The step functions (the CDK's own helper functions, e.g. for custom resources, run Node).
  const fns = Object.values(template.Resources as Record<string, any>).filter(
    (x) => x.Type === 'AWS::Lambda::Function' && x.Properties.Runtime === 'provided.al2023',
  );
  assert.ok(fns.length > 0, 'the forensic stack has the step functions');
  const want = sha256(asset);
  const keys = new Set(fns.map((f) => f.Properties.Code.S3Key));
  assert.equal(keys.size, 1, 'every step function runs the one bootstrap');
  const manifest = JSON.parse(fs.readFileSync(path.join(out, 'CustodyForensic.assets.json'), 'utf8'));
  const [key] = [...keys];
  const entry = Object.values(manifest.files as Record<string, any>).find((f) =>
    Object.values(f.destinations as Record<string, any>).some((d) => d.objectKey === key),
  );
  assert.ok(entry, `the asset manifest names ${key}`);
  assert.equal(entry.source.packaging, 'file', 'the zip is uploaded as built, not re-zipped');
  assert.equal(sha256(path.join(out, entry.source.path)), want, 'cdk.out holds the very zip build-lambda made');
  // x86_64 is CloudFormation's default, which the CDK leaves implicit.
  for (const fn of fns) assert.deepEqual(fn.Properties.Architectures ?? ['x86_64'], [arch]);
});

test('custody validate accepts every state machine', (t) => {
  const bin = required(t, 'CUSTODY_BIN', 'the custody binary, e.g. target/debug/custody');
  if (bin === undefined) return;
  const files = fs
    .readdirSync(STATE_MACHINES_DIR)
    .filter((f) => f.endsWith('.asl.json'))
    .map((f) => path.join(STATE_MACHINES_DIR, f));
  assert.ok(files.length > 0);
  const r = spawnSync(bin, ['validate', ...files], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `custody validate failed:\n${r.stdout}\n${r.stderr}`);
});
