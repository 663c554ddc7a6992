/**
 * courier's deployable topology, rendered from `src/topology.ts`: nothing about a topic or queue is
 * declared here, only how a declaration becomes AWS resources and what each function may touch.
 */
import { fileURLToPath } from "node:url";
import {
  Aspects,
  CfnOutput,
  Duration,
  type IAspect,
  RemovalPolicy,
  Stack,
  type StackProps,
} from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as sns from "aws-cdk-lib/aws-sns";
import type { Construct, IConstruct } from "constructs";
import { AUDIT_PARTITION_KEY, AUDIT_SORT_KEY } from "../../src/app/security-audit/audit-table.ts";
import { SMS_CAP_METRIC, validateSmsCap } from "../../src/app/signup/sms-cap.ts";
import { consumerEnvironment } from "../../packages/courier/src/deployment/consumer-environment.ts";
import { needsOf, topologyProblems } from "../../packages/courier/src/deployment/consumer-needs.ts";
import {
  type DeploySettings,
  type SettingName,
  senderAddress,
  settingSecretArn,
  settingsProblems,
} from "../../src/app/deployment/deploy-settings.ts";
import {
  AUDIT_TABLE_OUTPUT,
  consumerOutputKey,
  IDEMPOTENCY_TABLE_OUTPUT,
  PAYLOAD_BUCKET_OUTPUT,
  pascalCase,
  secretOutputKey,
  topicOutputKey,
  UPLOADS_BUCKET_OUTPUT,
} from "../../packages/courier/src/deployment/stack-outputs.ts";
import { isRaisedTopic } from "../../packages/courier/src/deployment/topic-size.ts";
import {
  alarmThresholds,
  type ConsumerName,
  type ConsumerSpec,
  courierTopology,
  DLQ_RETENTION_DAYS,
  redriveFunction,
  type TopicName,
  type TopologySpec,
} from "../../src/topology.ts";
import {
  IDEMPOTENCY_PARTITION_KEY,
  IDEMPOTENCY_TTL_ATTRIBUTE,
} from "../../packages/courier/src/lib/idempotency/table-schema.ts";
import { payloadPrefix } from "../../packages/courier/src/lib/payload-offloading/payload-store.ts";
import { SNS_MAX_RAISED_PAYLOAD_BYTES as SQS_MAX_MESSAGE_BYTES } from "../../packages/courier/src/lib/publisher/size.ts";
import { type AlarmNotificationSettings, AlarmTopic } from "../../packages/courier/src/cdk/alarm-topic.ts";
import { ConsumerDashboard } from "../../packages/courier/src/cdk/consumer-dashboard.ts";
import { ConsumerFunction } from "../../packages/courier/src/cdk/consumer-function.ts";
import { ConsumerQueue } from "../../packages/courier/src/cdk/consumer-queue.ts";
import { EncryptedTopic } from "../../packages/courier/src/cdk/encrypted-topic.ts";
import { InvalidConstructPropsError } from "../../packages/courier/src/cdk/errors.ts";
import { PayloadBucket } from "../../packages/courier/src/cdk/payload-bucket.ts";
import { RedriveFunction } from "../../packages/courier/src/cdk/redrive-function.ts";
import { SmsCapAlarm } from "../../packages/courier/src/cdk/sms-cap-alarm.ts";

/** Repository root: topology entries are relative to it. */
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Message attributes every publish sets besides the contract's own filter attributes. */
export const ENVELOPE_ATTRIBUTE_NAMES = ["type", "version"] as const;

export interface CourierStackProps<Topic extends string = TopicName, Consumer extends string = ConsumerName>
  extends StackProps {
  readonly settings: DeploySettings;
  /**
   * Who the alarm topic notifies (CDK context `alarmEmail`, `alarmHttpsEndpoint`, `alarmTopicArn`).
   * @default - the topic is made with no subscriptions
   */
  readonly alarmNotifications?: AlarmNotificationSettings;
  /**
   * The topics, consumers (with their needs) and secrets to render; checked before anything is built.
   * @default courierTopology (src/deployment/topology.ts)
   */
  readonly topology?: TopologySpec<Topic, Consumer>;
}

export class CourierStack<
  Topic extends string = TopicName,
  Consumer extends string = ConsumerName,
