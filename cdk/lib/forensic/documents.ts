/**
 * The SSM Command documents from `ssm-documents/*.yaml`, created under their file names and, for
 * the ones run on suspect hosts, shared with the application accounts (the responder role sends
 * them there by ARN).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import * as cr from 'aws-cdk-lib/custom-resources';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import * as YAML from 'yaml';

/** Where the documents are. */
export const SSM_DOCUMENTS_DIR = path.join(__dirname, '..', '..', '..', '..', 'ssm-documents');

/** Documents run on the subject's hosts in application accounts: shared with them. */
export const TARGET_DOCUMENTS = ['custody-capture-memory', 'custody-map-pods', 'custody-collect-host'] as const;
/** Documents run on the forensic workstation: never shared. */
export const WORKSTATION_DOCUMENTS = ['custody-analyse-memory', 'custody-analyse-disk'] as const;

/** ModifyDocumentPermission takes at most this many account ids per call. */
const SHARE_BATCH = 20;

/** Properties of [`SsmDocuments`]. */
export interface SsmDocumentsProps {
  /** Accounts the target-side documents are shared with. */
  readonly shareWith: readonly string[];
  /** Directory holding the YAML files (tests may point elsewhere). */
  readonly directory?: string;
}

/** The custody SSM documents. */
export class SsmDocuments extends Construct {
  /** Document name → its resource. */
  readonly documents = new Map<string, ssm.CfnDocument>();

  constructor(scope: Construct, id: string, props: SsmDocumentsProps) {
    super(scope, id);
    const dir = props.directory ?? SSM_DOCUMENTS_DIR;
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
    for (const name of [...TARGET_DOCUMENTS, ...WORKSTATION_DOCUMENTS]) {
      if (!files.includes(`${name}.yaml`)) {
        throw new Error(`SSM document ${name}.yaml is missing from ${dir}: the steps send it by name`);
      }
    }
    for (const file of files) {
      const name = file.replace(/\.yaml$/, '');
      const content = YAML.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as unknown;
      const doc = new ssm.CfnDocument(this, name, {
        name,
        documentType: 'Command',
        documentFormat: 'JSON',
        content,
        // A named document cannot be replaced in place; new content becomes a new default version.
        updateMethod: 'NewVersion',
      });
      this.documents.set(name, doc);
    }
    const accounts = [...props.shareWith];
    for (const name of TARGET_DOCUMENTS) {
      for (let i = 0; i < accounts.length; i += SHARE_BATCH) {
        const batch = accounts.slice(i, i + SHARE_BATCH);
        const call = (add: boolean): cr.AwsSdkCall => ({
          service: 'SSM',
          action: 'modifyDocumentPermission',
          parameters: {
            Name: name,
            PermissionType: 'Share',
            ...(add ? { AccountIdsToAdd: batch } : { AccountIdsToRemove: batch }),
          },
          physicalResourceId: cr.PhysicalResourceId.of(`${name}-share-${i / SHARE_BATCH}`),
        });
        const share = new cr.AwsCustomResource(this, `Share-${name}-${i / SHARE_BATCH}`, {
          onCreate: call(true),
          onUpdate: call(true),
          onDelete: call(false),
          policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [documentArn(this, name)] }),
          installLatestAwsSdk: false,
        });
        const doc = this.documents.get(name);
        if (doc !== undefined) share.node.addDependency(doc);
      }
    }
  }
}

/** The ARN of a custody document in this stack's account and region. */
export function documentArn(scope: Construct, name: string): string {
  const stack = Stack.of(scope);
  return `arn:aws:ssm:${stack.region}:${stack.account}:document/${name}`;
}
