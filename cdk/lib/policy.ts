/**
 * Turns a list of IAM actions into scoped policy statements.
 *
 * Each action goes to the first rule that claims it; an action no rule claims gets `*`, the
 * only scope some EC2/SSM read APIs support. The action set is never changed here: what is
 * granted is exactly the list handed in (tests compare the two), only resources and conditions
 * are added.
 */
import * as iam from 'aws-cdk-lib/aws-iam';

/** One scoping rule. */
export interface ScopeRule {
  /** Statement id (letters and digits). */
  readonly sid: string;
  /** Which actions this rule scopes. */
  readonly matches: (action: string) => boolean;
  /** Resources the actions are limited to. */
  readonly resources: string[];
  /** Conditions added to the statement. */
  readonly conditions?: Record<string, Record<string, unknown>>;
}

/** Matches exactly these actions. */
export function only(...actions: string[]): (action: string) => boolean {
  const set = new Set(actions);
  return (a) => set.has(a);
}

/** Matches every action of a service (`dynamodb`). */
export function service(name: string): (action: string) => boolean {
  return (a) => a.startsWith(`${name}:`);
}

/** The statements granting `actions`, scoped by the first matching rule of `rules`. */
export function scopedStatements(sidPrefix: string, actions: readonly string[], rules: readonly ScopeRule[]): iam.PolicyStatement[] {
  const claimed = new Map<ScopeRule, string[]>();
  const rest: string[] = [];
  for (const action of [...actions].sort()) {
    const rule = rules.find((r) => r.matches(action));
    if (rule === undefined) rest.push(action);
    else claimed.set(rule, [...(claimed.get(rule) ?? []), action]);
  }
  const out: iam.PolicyStatement[] = [];
  for (const rule of rules) {
    const granted = claimed.get(rule);
    if (granted === undefined) continue;
    out.push(
      new iam.PolicyStatement({
        sid: `${sidPrefix}${rule.sid}`,
        actions: granted,
        resources: rule.resources,
        conditions: rule.conditions,
      }),
    );
  }
  if (rest.length > 0) {
    out.push(new iam.PolicyStatement({ sid: `${sidPrefix}Unscoped`, actions: rest, resources: ['*'] }));
  }
  return out;
}
