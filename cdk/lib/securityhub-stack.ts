/**
 * The Security Hub (administrator) account: the two custom actions responders click, and the
 * rule forwarding exactly their events to the forensic account's bus.
 */
import { Stack, StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as securityhub from 'aws-cdk-lib/aws-securityhub';
import { Construct } from 'constructs';
import { CustodyConfig } from './config';
import { CUSTOM_ACTION_DETAIL_TYPE, busName } from './forensic/trigger';

/** Properties of [`SecurityHubStack`]. */
export interface SecurityHubStackProps extends StackProps {
  /** Configuration. */
  readonly config: CustodyConfig;
}

/** The Security Hub account stack. */
export class SecurityHubStack extends Stack {
  /** "Forensic Triage". */
  readonly triageAction: securityhub.CfnActionTarget;
  /** "Forensic Isolation". */
  readonly isolationAction: securityhub.CfnActionTarget;
  /** The forwarding rule. */
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: SecurityHubStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.triageAction = new securityhub.CfnActionTarget(this, 'ForensicTriage', {
      id: config.triageActionId,
      name: 'Forensic Triage',
      description: 'custody: acquire evidence and investigate',
    });
    this.isolationAction = new securityhub.CfnActionTarget(this, 'ForensicIsolation', {
      id: config.isolationActionId,
      name: 'Forensic Isolation',
      description: 'custody: acquire, investigate, isolate',
    });
    const forensicBusArn = `arn:aws:events:${config.forensicRegion}:${config.forensicAccount}:event-bus/${busName(config.namePrefix)}`;
    const role = new iam.Role(this, 'ForwardRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: 'custody: forward custom-action events to the forensic bus',
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'PutToForensicBus', actions: ['events:PutEvents'], resources: [forensicBusArn] }),
    );
    this.rule = new events.Rule(this, 'ForwardCustomActions', {
      description: 'custody: forward the Forensic Triage / Forensic Isolation custom actions',
      eventPattern: {
        source: ['aws.securityhub'],
        detailType: [CUSTOM_ACTION_DETAIL_TYPE],
        resources: [this.triageAction.attrActionTargetArn, this.isolationAction.attrActionTargetArn],
      },
      targets: [new targets.EventBus(events.EventBus.fromEventBusArn(this, 'ForensicBus', forensicBusArn), { role })],
    });
  }
}
