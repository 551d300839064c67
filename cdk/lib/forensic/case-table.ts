/**
 * The case table, shaped as crates/custody-aws/SCHEMA.md describes it: `pk`/`sk`, GSI1 (`gsi1`,
 * finding → cases) and GSI2 (`gsi2`, status → cases). Point-in-time recovery, deletion
 * protection and RETAIN: the case record is the chain of custody.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** The DynamoDB case table. */
export class CaseTable extends Construct {
  /** The table. */
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const s = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: s('pk'),
      sortKey: s('sk'),
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      globalSecondaryIndexes: [
        { indexName: 'gsi1', partitionKey: s('gsi1pk'), sortKey: s('gsi1sk'), projectionType: dynamodb.ProjectionType.ALL },
        { indexName: 'gsi2', partitionKey: s('gsi2pk'), sortKey: s('gsi2sk'), projectionType: dynamodb.ProjectionType.ALL },
      ],
    });
  }
}
