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
import { SMS_CAP_METRIC, validateSmsCap } from "../../src/app/signup/sms-cap.ts";
import { consumerEnvironment, type DeploySettings } from "../../src/deployment/consumer-environment.ts";
import {
  consumerOutputKey,
  IDEMPOTENCY_TABLE_OUTPUT,
  pascalCase,
  topicOutputKey,
  UPLOADS_BUCKET_OUTPUT,
  VERIFICATION_SECRET_OUTPUT,
} from "../../src/deployment/stack-outputs.ts";
import {
  alarmThresholds,
  type ConsumerName,
  type ConsumerSpec,
  consumerNames,
  consumers,
  DLQ_RETENTION_DAYS,
  redriveFunction,
  type SmsCapSpec,
  type TopicName,
  topicNames,
  topics,
} from "../../src/deployment/topology.ts";
import {
  IDEMPOTENCY_PARTITION_KEY,
  IDEMPOTENCY_TTL_ATTRIBUTE,
} from "../../src/lib/idempotency/table-schema.ts";
import { type AlarmNotificationSettings, AlarmTopic } from "../constructs/alarm-topic.ts";
import { ConsumerDashboard } from "../constructs/consumer-dashboard.ts";
import { ConsumerFunction } from "../constructs/consumer-function.ts";
import { ConsumerQueue } from "../constructs/consumer-queue.ts";
import { EncryptedTopic } from "../constructs/encrypted-topic.ts";
import { InvalidConstructPropsError } from "../constructs/errors.ts";
import { RedriveFunction } from "../constructs/redrive-function.ts";
import { SmsCapAlarm } from "../constructs/sms-cap-alarm.ts";

/** Repository root: topology entries are relative to it. */
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Message attributes every publish sets besides the contract's own filter attributes. */
export const ENVELOPE_ATTRIBUTE_NAMES = ["type", "version"] as const;

/** Packages a consumer ships as installed native modules rather than bundled code. */
export const CONSUMER_NATIVE_MODULES: Partial<Record<ConsumerName, readonly string[]>> = {
  thumbnails: ["sharp"],
};

export interface CourierStackProps extends StackProps {
  readonly settings: DeploySettings;
  /**
   * Who the alarm topic notifies (CDK context `alarmEmail`, `alarmHttpsEndpoint`, `alarmTopicArn`).
   * @default - the topic is made with no subscriptions
   */
  readonly alarmNotifications?: AlarmNotificationSettings;
}

export class CourierStack extends Stack {
  public readonly topics: Record<TopicName, EncryptedTopic>;
  public readonly consumerQueues: Record<ConsumerName, ConsumerQueue>;
  public readonly consumerFunctions: Record<ConsumerName, ConsumerFunction>;
  public readonly redrive: RedriveFunction;
  public readonly uploadsBucket: s3.Bucket;
  public readonly verificationSecret: secretsmanager.Secret;
  public readonly idempotencyTable: dynamodb.Table;
  /** Every alarm of the stack sends ALARM and OK here. */
  public readonly alarmTopic: AlarmTopic;
  public readonly dashboard: ConsumerDashboard;

