/**
 * The example's stack: the `Courier` construct renders `src/topology.ts`, then the stack adds what
 * only the example needs, the way any team adds its own: the uploads bucket and the audit table,
 * the deploy settings as variables (or the webhook secret's ARN), SES and SMS rights, the uploads
 * prefixes, the audit trail's PutItem, the SMS cap and its alarm, and the example's outputs.
 */
import { fileURLToPath } from "node:url";
import type { TopologySpec } from "@courier-queue/courier";
import {
  type AlarmNotificationSettings,
  Courier,
  InvalidConstructPropsError,
} from "@courier-queue/courier/cdk";
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type { Construct } from "constructs";
import {
  DEPLOY_SETTINGS,
  type DeploySettings,
  type SettingName,
  type SettingSpec,
  senderAddress,
  settingSecretArn,
  settingsProblems,
} from "../../src/app/deployment/deploy-settings.ts";
import { ENV } from "../../src/app/deployment/example-env.ts";
import type { ExampleNeeds } from "../../src/app/deployment/example-needs.ts";
import {
  AUDIT_TABLE_OUTPUT,
  UPLOADS_BUCKET_OUTPUT,
  VERIFICATION_SECRET_OUTPUT,
} from "../../src/app/deployment/example-outputs.ts";
import { EXPORTS_PREFIX } from "../../src/app/exports/export-file.ts";
import { AUDIT_PARTITION_KEY, AUDIT_SORT_KEY } from "../../src/app/security-audit/audit-table.ts";
import { SMS_CAP_KEY_PREFIX, SMS_CAP_METRIC, validateSmsCap } from "../../src/app/signup/sms-cap.ts";
import { courierTopology, exampleNeeds } from "../../src/topology.ts";
import { SmsCapAlarm } from "../constructs/sms-cap-alarm.ts";
import { exampleNeedsOf, exampleNeedsProblems } from "./example-needs.ts";

/** Repository root: the topology's handler entries are relative to it. */
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface CourierStackProps extends StackProps {
  readonly settings: DeploySettings;
  /**
   * Who the alarm topic notifies (CDK context `alarmEmail`, `alarmHttpsEndpoint`, `alarmTopicArn`).
   * @default - the topic is made with no subscriptions
   */
  readonly alarmNotifications?: AlarmNotificationSettings;
  /** @default courierTopology (src/topology.ts) */
  readonly topology?: TopologySpec;
  /** What the example's consumers need beyond the construct's grants. @default exampleNeeds */
  readonly needs?: Readonly<Record<string, ExampleNeeds>>;
  /**
   * Days an account's export file is kept under exports/ (it is a copy of the account's personal
   * data, for its owner to download soon after asking). @default 7
   */
  readonly exportExpirationDays?: number;
}

export class CourierStack extends Stack {
  /** The rendered topology: topics, queues, functions, secrets, tables and buckets by name. */
  public readonly courier: Courier;
  /** Originals, renditions and exports. */
  public readonly uploadsBucket: s3.Bucket;
  /** The security audit trail: one item per event, by account and the FIFO topic's sequence number. */
  public readonly auditTable: dynamodb.Table;
  /** The example needs it granted, by consumer. */
  public readonly needs: Readonly<Record<string, ExampleNeeds>>;
  private readonly settings: DeploySettings;
  /** Secrets standing in for settings, imported once however many consumers read them. */
  private readonly settingSecrets = new Map<SettingName, secretsmanager.ISecret>();

  constructor(scope: Construct, id: string, props: CourierStackProps) {
    super(scope, id, {
      description:
        "courier's example: SNS topics, SQS queues and Lambda consumers rendered from src/topology.ts",
      ...props,
    });
    const topology = props.topology ?? courierTopology;
    const needs = props.needs ?? exampleNeeds;
    const problems = [
      ...settingsProblems(props.settings),
      ...exampleNeedsProblems(topology.consumers, needs),
    ];
    if (problems.length > 0) throw new InvalidConstructPropsError(this, "needs", problems.join("; "));
    const exportExpirationDays = props.exportExpirationDays ?? 7;
    if (!Number.isInteger(exportExpirationDays) || exportExpirationDays < 1)
      throw new InvalidConstructPropsError(
        this,
        "exportExpirationDays",
        `exportExpirationDays must be a whole number of days, at least 1 (got ${exportExpirationDays})`,
      );
    this.settings = props.settings;
    this.needs = needs;

    this.courier = new Courier(this, "Courier", {
      topology,
      projectRoot: REPO_ROOT,
      // In this repository the handlers import @courier-queue/courier's TypeScript sources (the
      // exports map's "courier-source" condition, as tsx and vitest do), never a dist/ that may be
      // stale or not built; a team's project bundles the installed package's dist/.
      consumerOverrides: Object.fromEntries(
        Object.keys(topology.consumers).map((name) => [
          name,
          { bundling: { esbuildArgs: { "--conditions": "courier-source" } } },
        ]),
      ),
      ...(props.alarmNotifications ? { alarmNotifications: props.alarmNotifications } : {}),
    });

    this.uploadsBucket = new s3.Bucket(this, "UploadsBucket", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: false,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { id: "abort-incomplete-multipart-uploads", abortIncompleteMultipartUploadAfter: Duration.days(1) },
        // Export files are copies of personal data: they go, the originals stay.
        { id: "expire-exports", prefix: EXPORTS_PREFIX, expiration: Duration.days(exportExpirationDays) },
      ],
      // Originals are user data: deleting the stack must not delete them.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.auditTable = new dynamodb.Table(this, "AuditTable", {
      partitionKey: { name: AUDIT_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: AUDIT_SORT_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // An audit trail is evidence: deleting the stack must not delete it.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    for (const [name, raw] of Object.entries(needs)) {
      const fn = this.courier.consumerFunction(name).function;
      this.grantExampleNeeds(name, raw, fn);
    }

    this.output(UPLOADS_BUCKET_OUTPUT, this.uploadsBucket.bucketName);
    this.output(AUDIT_TABLE_OUTPUT, this.auditTable.tableName);
    if (Object.hasOwn(this.courier.secrets, "verification")) {
      this.output(VERIFICATION_SECRET_OUTPUT, this.courier.secret("verification").secretArn);
    }
  }

