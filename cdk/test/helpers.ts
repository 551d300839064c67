/**
 * Builds the stacks for tests. The functions' code is a temp file standing in for the
 * custody-lambda bootstrap zip (that crate is built separately): the tests assert templates,
 * never run the code, and the app itself refuses to synth without the real asset.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { SpawnSyncReturns, spawnSync } from 'child_process';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CustodyConfig, readConfig } from '../lib/config';
import { ForensicStack } from '../lib/forensic-stack';
import { ResponderStack } from '../lib/responder-stack';
import { SecurityHubStack } from '../lib/securityhub-stack';
import { StepActions, loadStepActions } from '../lib/steps';

/**
 * A test stand-in for bootstrap.zip: a real zip whose `bootstrap` is only an ELF header for
 * `arch` (enough for the app's architecture check; the template tests never run the code).
 */
export function testAsset(arch: 'arm64' | 'x86_64' = 'arm64'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custody-cdk-test-'));
  const file = path.join(dir, 'bootstrap.zip');
  const elf = Buffer.alloc(64);
  elf.writeUInt32BE(0x7f454c46, 0); // \x7fELF
  elf[4] = 2; // 64-bit
  elf[5] = 1; // little-endian
  elf[6] = 1; // ELF version
  elf.writeUInt16LE(2, 16); // ET_EXEC
  elf.writeUInt16LE(arch === 'arm64' ? 0xb7 : 0x3e, 18);
  fs.writeFileSync(file, storedZip('bootstrap', elf));
  return file;
}

/** A zip with one stored (uncompressed) entry. */
export function storedZip(name: string, data: Buffer): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const crc = zlib.crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  central.writeUInt32LE((0o100755 * 0x10000) >>> 0, 38); // unix mode: an executable file
  const centralAt = local.length + nameBytes.length + data.length;
  const centralSize = central.length + nameBytes.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(centralAt, 16);
  return Buffer.concat([local, nameBytes, data, central, nameBytes, end]);
}

/** The context used by most tests. */
export const CONTEXT: Record<string, unknown> = {
  forensicAccount: '444455556666',
  forensicRegion: 'eu-west-1',
  securityHubAccount: '777788889999',
  applicationAccounts: ['111122223333', '222233334444'],
  responderExternalId: 'custody-ext-1234',
  forensicAmiId: 'ami-0f1e2d3c4b5a69788',
  evidenceRetentionDays: 90,
  notificationEmails: 'ir@example.com,oncall@example.com',
};

export function config(extra: Record<string, unknown> = {}): CustodyConfig {
  const ctx: Record<string, unknown> = { ...CONTEXT, ...extra };
  return readConfig((k) => ctx[k]);
}

export interface Built {
  config: CustodyConfig;
  steps: Map<string, StepActions>;
  forensic: ForensicStack;
  securityHub: SecurityHubStack;
  responder: ResponderStack;
  forensicT: Template;
  securityHubT: Template;
  responderT: Template;
}

let cached: Built | undefined;

/** The three stacks with the default test context (built once per test file). */
export function built(): Built {
  if (cached !== undefined) return cached;
  const cfg = config();
  const steps = loadStepActions();
  // The same feature flag cdk.json sets: access logs delivered through a bucket policy, not ACLs.
  const app = new App({ context: { '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true } });
  const forensic = new ForensicStack(app, 'Forensic', {
    env: { account: cfg.forensicAccount, region: cfg.forensicRegion },
    config: cfg,
    steps,
    lambdaAsset: testAsset(),
  });
  const securityHub = new SecurityHubStack(app, 'SecurityHub', {
    env: { account: cfg.securityHubAccount, region: cfg.securityHubRegion },
    config: cfg,
  });
  const responder = new ResponderStack(app, 'Responder', { config: cfg, steps });
  cached = {
    config: cfg,
    steps,
    forensic,
    securityHub,
    responder,
    forensicT: Template.fromStack(forensic),
    securityHubT: Template.fromStack(securityHub),
    responderT: Template.fromStack(responder),
  };
  return cached;
}

/** Actions of a statement as a list. */
export function actionsOf(statement: { Action: string | string[] }): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** The logical id of the resource a `Ref`/`GetAtt` points at. */
export function refId(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.Ref === 'string') return o.Ref;
  const g = o['Fn::GetAtt'];
  if (Array.isArray(g)) return String(g[0]);
  return undefined;
}

/** The app's entry point, compiled. */
const APP = path.join(__dirname, '..', 'bin', 'app.js');

/**
 * Runs the compiled app (`bin/app.js`) as `cdk synth` would, with [`CONTEXT`] overridden by
 * `context`, into a fresh output directory; the process result and that directory.
 */
export function synthApp(context: Record<string, unknown>): SpawnSyncReturns<string> & { out: string } {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'custody-synth-'));
  const r = spawnSync(process.execPath, [APP], {
    encoding: 'utf8',
    cwd: path.join(__dirname, '..', '..'),
    env: {
      ...process.env,
      CDK_OUTDIR: out,
      CDK_CONTEXT_JSON: JSON.stringify({ ...CONTEXT, '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true, ...context }),
    },
  });
  return { ...r, out };
}
