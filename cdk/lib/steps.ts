/**
 * The steps as the Rust code declares them: names, state-machine placeholders and IAM actions.
 *
 * `generated/step-actions.json` is the output of `custody iam-policy --all --json`, committed and
 * checked against the code by crates/custody-cli/tests/iam_policy.rs. Reading it here (instead of
 * writing policies by hand) is what keeps each function's policy equal to what its code calls.
 */
import * as fs from 'fs';
import * as path from 'path';

/** The actions of one step, split by the account they are exercised in. */
export interface StepActions {
  /** Every action the step's capabilities declare. */
  readonly all: readonly string[];
  /** Actions its function's own role uses in the forensic account. */
  readonly forensic: readonly string[];
  /** Actions the responder role uses in the case's application account. */
  readonly target: readonly string[];
}

/** Where the generated file lives. */
export const STEP_ACTIONS_FILE = path.join(__dirname, '..', '..', 'generated', 'step-actions.json');

interface Generated {
  steps: Record<string, string[]>;
  accounts: Record<string, { forensic: string[]; target: string[] }>;
}

/** Reads the generated file; throws naming the file and what is wrong with it. */
export function loadStepActions(file: string = STEP_ACTIONS_FILE): Map<string, StepActions> {
  let parsed: Generated;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Generated;
  } catch (e) {
    throw new Error(`cannot read ${file} (generate it with \`custody iam-policy --all --json\`): ${String(e)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.steps !== 'object' || typeof parsed.accounts !== 'object') {
    throw new Error(`${file} has no "steps" and "accounts" objects: regenerate it with \`custody iam-policy --all --json\``);
  }
  const out = new Map<string, StepActions>();
  for (const [name, all] of Object.entries(parsed.steps)) {
    const split = parsed.accounts[name];
    if (!/^[a-z]+(-[a-z]+)*$/.test(name) || !Array.isArray(all) || split === undefined) {
      throw new Error(`${file}: step ${JSON.stringify(name)} is malformed or has no account split`);
    }
    out.set(name, { all, forensic: split.forensic, target: split.target });
  }
  if (out.size === 0) throw new Error(`${file} lists no steps`);
  return out;
}

/** The state machines' placeholder for a step's function: `capture-memory` → `CaptureMemoryFunctionArn`. */
export function functionPlaceholder(step: string): string {
  return step
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('') + 'FunctionArn';
}

/** The construct id / PascalCase name of a step (`CaptureMemory`). */
export function pascal(step: string): string {
  return functionPlaceholder(step).replace(/FunctionArn$/, '');
}

/** Fixed name of a step's function role, so the responder role (another account) can trust it. */
export function stepRoleName(prefix: string, step: string): string {
  return `${prefix}-step-${step}`;
}
