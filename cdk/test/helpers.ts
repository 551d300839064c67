/**
 * Builds the stacks for tests. The functions' code is a temp file standing in for the
 * custody-lambda bootstrap zip (that crate is built separately): the tests assert templates,
 * never run the code, and the app itself refuses to synth without the real asset.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CustodyConfig, readConfig } from '../lib/config';
import { ForensicStack } from '../lib/forensic-stack';
import { ResponderStack } from '../lib/responder-stack';
import { SecurityHubStack } from '../lib/securityhub-stack';
import { StepActions, loadStepActions } from '../lib/steps';

/** A test stand-in for bootstrap.zip. */
export function testAsset(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custody-cdk-test-'));
  const file = path.join(dir, 'bootstrap.zip');
  fs.writeFileSync(file, 'test asset: not a Lambda bootstrap');
  return file;
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