> extends Stack {
  public readonly topology: TopologySpec<Topic, Consumer>;
  public readonly topics: Record<Topic, EncryptedTopic>;
  public readonly consumerQueues: Record<Consumer, ConsumerQueue>;
  public readonly consumerFunctions: Record<Consumer, ConsumerFunction>;
  public readonly redrive: RedriveFunction;
  public readonly uploadsBucket: s3.Bucket;
  /** Where bodies over their topic's limit go; only when a topic offloads (`offloadLargePayloads`). */
  public readonly payloadBucket: PayloadBucket | undefined;
  /** The topology's secrets by name. */
  public readonly secrets: Readonly<Record<string, secretsmanager.Secret>>;
  public readonly idempotencyTable: dynamodb.Table;
  /** The security audit trail: one item per event, by account and the FIFO topic's sequence number. */
  public readonly auditTable: dynamodb.Table;
  /** Every alarm of the stack sends ALARM and OK here. */
  public readonly alarmTopic: AlarmTopic;
  public readonly dashboard: ConsumerDashboard;
  private readonly settings: DeploySettings;
  /** Secrets standing in for settings, imported once however many consumers read them. */
  private readonly settingSecrets = new Map<SettingName, secretsmanager.ISecret>();

  constructor(scope: Construct, id: string, props: CourierStackProps<Topic, Consumer>) {
    super(scope, id, {
      description: "courier: SNS topics, SQS queues and Lambda consumers rendered from src/topology.ts",
      ...props,
    });
    // Whatever App instantiates the stack (cdk.json's or a test's), SNS may use a queue's key only
    // for its own topic.
    this.node.setContext("@aws-cdk/aws-sns-subscriptions:restrictSqsDescryption", true);
    const topology = props.topology ?? (courierTopology as unknown as TopologySpec<Topic, Consumer>);
    validate(this, "topology", topologyProblems(topology));
    validate(this, "settings", settingsProblems(props.settings));
    this.topology = topology;
    this.settings = props.settings;
    const topicNames = Object.keys(topology.topics) as Topic[];
    const consumerNames = Object.keys(topology.consumers) as Consumer[];
    this.alarmTopic = new AlarmTopic(this, "AlarmTopic", props.alarmNotifications);
    // An aspect rather than a call per alarm: an alarm added anywhere in the stack later notifies too.
    Aspects.of(this).add(new NotifyOnEveryAlarm(this.alarmTopic));

    this.topics = Object.fromEntries(
      topicNames.map((name) => {
        const { maxMessageBytes, ordering } = topology.topics[name];
        return [
          name,
          // An ordered topic is a FIFO topic; its consumers' queues follow (ConsumerQueue).
          new EncryptedTopic(this, `${pascalCase(name)}Topic`, {
            ...(maxMessageBytes ? { maxMessageBytes } : {}),
            fifo: ordering !== undefined,
          }),
        ];
      }),
    ) as Record<Topic, EncryptedTopic>;

    this.uploadsBucket = new s3.Bucket(this, "UploadsBucket", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: false,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { id: "abort-incomplete-multipart-uploads", abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      // Originals are user data: deleting the stack must not delete them.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // A day past the longest DLQ retention: a pointer dead-lettered and redriven at the last moment
    // still resolves.
    this.payloadBucket = topicNames.some((name) => topology.topics[name].offloadLargePayloads)
      ? new PayloadBucket(this, "PayloadBucket", {
          expirationDays: DLQ_RETENTION_DAYS + 1,
          longestRetentionDays: DLQ_RETENTION_DAYS,
        })
      : undefined;

    this.secrets = Object.fromEntries(
      Object.entries(topology.secrets).map(([name, spec]) => [
        name,
        new secretsmanager.Secret(this, `${pascalCase(name)}Secret`, {
          description: spec.description,
          generateSecretString: {
            passwordLength: spec.length,
            excludePunctuation: true,
            includeSpace: false,
          },
        }),
      ]),
    );

    this.idempotencyTable = new dynamodb.Table(this, "IdempotencyTable", {
      partitionKey: { name: IDEMPOTENCY_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: IDEMPOTENCY_TTL_ATTRIBUTE,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // Records expire within days; nothing in the table is worth keeping after the stack is gone.
      removalPolicy: RemovalPolicy.DESTROY,
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

    const secretArns = Object.fromEntries(
      Object.entries(this.secrets).map(([name, secret]) => [name, secret.secretArn]),
    );
    const queues: Partial<Record<Consumer, ConsumerQueue>> = {};
    const functions: Partial<Record<Consumer, ConsumerFunction>> = {};
    for (const name of consumerNames) {
      const spec: ConsumerSpec<Topic> = topology.consumers[name];
      const topicSpec = topology.topics[spec.topic];
      const needs = needsOf(spec);
      const thresholds = alarmThresholds(spec);
      const queue = new ConsumerQueue(this, `${pascalCase(name)}Queue`, {
        topic: this.topics[spec.topic].topic,
        visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
        maxReceiveCount: spec.maxReceiveCount,
        retentionPeriod: Duration.days(spec.retentionDays),
        deadLetterRetentionPeriod: Duration.days(DLQ_RETENTION_DAYS),
        ...(spec.filterPolicy ? { filterPolicy: renderFilterPolicy(spec.filterPolicy) } : {}),
        filterAttributeNames: [
          ...ENVELOPE_ATTRIBUTE_NAMES,
          ...new Set(topicSpec.accepts.flatMap((contract) => contract.filterAttributeNames)),
        ],
        oldestMessageAlarmThreshold: Duration.seconds(spec.oldestMessageAlarmSeconds),
        deadLetterAlarmThreshold: thresholds.deadLetters,
        ...queueSizeFor(topicSpec),
      });
      const consumerFunction = new ConsumerFunction(this, `${pascalCase(name)}Consumer`, {
        entry: `${REPO_ROOT}${spec.handlerEntry}`,
        description: spec.description,
        timeout: Duration.seconds(spec.timeoutSeconds),
        memorySize: spec.memoryMb,
        queue: queue.queue,
        queueVisibilityTimeout: queue.visibilityTimeout,
        deadLetterQueue: queue.deadLetterQueue,
        batchSize: spec.batchSize,
        maxBatchingWindow: Duration.seconds(spec.maxBatchingWindowSeconds),
        maxConcurrency: spec.maxConcurrency,
        errorsAlarmThreshold: thresholds.functionErrors,
        throttlesAlarmThreshold: thresholds.functionThrottles,
        environment: consumerEnvironment(
          spec,
          {
            queueUrl: queue.queue.queueUrl,
            dlqUrl: queue.deadLetterQueue.queueUrl,
            secretArns,
            uploadsBucket: this.uploadsBucket.bucketName,
            idempotencyTable: this.idempotencyTable.tableName,
            auditTable: this.auditTable.tableName,
            ...(this.payloadBucket && topicSpec.offloadLargePayloads
              ? { payloadBucket: this.payloadBucket.bucket.bucketName }
              : {}),
          },
          props.settings,
        ),
        ...(needs.nativeModules.length > 0 ? { nativeModules: needs.nativeModules } : {}),
      });
      this.grantNeeds(spec, consumerFunction);
      // The cap is counted in the idempotency table the function already reads and writes.
      if (spec.smsCap) {
        validateSmsCap(spec.smsCap);
        new SmsCapAlarm(this, `${pascalCase(name)}SmsCapAlarm`, {
          consumer: name,
          metricName: SMS_CAP_METRIC,
        });
      }
      queues[name] = queue;
      functions[name] = consumerFunction;

      this.output(consumerOutputKey(name, "QueueUrl"), queue.queue.queueUrl);
      this.output(consumerOutputKey(name, "QueueArn"), queue.queue.queueArn);
      this.output(consumerOutputKey(name, "DlqUrl"), queue.deadLetterQueue.queueUrl);
      this.output(consumerOutputKey(name, "DlqArn"), queue.deadLetterQueue.queueArn);
      this.output(consumerOutputKey(name, "SubscriptionDlqUrl"), queue.subscriptionDeadLetterQueue.queueUrl);
      this.output(consumerOutputKey(name, "SubscriptionDlqArn"), queue.subscriptionDeadLetterQueue.queueArn);
      // `courier pause` disables this mapping; LocalStack's deploy drops it with the function.
      this.output(
        consumerOutputKey(name, "EventSourceMappingId"),
        consumerFunction.eventSource.eventSourceMappingId,
      );
    }
    this.consumerQueues = queues as Record<Consumer, ConsumerQueue>;
    this.consumerFunctions = functions as Record<Consumer, ConsumerFunction>;

    this.redrive = new RedriveFunction(this, "Redrive", {
      entry: `${REPO_ROOT}${redriveFunction.handlerEntry}`,
      description: "Moves dead-lettered messages back to their source queue",
      timeout: Duration.seconds(redriveFunction.timeoutSeconds),
      memorySize: redriveFunction.memoryMb,
      environment: { POWERTOOLS_SERVICE_NAME: "redrive", POWERTOOLS_METRICS_NAMESPACE: "courier" },
      pairs: consumerNames.map((name) => ({
        name,
        queue: this.consumerQueues[name].queue,
        deadLetterQueue: this.consumerQueues[name].deadLetterQueue,
        subscriptionDeadLetterQueue: this.consumerQueues[name].subscriptionDeadLetterQueue,
      })),
    });

    this.dashboard = new ConsumerDashboard(this, "Dashboard", {
      metricsNamespace: "courier",
      consumers: consumerNames.map((name) => ({
        name,
        queue: this.consumerQueues[name],
        consumerFunction: this.consumerFunctions[name],
        oldestMessageAlarmThreshold: Duration.seconds(topology.consumers[name].oldestMessageAlarmSeconds),
      })),
    });

    for (const name of topicNames) {
      this.output(topicOutputKey(name, "TopicArn"), this.topics[name].topic.topicArn);
    }
    this.output(UPLOADS_BUCKET_OUTPUT, this.uploadsBucket.bucketName);
    if (this.payloadBucket) this.output(PAYLOAD_BUCKET_OUTPUT, this.payloadBucket.bucket.bucketName);
    for (const [name, secret] of Object.entries(this.secrets)) {
      this.output(secretOutputKey(name), secret.secretArn);
    }
    this.output(IDEMPOTENCY_TABLE_OUTPUT, this.idempotencyTable.tableName);
    this.output(AUDIT_TABLE_OUTPUT, this.auditTable.tableName);
  }

  /** A secret of the topology by name; throws naming the known ones. */
  public secret(name: string): secretsmanager.Secret {
    const secret = this.secrets[name];
    if (!secret) {
      throw new Error(
        `the topology declares no secret "${name}" (secrets: ${Object.keys(this.secrets).join(", ")})`,
      );
    }
    return secret;
  }

  /** What a consumer's work needs beyond its queues, as its topology entry says: nothing more. */
  private grantNeeds(spec: ConsumerSpec<string>, consumer: ConsumerFunction): void {
    const fn = consumer.function;
    const needs = needsOf(spec);
    for (const secret of needs.secrets) this.secret(secret).grantRead(fn);
    if (needs.idempotencyTable) this.idempotencyTable.grantReadWriteData(fn);
    for (const setting of needs.settings) {
      // A setting given as a secret (the webhook URL is a bearer secret): only its ARN is in the
      // template, and the function may read that secret.
      this.settingSecret(setting)?.grantRead(fn);
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
    // A consumer of an offloading topic reads that topic's payloads: derived from the topology, not declared.
    if (this.payloadBucket && this.topology.topics[spec.topic as Topic]?.offloadLargePayloads) {
      this.payloadBucket.grantReadPayloads(fn, payloadPrefix(spec.topic));
    }
    for (const prefix of needs.uploads.read) this.uploadsBucket.grantRead(fn, `${prefix}*`);
    for (const prefix of needs.uploads.write) this.uploadsBucket.grantPut(fn, `${prefix}*`);
    if (needs.appendsAuditTrail) {
      // Appends only: it never reads, updates or deletes an entry of the trail.
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ["dynamodb:PutItem"], resources: [this.auditTable.tableArn] }),
      );
    }
  }

  private settingSecret(setting: SettingName): secretsmanager.ISecret | undefined {
    const arn = settingSecretArn(setting, this.settings);
    if (!arn) return undefined;
    let secret = this.settingSecrets.get(setting);
    if (!secret) {
      const id = `${pascalCase(setting.replace(/Url$/, ""))}Secret`;
      secret = secretsmanager.Secret.fromSecretCompleteArn(this, id, arn);
      this.settingSecrets.set(setting, secret);
    }
    return secret;
  }

  private output(key: string, value: string): void {
    new CfnOutput(this, key, { value }).overrideLogicalId(key);
  }
}

/** Makes every CloudWatch alarm in the stack send ALARM and OK to the alarm topic. */
class NotifyOnEveryAlarm implements IAspect {
  constructor(private readonly alarmTopic: AlarmTopic) {}

  visit(node: IConstruct): void {
    if (node instanceof cloudwatch.Alarm) this.alarmTopic.notify(node);
  }
}

function renderFilterPolicy(
  policy: Readonly<Record<string, readonly string[]>>,
): Record<string, sns.SubscriptionFilter> {
  return Object.fromEntries(
    Object.entries(policy).map(([attribute, allowlist]) => [
      attribute,
      sns.SubscriptionFilter.stringFilter({ allowlist: [...allowlist] }),
    ]),
  );
}

/**
 * Queues behind a raised topic take SQS's maximum (1 MiB), not just the topic's limit: a DLQ copy
 * carries the failure reason as extra attributes, which must not push it over.
 */
function queueSizeFor(topic: { readonly maxMessageBytes?: number }): { maxMessageBytes?: number } {
  return isRaisedTopic(topic) ? { maxMessageBytes: SQS_MAX_MESSAGE_BYTES } : {};
}

/** Throws every problem found, naming the prop; the stack is not built from a faulty input. */
function validate(scope: Construct, prop: string, problems: readonly string[]): void {
  if (problems.length > 0) throw new InvalidConstructPropsError(scope, prop, problems.join("; "));
}
