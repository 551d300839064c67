/**
 * The state machines from `state-machines/*.asl.json`, inline (so the template shows, and tests
 * can assert, the exact ASL), with every `${XFunctionArn}` placeholder mapped to its step's
 * function. A placeholder with no function refuses to synthesize: Step Functions would otherwise
 * accept the literal text and fail at 3 a.m. on the first case that reaches that state.
 */
import * as fs from 'fs';
import * as path from 'path';
import { RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { functionPlaceholder } from '../steps';

/** Where the definitions are. */
export const STATE_MACHINES_DIR = path.join(__dirname, '..', '..', '..', '..', 'state-machines');

/** The placeholders (`${Name}`) a definition uses. */
export function placeholders(asl: string): string[] {
  return [...new Set([...asl.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]))].sort();
}

/** Properties of [`StateMachines`]. */
export interface StateMachinesProps {
  /** Step name → function. */
  readonly functions: ReadonlyMap<string, lambda.IFunction>;
  /** Key of the log group. */
  readonly logKey: kms.IKey;
  /** Prefix of the state machine names. */
  readonly namePrefix: string;
  /** Directory holding the definitions (tests may point elsewhere). */
  readonly directory?: string;
}

/** Every state machine of `state-machines/`. */
export class StateMachines extends Construct {
  /** File base name (`forensic-triage`) → state machine. */
  readonly machines = new Map<string, sfn.StateMachine>();

  constructor(scope: Construct, id: string, props: StateMachinesProps) {
    super(scope, id);
    const dir = props.directory ?? STATE_MACHINES_DIR;
    const byPlaceholder = new Map<string, lambda.IFunction>();
    for (const [step, fn] of props.functions) byPlaceholder.set(functionPlaceholder(step), fn);

    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${props.namePrefix}`,
      retention: logs.RetentionDays.TEN_YEARS,
      encryptionKey: props.logKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.asl.json')).sort();
    if (files.length === 0) throw new Error(`no state machine definitions (*.asl.json) in ${dir}`);
    for (const file of files) {
      const base = file.replace(/\.asl\.json$/, '');
      const asl = fs.readFileSync(path.join(dir, file), 'utf8');
      const substitutions: Record<string, string> = {};
      const used: lambda.IFunction[] = [];
      for (const name of placeholders(asl)) {
        const fn = byPlaceholder.get(name);
        if (fn === undefined) {
          throw new Error(
            `${file} uses \${${name}} but no step function is named so; known: ${[...byPlaceholder.keys()].join(', ')}`,
          );
        }
        substitutions[name] = fn.functionArn;
        used.push(fn);
      }
      const machine = new sfn.StateMachine(this, base, {
        stateMachineName: `${props.namePrefix}-${base}`,
        stateMachineType: sfn.StateMachineType.STANDARD,
        definitionBody: sfn.DefinitionBody.fromString(asl),
        definitionSubstitutions: substitutions,
        tracingEnabled: true,
        logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      });
      for (const fn of used) fn.grantInvoke(machine);
      this.machines.set(base, machine);
    }
  }
}
