/**
 * The forensic account: step functions, state machines, case table, evidence and artifacts
 * buckets, notifications, the trigger bus, the SSM documents and the workstation.
 */
import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { CustodyConfig } from './config';
import { CaseTable } from './forensic/case-table';
import { SsmDocuments, TARGET_DOCUMENTS, documentArn } from './forensic/documents';
import { Notifications } from './forensic/notifications';
import { StateMachines } from './forensic/state-machines';
import { StepLambdas } from './forensic/step-lambdas';
import { EvidenceStorage } from './forensic/storage';
import { TriggerBus } from './forensic/trigger';
import { Workstation } from './forensic/workstation';
import { StepActions } from './steps';

/** Properties of [`ForensicStack`]. */
export interface ForensicStackProps extends StackProps {
  /** Configuration. */
  readonly config: CustodyConfig;
  /** Generated step → actions. */
  readonly steps: ReadonlyMap<string, StepActions>;
  /** The `custody-lambda` bootstrap zip (cargo lambda build --arm64 --output-format zip). */
  readonly lambdaAsset: string;
  /** Overrides for tests: the SSM documents and state machine directories. */
  readonly ssmDocumentsDir?: string;
  /** See `ssmDocumentsDir`. */
  readonly stateMachinesDir?: string;
}

/** The forensic account stack. */
export class ForensicStack extends Stack {
  /** Evidence buckets and keys. */
  readonly storage: EvidenceStorage;
  /** Case table. */
  readonly cases: CaseTable;
  /** Topic. */
  readonly notifications: Notifications;
  /** SSM documents. */
  readonly documents: SsmDocuments;
  /** Workstation network, role, profile. */
  readonly workstation: Workstation;
  /** Step functions. */
  readonly lambdas: StepLambdas;
  /** State machines. */
  readonly machines: StateMachines;
  /** Trigger bus. */
  readonly trigger: TriggerBus;

  constructor(scope: Construct, id: string, props: ForensicStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.storage = new EvidenceStorage(this, 'Storage', {
      retentionDays: config.evidenceRetentionDays,
      applicationAccounts: config.applicationAccounts,
      responderRoleName: config.responderRoleName,
    });
    this.cases = new CaseTable(this, 'Cases');
    this.notifications = new Notifications(this, 'Notifications', {
      topicName: `${config.namePrefix}-notifications`,
      emails: config.notificationEmails,
    });
    this.documents = new SsmDocuments(this, 'Documents', {
      shareWith: config.applicationAccounts.filter((a) => a !== config.forensicAccount),
      directory: props.ssmDocumentsDir,
    });
    this.workstation = new Workstation(this, 'Workstation', {
      existing:
        config.workstationVpcId !== undefined && config.workstationSubnetId !== undefined
          ? { vpcId: config.workstationVpcId, subnetId: config.workstationSubnetId }
          : undefined,
      evidenceBucket: this.storage.evidenceBucket,
      artifactsBucket: this.storage.artifactsBucket,
      evidenceKey: this.storage.evidenceKey,
      name: `${config.namePrefix}-workstation`,
    });
    const target = (name: (typeof TARGET_DOCUMENTS)[number]) => documentArn(this, name);
    const settings: Record<string, unknown> = {
      forensicAccount: config.forensicAccount,
      forensicRegion: config.forensicRegion,
      evidenceBucket: this.storage.evidenceBucket.bucketName,
      artifactsBucket: this.storage.artifactsBucket.bucketName,
      snapshotKmsKey: this.storage.snapshotKey.keyArn,
      quarantineLabel: 'custody.io/quarantine',
      isolateSubnetNacl: config.isolateSubnetNacl,
      revokeRoleSessions: config.revokeRoleSessions,
      uploadPartSizeBytes: 104857600,
      presignedUrlSeconds: 3600,
      documents: {
        // Sent in application accounts: by ARN, so the shared documents resolve there.
        captureMemory: target('custody-capture-memory'),
        mapPods: target('custody-map-pods'),
        collectHost: target('custody-collect-host'),
        analyseMemory: 'custody-analyse-memory',
        analyseDisk: 'custody-analyse-disk',
      },
      workstation: {
        image: config.forensicAmiId ?? null,
        instanceType: config.workstationInstanceType,
        subnet: this.workstation.subnetId,
        securityGroup: this.workstation.securityGroup.attrGroupId,
        instanceProfile: this.workstation.profile.instanceProfileName,
      },
      trigger: {
        triageActionId: config.triageActionId,
        isolationActionId: config.isolationActionId,
        securityhubAccount: config.securityHubAccount,
      },
    };
    this.lambdas = new StepLambdas(this, 'Steps', {
      config,
      steps: props.steps,
      code: lambda.Code.fromAsset(props.lambdaAsset),
      settings,
      table: this.cases.table,
      evidenceBucket: this.storage.evidenceBucket,
      artifactsBucket: this.storage.artifactsBucket,
      evidenceKey: this.storage.evidenceKey,
      snapshotKey: this.storage.snapshotKey,
      opsKey: this.notifications.opsKey,
      topic: this.notifications.topic,
      workstationRole: this.workstation.role,
    });
    this.machines = new StateMachines(this, 'StateMachines', {
      functions: this.lambdas.functions,
      logKey: this.notifications.opsKey,
      namePrefix: config.namePrefix,
      directory: props.stateMachinesDir,
    });
    const triage = this.machines.machines.get('forensic-triage');
    if (triage === undefined) throw new Error('state-machines/forensic-triage.asl.json is missing: the trigger starts it');
    this.trigger = new TriggerBus(this, 'Trigger', { config, triage });

    new CfnOutput(this, 'EventBusArn', { value: this.trigger.bus.eventBusArn });
    new CfnOutput(this, 'EvidenceBucketName', { value: this.storage.evidenceBucket.bucketName });
    new CfnOutput(this, 'CaseTableName', { value: this.cases.table.tableName });
    new CfnOutput(this, 'TriageStateMachineArn', { value: triage.stateMachineArn });
  }
}
