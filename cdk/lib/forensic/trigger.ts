/**
 * How cases start from Security Hub: a custom event bus that accepts `PutEvents` only from the
 * Security Hub account, and a rule on it that starts forensic-triage for exactly the two custom
 * actions (nothing else on the bus can start a case).
 */
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { CustodyConfig } from '../config';

/** The detail-type of a Security Hub custom action event. */
export const CUSTOM_ACTION_DETAIL_TYPE = 'Security Hub Findings - Custom Action';

/** The ARN of a Security Hub custom action. */
export function actionArn(region: string, account: string, id: string): string {
  return `arn:aws:securityhub:${region}:${account}:action/custom/${id}`;
}

/** The forensic bus's name (the Security Hub stack forwards to it). */
export function busName(prefix: string): string {
  return `${prefix}-forensic`;
}

/** Properties of [`TriggerBus`]. */
export interface TriggerBusProps {
  /** Configuration. */
  readonly config: CustodyConfig;
  /** The state machine custom actions start. */
  readonly triage: sfn.IStateMachine;
}

/** The forensic event bus and its rule. */
export class TriggerBus extends Construct {
  /** The bus. */
  readonly bus: events.EventBus;
  /** The rule starting triage. */
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: TriggerBusProps) {
    super(scope, id);
    const { config } = props;
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: busName(config.namePrefix) });
    this.bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'SecurityHubAccountPutEvents',
        principals: [new iam.AccountPrincipal(config.securityHubAccount)],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
      }),
    );
    this.rule = new events.Rule(this, 'CustomActions', {
      eventBus: this.bus,
      description: 'custody: Security Hub custom actions start forensic-triage',
      eventPattern: {
        source: ['aws.securityhub'],
        detailType: [CUSTOM_ACTION_DETAIL_TYPE],
        resources: [
          actionArn(config.securityHubRegion, config.securityHubAccount, config.triageActionId),
          actionArn(config.securityHubRegion, config.securityHubAccount, config.isolationActionId),
        ],
      },
      targets: [new targets.SfnStateMachine(props.triage)],
    });
  }
}