  /** Grants one consumer what its example needs name, and puts their addresses in its environment. */
  private grantExampleNeeds(name: string, raw: ExampleNeeds, fn: lambda.Function): void {
    const needs = exampleNeedsOf(raw);
    for (const setting of needs.settings) {
      const spec: SettingSpec = DEPLOY_SETTINGS[setting];
      const secret = this.settingSecret(setting);
      // A secret standing in for the value keeps it (a bearer URL) out of the template.
      if (secret && spec.secretAlternative) {
        fn.addEnvironment(spec.secretAlternative.env, secret.secretArn);
        secret.grantRead(fn);
      } else {
        fn.addEnvironment(spec.env, this.settings[setting]);
      }
    }
    if (needs.sendsEmail) {
      // SES has no grant method; sending is limited to the configured sender address.
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ["ses:SendEmail", "ses:SendRawEmail"],
          resources: [this.formatArn({ service: "ses", resource: "identity", resourceName: "*" })],
          conditions: { StringEquals: { "ses:FromAddress": senderAddress(this.settings.mailFrom) } },
        }),
      );
    }
    if (needs.sendsSms) {
      // SMS publishes to a phone number, which IAM cannot name; allow Publish but never to a topic.
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ["sns:Publish"], resources: ["*"] }));
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          effect: iam.Effect.DENY,
          actions: ["sns:Publish"],
          resources: [`arn:${this.partition}:sns:*:*:*`],
        }),
      );
    }
    const { read, write } = needs.uploads;
    // Not grantRead: its s3:List* on the bucket would list every prefix, exports/ included.
    // GetObject under each prefix, and ListBucket (a missing object is then NoSuchKey, not
    // AccessDenied) only for keys under them.
    for (const prefix of read)
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ["s3:GetObject"],
          resources: [this.uploadsBucket.arnForObjects(`${prefix}*`)],
        }),
      );
    if (read.length > 0)
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ["s3:ListBucket"],
          resources: [this.uploadsBucket.bucketArn],
          conditions: { StringLike: { "s3:prefix": read.map((prefix) => `${prefix}*`) } },
        }),
      );
    for (const prefix of write) this.uploadsBucket.grantPut(fn, `${prefix}*`);
    if (read.length > 0 || write.length > 0)
      fn.addEnvironment(ENV.uploadsBucket, this.uploadsBucket.bucketName);
    if (needs.appendsAuditTrail) {
      // Appends only: it never reads, updates or deletes an entry of the trail.
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ["dynamodb:PutItem"], resources: [this.auditTable.tableArn] }),
      );
      fn.addEnvironment(ENV.auditTable, this.auditTable.tableName);
    }
    if (needs.smsCap) {
      // Counted in the idempotency table, under the counters' own key prefix only (the statement
      // Courier.grantIdempotencyKeys makes, written out: the integration suite's global setup may
      // load a built dist/ of the package that predates that method).
      const table = this.courier.idempotencyTable;
      if (table)
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
            resources: [table.tableArn],
            conditions: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [`${SMS_CAP_KEY_PREFIX}*`] } },
          }),
        );
      fn.addEnvironment(ENV.smsCap, JSON.stringify(validateSmsCap(needs.smsCap)));
      new SmsCapAlarm(this, `${pascal(name)}SmsCapAlarm`, {
        consumer: name,
        metricName: SMS_CAP_METRIC,
        namespace: this.courier.metricsNamespace,
      });
    }
  }

  private settingSecret(setting: SettingName): secretsmanager.ISecret | undefined {
    const arn = settingSecretArn(setting, this.settings);
    if (!arn) return undefined;
    let secret = this.settingSecrets.get(setting);
    if (!secret) {
      secret = secretsmanager.Secret.fromSecretCompleteArn(
        this,
        `${pascal(setting.replace(/Url$/, ""))}Secret`,
        arn,
      );
      this.settingSecrets.set(setting, secret);
    }
    return secret;
  }

  private output(key: string, value: string): void {
    new CfnOutput(this, key, { value }).overrideLogicalId(key);
  }
}

/** "verification-sms" -> "VerificationSms": construct ids of the example's own additions. */
function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join("");
}
