/**
 * The environment variables custody's functions read, as the Rust code lists them.
 *
 * `generated/lambda-env.json` is custody-lambda's `ENV_CONTRACT`, committed and checked against
 * the code by crates/custody-lambda/tests/lambda/contract.rs. The app's tests assert that every
 * function sets only variables listed there, and all the required ones.
 */
import * as fs from 'fs';
import * as path from 'path';

/** One variable. */
export interface LambdaEnvVar {
  readonly name: string;
  readonly required: boolean;
  readonly meaning: string;
}

/** Where the generated file lives. */
export const LAMBDA_ENV_FILE = path.join(__dirname, '..', '..', 'generated', 'lambda-env.json');

/** Reads the generated file; throws naming the file and what is wrong with it. */
export function loadLambdaEnv(file: string = LAMBDA_ENV_FILE): LambdaEnvVar[] {
  let parsed: { variables?: unknown };
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { variables?: unknown };
  } catch (e) {
    throw new Error(`cannot read ${file} (regenerate it: CUSTODY_REGENERATE=1 cargo test -p custody-lambda --test lambda contract): ${String(e)}`);
  }
  if (!Array.isArray(parsed.variables) || parsed.variables.length === 0) {
    throw new Error(`${file} has no "variables" list`);
  }
  return parsed.variables.map((v: unknown) => {
    const o = v as Partial<LambdaEnvVar>;
    if (typeof o.name !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(o.name) || typeof o.required !== 'boolean') {
      throw new Error(`${file}: malformed variable ${JSON.stringify(v)}`);
    }
    return { name: o.name, required: o.required, meaning: String(o.meaning ?? '') };
  });
}
