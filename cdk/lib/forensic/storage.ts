/**
 * Where evidence lives: the evidence bucket (Object Lock COMPLIANCE, SSE-KMS with a customer key,
 * TLS only), the artifacts bucket (LiME modules, AVML), the bucket receiving their access logs,
 * and the customer keys for evidence objects and EBS snapshot copies.
 *
 * Everything here is RETAINed: deleting the stack must never delete evidence (and Object Lock
 * would refuse anyway).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Properties of [`EvidenceStorage`]. */
export interface EvidenceStorageProps {
  /** Object Lock default retention, in days. */
  readonly retentionDays: number;
  /** Application accounts whose responder role may use the snapshot key (re-encrypting copies). */
  readonly applicationAccounts: readonly string[];
  /** The responder role name in those accounts. */
  readonly responderRoleName: string;
}

/** The buckets and keys holding evidence. */
export class EvidenceStorage extends Construct {
  /** Encrypts evidence and artifacts objects. */
  readonly evidenceKey: kms.Key;
  /** Encrypts EBS snapshot copies (target-account copies and forensic-account copies). */
  readonly snapshotKey: kms.Key;
  /** Evidence: memory images, pod maps, analysis output, reports. */
  readonly evidenceBucket: s3.Bucket;
  /** Tools fetched by hosts through presigned URLs: LiME modules, AVML. */
  readonly artifactsBucket: s3.Bucket;
  /** Server access logs of both buckets. */
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: EvidenceStorageProps) {
    super(scope, id);
    this.evidenceKey = new kms.Key(this, 'EvidenceKey', {
      description: 'custody: evidence and artifacts objects',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.snapshotKey = new kms.Key(this, 'SnapshotKey', {
      description: 'custody: EBS snapshot copies of evidence volumes',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    if (props.applicationAccounts.length > 0) {
      // The responder role copies the subject's snapshots re-encrypted with this key and shares
      // them; only that role (not the whole application account) may use it, and only via EC2.
      const responders = props.applicationAccounts.map((a) => `arn:aws:iam::${a}:role/${props.responderRoleName}`);
      const principals = props.applicationAccounts.map((a) => new iam.AccountPrincipal(a));
      this.snapshotKey.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'ResponderRolesUseForSnapshotCopies',
          principals,
          actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
          resources: ['*'],
          conditions: { ArnEquals: { 'aws:PrincipalArn': responders } },
        }),
      );
      this.snapshotKey.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'ResponderRolesGrantToEbs',
          principals,
          actions: ['kms:CreateGrant'],
          resources: ['*'],
          conditions: {
            ArnEquals: { 'aws:PrincipalArn': responders },
            Bool: { 'kms:GrantIsForAWSResource': 'true' },
          },
        }),
      );
    }

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      // S3 server access logs can only be delivered to an SSE-S3 bucket.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.evidenceBucket = new s3.Bucket(this, 'Evidence', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.evidenceKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(props.retentionDays)),
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'evidence/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    denyOtherEncryption(this.evidenceBucket, this.evidenceKey);

    this.artifactsBucket = new s3.Bucket(this, 'Artifacts', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.evidenceKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'artifacts/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    denyOtherEncryption(this.artifactsBucket, this.evidenceKey);
  }
}

/**
 * Denies puts that ask for any encryption but SSE-KMS with the bucket's key.
 *
 * A put without an encryption header gets the bucket default (SSE-KMS, this key), so it is not
 * unencrypted; denying header-less puts would break the presigned part uploads hosts make, which
 * carry no headers of their own. What is denied is opting out: SSE-S3, DSSE, or another key.
 */
function denyOtherEncryption(bucket: s3.Bucket, key: kms.IKey): void {
  bucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyPutWithoutSseKms',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects('*')],
      conditions: {
        Null: { 's3:x-amz-server-side-encryption': 'false' },
        StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' },
      },
    }),
  );
  bucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyPutWithAnotherKey',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects('*')],
      conditions: {
        Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' },
        StringNotEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': key.keyArn },
      },
    }),
  );
}