  constructor(scope: Construct, id: string, props: CourierStackProps) {
    super(scope, id, {
      description: "courier: SNS topics, SQS queues and Lambda consumers rendered from src/topology.ts",
      ...props,
    });
    // Whatever App instantiates the stack (cdk.json's or a test's), SNS may use a queue's key only
    // for its own topic.
    this.node.setContext("@aws-cdk/aws-sns-subscriptions:restrictSqsDescryption", true);
    validateSettings(this, props.settings);
    this.alarmTopic = new AlarmTopic(this, "AlarmTopic", props.alarmNotifications);
    // An aspect rather than a call per alarm: an alarm added anywhere in the stack later notifies too.
    Aspects.of(this).add(new NotifyOnEveryAlarm(this.alarmTopic));

    this.topics = Object.fromEntries(
      topicNames.map((name) => [name, new EncryptedTopic(this, `${pascalCase(name)}Topic`)]),
    ) as Record<TopicName, EncryptedTopic>;

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

    this.verificationSecret = new secretsmanager.Secret(this, "VerificationSecret", {
      description: "HMAC key of courier's account verification codes",
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });

    this.idempotencyTable = new dynamodb.Table(this, "IdempotencyTable", {
      partitionKey: { name: IDEMPOTENCY_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: IDEMPOTENCY_TTL_ATTRIBUTE,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // Records expire within days; nothing in the table is worth keeping after the stack is gone.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const queues: Partial<Record<ConsumerName, ConsumerQueue>> = {};
    const functions: Partial<Record<ConsumerName, ConsumerFunction>> = {};
    for (const name of consumerNames) {
      const spec: ConsumerSpec = consumers[name];
      const topicSpec = topics[spec.topic];
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
          name,
          {
            queueUrl: queue.queue.queueUrl,
            dlqUrl: queue.deadLetterQueue.queueUrl,
            verificationSecretArn: this.verificationSecret.secretArn,
            uploadsBucket: this.uploadsBucket.bucketName,
            ...(usesIdempotencyTable(name) ? { idempotencyTable: this.idempotencyTable.tableName } : {}),
          },
          props.settings,
        ),
        ...(CONSUMER_NATIVE_MODULES[name] ? { nativeModules: CONSUMER_NATIVE_MODULES[name] } : {}),
      });
      this.grantSideEffects(name, consumerFunction, props.settings);
      // The cap is counted in the idempotency table the function already reads and writes.
      if ((spec as ConsumerSpec).smsCap) {
        validateSmsCap((spec as ConsumerSpec).smsCap as SmsCapSpec);
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
    this.consumerQueues = queues as Record<ConsumerName, ConsumerQueue>;
    this.consumerFunctions = functions as Record<ConsumerName, ConsumerFunction>;

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
      })),
    });

    this.dashboard = new ConsumerDashboard(this, "Dashboard", {
      metricsNamespace: "courier",
      consumers: consumerNames.map((name) => ({
        name,
        queue: this.consumerQueues[name],
        consumerFunction: this.consumerFunctions[name],
        oldestMessageAlarmThreshold: Duration.seconds(consumers[name].oldestMessageAlarmSeconds),
      })),
    });

    for (const name of topicNames) {
      this.output(topicOutputKey(name, "TopicArn"), this.topics[name].topic.topicArn);
    }
    this.output(UPLOADS_BUCKET_OUTPUT, this.uploadsBucket.bucketName);
    this.output(VERIFICATION_SECRET_OUTPUT, this.verificationSecret.secretArn);
    this.output(IDEMPOTENCY_TABLE_OUTPUT, this.idempotencyTable.tableName);
  }

  /** What each consumer's side effect needs beyond its queues: nothing more. */
  private grantSideEffects(name: ConsumerName, consumer: ConsumerFunction, settings: DeploySettings): void {
    const fn = consumer.function;
    switch (name) {
      case "verification-email":
        this.verificationSecret.grantRead(fn);
        this.idempotencyTable.grantReadWriteData(fn);
        // SES has no grant method; sending is limited to the configured sender address.
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ["ses:SendEmail", "ses:SendRawEmail"],
            resources: [this.formatArn({ service: "ses", resource: "identity", resourceName: "*" })],
            conditions: { StringEquals: { "ses:FromAddress": senderAddress(settings.mailFrom) } },
          }),
        );
        return;
      case "verification-sms":
        this.verificationSecret.grantRead(fn);
        this.idempotencyTable.grantReadWriteData(fn);
        // SMS publishes to a phone number, which IAM cannot name; allow Publish but never to a topic.
        fn.addToRolePolicy(new iam.PolicyStatement({ actions: ["sns:Publish"], resources: ["*"] }));
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            effect: iam.Effect.DENY,
            actions: ["sns:Publish"],
            resources: [`arn:${this.partition}:sns:*:*:*`],
          }),
        );
        return;
      case "team-notify":
        this.idempotencyTable.grantReadWriteData(fn);
        // The webhook URL is a bearer secret: given as a secret, only its ARN is in the template.
        if (settings.teamWebhookSecretArn) {
          secretsmanager.Secret.fromSecretCompleteArn(
            this,
            "TeamWebhookSecret",
            settings.teamWebhookSecretArn,
          ).grantRead(fn);
        }
        return;
      case "thumbnails":
        this.uploadsBucket.grantRead(fn, "originals/*");
        // Read on renditions too: the function skips work when both renditions exist for the same
        // source ETag, which it learns from HeadObject on them.
        this.uploadsBucket.grantRead(fn, "renditions/*");
        this.uploadsBucket.grantPut(fn, "renditions/*");
        return;
    }
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

/** The sign-up consumers send at most one email, SMS or webhook per eventId. */
function usesIdempotencyTable(name: ConsumerName): boolean {
  return consumers[name].topic === "account-signups";
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

/** "Courier <no-reply@example.com>" -> "no-reply@example.com": SES compares the bare address. */
export function senderAddress(mailFrom: string): string {
  return /<([^<>]+)>\s*$/.exec(mailFrom)?.[1]?.trim() ?? mailFrom.trim();
}

function validateSettings(scope: Construct, settings: DeploySettings): void {
  const fail = (problem: string): never => {
    throw new InvalidConstructPropsError(scope, "settings", problem);
  };
  if (!/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(senderAddress(settings.mailFrom))) {
    fail(`mailFrom must be an email address or "Name <address>", got "${settings.mailFrom}"`);
  }
  const urls: Array<readonly [string, string]> = [["verifyUrlBase", settings.verifyUrlBase]];
  if (settings.teamWebhookSecretArn === undefined) urls.push(["teamWebhookUrl", settings.teamWebhookUrl]);
  for (const [key, value] of urls) {
    if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
      fail(`${key} must be an http(s) URL, got "${value}"`);
    }
  }
  const secretArn = settings.teamWebhookSecretArn;
  // A complete ARN (with its random suffix): IAM grants on a partial ARN would not match the secret.
  if (
    secretArn !== undefined &&
    !/^arn:aws[\w-]*:secretsmanager:[\w-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/.test(secretArn)
  ) {
    fail(`teamWebhookSecretArn must be a complete Secrets Manager secret ARN, got "${secretArn}"`);
  }
}
