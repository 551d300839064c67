/**
 * The app's configuration, read from CDK context (`-c key=value` or cdk.json) and validated
 * before anything is synthesized: a wrong account id or a missing external id must stop the
 * deploy at 3 a.m., not surface as a half-working responder role. README.md documents each key.
 */

/** Everything the stacks need to know about the deployment. */
export interface CustodyConfig {
  /** Forensic account: functions, state machines, evidence. */
  readonly forensicAccount: string;
  /** Forensic region. */
  readonly forensicRegion: string;
  /** Account of the Security Hub administrator whose custom actions start cases. */
  readonly securityHubAccount: string;
  /** Region of that Security Hub (must be the forensic region: the custom-action ARNs name it). */
  readonly securityHubRegion: string;
  /** Application accounts custody may act in (never a wildcard). */
  readonly applicationAccounts: readonly string[];
  /** Name of the responder role in every application account. */
  readonly responderRoleName: string;
  /** External id the responder role's trust policy requires. */
  readonly responderExternalId: string;
  /** Analysis AMI for the workstation; without it investigation fails with a named error. */
  readonly forensicAmiId?: string;
  /** Workstation instance type. */
  readonly workstationInstanceType: string;
  /** Existing VPC for the workstation (with `workstationSubnetId`); absent: a small VPC is created. */
  readonly workstationVpcId?: string;
  /** Existing subnet for the workstation. */
  readonly workstationSubnetId?: string;
  /** Object Lock default retention on evidence, in days. */
  readonly evidenceRetentionDays: number;
  /** E-mail addresses subscribed to the notifications topic. */
  readonly notificationEmails: readonly string[];
  /** Whether isolation also swaps the subnet's NACL (hits every instance in the subnet). */
  readonly isolateSubnetNacl: boolean;
  /** Whether isolation revokes the sessions of the instance's roles. */
  readonly revokeRoleSessions: boolean;
  /** Custom action id meaning "acquire and investigate". */
  readonly triageActionId: string;
  /** Custom action id meaning "acquire, investigate and isolate". */
  readonly isolationActionId: string;
  /** Prefix of every fixed resource name (roles, documents, topic). */
  readonly namePrefix: string;
  /** CPU architecture of the functions; the bootstrap asset must be built for it. */
  readonly lambdaArchitecture: LambdaArchitecture;
}

/** The architectures `scripts/build-lambda --arch` builds for. */
export type LambdaArchitecture = 'arm64' | 'x86_64';

/** A context value that is missing or malformed; the message names the key. */
export class ConfigError extends Error {
  constructor(readonly key: string, reason: string) {
    super(`context ${key}: ${reason}`);
    this.name = 'ConfigError';
  }
}

/** Reads one context key (the CDK's `node.tryGetContext`). */
export type ContextLookup = (key: string) => unknown;

const ACCOUNT = /^[0-9]{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-[0-9]$/;
const ROLE_NAME = /^[A-Za-z0-9+=,.@_-]{1,64}$/;
const EXTERNAL_ID = /^[A-Za-z0-9+=,.@:/_-]{2,1224}$/;
const AMI = /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/;
const VPC = /^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/;
const SUBNET = /^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const ACTION_ID = /^[A-Za-z0-9]{1,20}$/;
const PREFIX = /^[a-z][a-z0-9-]{0,19}$/;

function text(get: ContextLookup, key: string): string | undefined {
  const v = get(key);
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new ConfigError(key, `is ${JSON.stringify(v)}, not a string`);
  return v.trim();
}

function required(get: ContextLookup, key: string, pattern: RegExp, what: string): string {
  const v = text(get, key);
  if (v === undefined) throw new ConfigError(key, `is not set (${what})`);
  return matching(key, v, pattern, what);
}

function optional(get: ContextLookup, key: string, pattern: RegExp, what: string): string | undefined {
  const v = text(get, key);
  return v === undefined ? undefined : matching(key, v, pattern, what);
}

function matching(key: string, v: string, pattern: RegExp, what: string): string {
  if (!pattern.test(v)) throw new ConfigError(key, `is ${JSON.stringify(v)}, not ${what}`);
  return v;
}

/** A list given as a JSON array (cdk.json) or a comma-separated string (`-c key=a,b`). */
function list(get: ContextLookup, key: string, pattern: RegExp, what: string): string[] {
  const v = get(key);
  if (v === undefined || v === null || v === '') return [];
  let items: unknown[];
  if (Array.isArray(v)) items = v;
  else if (typeof v === 'string') {
    const s = v.trim();
    items = s.startsWith('[') ? parseJsonArray(key, s) : s.split(',').map((x) => x.trim()).filter((x) => x !== '');
  } else throw new ConfigError(key, `is ${JSON.stringify(v)}, not a list`);
  const out = items.map((item) => {
    if (typeof item !== 'string') throw new ConfigError(key, `has ${JSON.stringify(item)}, not a string`);
    return matching(key, item.trim(), pattern, what);
  });
  return [...new Set(out)];
}

function parseJsonArray(key: string, s: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(s);
  } catch {
    throw new ConfigError(key, `is ${JSON.stringify(s)}, not a JSON array`);
  }
  if (!Array.isArray(parsed)) throw new ConfigError(key, `is ${JSON.stringify(s)}, not a JSON array`);
  return parsed;
}

