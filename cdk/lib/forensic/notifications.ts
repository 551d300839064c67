/**
 * The responders' topic (KMS-encrypted with a customer key) and its e-mail subscriptions, plus
 * the key that also encrypts the state machines' and functions' log groups.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Properties of [`Notifications`]. */
export interface NotificationsProps {
  /** Topic name. */
  readonly topicName: string;
  /** Subscribed addresses. */
  readonly emails: readonly string[];
}

/** The notifications topic and the operations key. */
export class Notifications extends Construct {
  /** Encrypts the topic and the log groups. */
  readonly opsKey: kms.Key;
  /** The topic. */
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.opsKey = new kms.Key(this, 'OpsKey', {
      description: 'custody: notifications topic and log groups',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.opsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsEncryptCustodyLogGroups',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:${stack.region}:${stack.account}:log-group:*` },
        },
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      topicName: props.topicName,
      displayName: 'custody incident response',
      masterKey: this.opsKey,
      enforceSSL: true,
    });
    for (const email of props.emails) {
      this.topic.addSubscription(new subs.EmailSubscription(email));
    }
  }
}
