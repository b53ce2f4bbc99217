import { createHash } from 'node:crypto';
import { CfnOutput, CustomResource, Duration, Names, Stack } from 'aws-cdk-lib';
import { alarmsPackage } from '../../lib/alarms/package';
import { standardCatalog } from '../../lib/catalog/standard';
import { systemPackagesDigest } from '../../lib/catalog/system-packages';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { isValidEntityName } from '../../lib/model/names';
import { acknowledgeNag, LAMBDA_FINDINGS, wildcardFinding } from '../nag';
import { grantTable } from './platform-access';
import { platformFunction } from './platform-function';

export interface BootstrapProps {
  /** The subjects table the guest key is installed in. */
  readonly subjectsTable: ITableV2;
  /** The entities table the system packages (`/whisk.system/alarms`) are installed in. */
  readonly entitiesTable: ITableV2;
  /** Where clients reach the API: goes into the `wsk property set` output. */
  readonly apiHost: string;
  /**
   * The namespace the generated key owns.
   * @default 'guest'
   */
  readonly namespace?: string;
  /**
   * Retention of the bootstrap function's logs.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/** A stable UUID for this deployment's guest subject (its uuid is an id, not a secret). */
function deploymentUuid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The first credentials of a deployment: a guest key generated into Secrets Manager (never in the
 * template) and installed, hashed, in the subjects table by a custom resource at deploy time.
 * Outputs the API URL, the secret, and the `wsk property set` line that reads the key.
 */
export class Bootstrap extends Construct {
  public readonly guestSecret: Secret;
  public readonly handler: NodejsFunction;

  constructor(scope: Construct, id: string, props: BootstrapProps) {
    super(scope, id);
    const namespace = props.namespace ?? 'guest';
    if (!isValidEntityName(namespace)) throw new Error(`Bootstrap: '${namespace}' is not a valid namespace name.`);

    this.guestSecret = new Secret(this, 'GuestKey', {
      description: `Skywhisk key of the '${namespace}' namespace (JSON: uuid, key)`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ uuid: deploymentUuid(Names.uniqueId(this)) }),
        generateStringKey: 'key',
        passwordLength: 64,
        excludePunctuation: true,
        includeSpace: false,
      },
    });
    this.handler = platformFunction(this, 'Handler', {
      entry: 'functions/bootstrap/handler.ts',
      timeout: Duration.seconds(30),
      logRetention: props.logRetention,
      environment: { SKYWHISK_SUBJECTS_TABLE: props.subjectsTable.tableName, SKYWHISK_ENTITIES_TABLE: props.entitiesTable.tableName },
      bundling: {
        // The alarms feed's action code is read from a file beside the code (lib/alarms/package.ts).
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) => [`cp "${inputDir}/lib/alarms/feed-action.js" "${outputDir}/feed-action.js"`],
        },
      },
    });
    this.guestSecret.grantRead(this.handler);
    grantTable(this.handler, props.subjectsTable, 'subjects', 'write');
    grantTable(this.handler, props.entitiesTable, 'entities', 'readWrite');
    const provider = new Provider(this, 'Provider', {
      onEventHandler: this.handler,
      logGroup: new LogGroup(this, 'ProviderLogs', { retention: props.logRetention ?? RetentionDays.ONE_MONTH }),
    });
    acknowledgeNag(this.guestSecret, {
      'AwsSolutions-SMG4': 'Rotating the guest key would lock out every client using it; operators issue new keys with `skywhisk admin user create` and a redeploy reinstalls an updated secret.',
    });
    acknowledgeNag(this.handler, {
      ...LAMBDA_FINDINGS,
      [wildcardFinding(props.subjectsTable, '/index/*')]: "The table grant includes the subjects table's own indexes; nothing else.",
      [wildcardFinding(props.entitiesTable, '/index/*')]: "The table grant includes the entities table's own indexes; nothing else.",
    });
    acknowledgeNag(provider, {
      ...LAMBDA_FINDINGS,
      [wildcardFinding(this.handler, ':*')]: 'The custom-resources framework may invoke any version of the bootstrap function.',
    });
    new CustomResource(this, 'GuestSubject', {
      serviceToken: provider.serviceToken,
      // The packages' digest: a deploy that changes one updates this resource, which reinstalls them.
      properties: { SecretArn: this.guestSecret.secretArn, Namespace: namespace, SystemPackages: systemPackagesDigest([alarmsPackage(), ...standardCatalog()]) },
    });

    const region = Stack.of(this).region;
    new CfnOutput(this, 'GuestSecretArn', { value: this.guestSecret.secretArn, description: 'Secrets Manager secret with the guest uuid and key' });
    new CfnOutput(this, 'WskPropertySet', {
      description: 'Points the skywhisk (or wsk) CLI at this deployment with the guest key',
      value: [
        `npx skywhisk property set --apihost ${props.apiHost} --auth "$(aws secretsmanager get-secret-value --region ${region}`,
        `--secret-id ${this.guestSecret.secretArn} --query SecretString --output text | node -pe 'const s = JSON.parse(require("fs").readFileSync(0, "utf8")); s.uuid + ":" + s.key')"`,
      ].join(' '),
    });
  }
}