function flag(get: ContextLookup, key: string, fallback: boolean): boolean {
  const v = get(key);
  if (v === undefined || v === null || v === '') return fallback;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new ConfigError(key, `is ${JSON.stringify(v)}, not true or false`);
}

function integer(get: ContextLookup, key: string, fallback: number, min: number, max: number): number {
  const v = get(key);
  if (v === undefined || v === null || v === '') return fallback;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(key, `is ${JSON.stringify(v)}, not a whole number in ${min}..${max}`);
  }
  return n;
}

/** Reads and validates the configuration. Throws a [`ConfigError`] naming the first bad key. */
export function readConfig(get: ContextLookup): CustodyConfig {
  const forensicAccount = required(get, 'forensicAccount', ACCOUNT, 'a 12-digit account id');
  const forensicRegion = required(get, 'forensicRegion', REGION, 'a region such as eu-west-1');
  const applicationAccounts = list(get, 'applicationAccounts', ACCOUNT, 'a 12-digit account id (no wildcard: name each account)');
  const responderExternalId = required(
    get,
    'responderExternalId',
    EXTERNAL_ID,
    'an external id of 2-1224 characters [A-Za-z0-9+=,.@:/_-] (the responder role requires it)',
  );
  const workstationVpcId = optional(get, 'workstationVpcId', VPC, 'a VPC id');
  const workstationSubnetId = optional(get, 'workstationSubnetId', SUBNET, 'a subnet id');
  if ((workstationVpcId === undefined) !== (workstationSubnetId === undefined)) {
    throw new ConfigError(
      workstationVpcId === undefined ? 'workstationVpcId' : 'workstationSubnetId',
      'give workstationVpcId and workstationSubnetId together, or neither (a small VPC is created)',
    );
  }
  const securityHubRegion = optional(get, 'securityHubRegion', REGION, 'a region') ?? forensicRegion;
  if (securityHubRegion !== forensicRegion) {
    throw new ConfigError(
      'securityHubRegion',
      `is ${securityHubRegion} but the forensic region is ${forensicRegion}: EventBridge forwards to a bus in the same region only`,
    );
  }
  const triageActionId = optional(get, 'triageActionId', ACTION_ID, 'an action id of 1-20 letters and digits') ?? 'ForensicTriage';
  const isolationActionId =
    optional(get, 'isolationActionId', ACTION_ID, 'an action id of 1-20 letters and digits') ?? 'ForensicIsolation';
  if (triageActionId === isolationActionId) {
    throw new ConfigError('isolationActionId', `equals triageActionId (${triageActionId}); the two actions must differ`);
  }
  return {
    forensicAccount,
    forensicRegion,
    securityHubAccount: optional(get, 'securityHubAccount', ACCOUNT, 'a 12-digit account id') ?? forensicAccount,
    securityHubRegion,
    applicationAccounts,
    responderRoleName: optional(get, 'responderRoleName', ROLE_NAME, 'an IAM role name') ?? 'custody-responder',
    responderExternalId,
    forensicAmiId: optional(get, 'forensicAmiId', AMI, 'an AMI id'),
    workstationInstanceType:
      optional(get, 'workstationInstanceType', /^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'an instance type such as r5.xlarge') ?? 'r5.xlarge',
    workstationVpcId,
    workstationSubnetId,
    evidenceRetentionDays: integer(get, 'evidenceRetentionDays', 365, 1, 36500),
    notificationEmails: list(get, 'notificationEmails', EMAIL, 'an e-mail address'),
    isolateSubnetNacl: flag(get, 'isolateSubnetNacl', false),
    revokeRoleSessions: flag(get, 'revokeRoleSessions', true),
    triageActionId,
    isolationActionId,
    namePrefix: optional(get, 'namePrefix', PREFIX, 'a lower-case prefix of 1-20 characters') ?? 'custody',
    lambdaArchitecture: (optional(get, 'lambdaArchitecture', /^(arm64|x86_64)$/, 'arm64 or x86_64') ?? 'arm64') as LambdaArchitecture,
  };
}
