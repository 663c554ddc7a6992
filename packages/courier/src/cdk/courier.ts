/**
 * The `Courier` construct: renders a team's topology (`defineTopology`) into the stack it is put
 * in, in the shape of AWS Solutions Constructs: encrypted topics, a queue, DLQ and subscription DLQ
 * per consumer with their alarms, the consumer functions, the topology's secrets, an idempotency
 * table and a payload bucket where the topology needs them, the alarm topic, the dashboard, the
 * redrive function, and the manifest outputs the CLI, the console and workers read. Anything else a
 * function needs the team grants on the function it exposes (`consumerFunction(name)`).
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Aspects, CfnOutput, Duration, type IAspect, Lazy, RemovalPolicy, Stack, Token } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import type * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import type * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as sns from "aws-cdk-lib/aws-sns";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct, type IConstruct } from "constructs";
import { consumerEnvironment, DEFAULT_METRICS_NAMESPACE } from "../deployment/consumer-environment.ts";
import { needsOf } from "../deployment/consumer-needs.ts";
import {
  consumerManifestOutputKey,
  MANIFEST_VERSION,
  pascalCase,
  STACK_MANIFEST_OUTPUT,
  topicManifestOutputKey,
} from "../deployment/manifest.ts";
import { archiveSettingsOf } from "../lib/archive/archive-store.ts";
import type { TopicSpec } from "../lib/contracts/topic-spec.ts";
import {
  IDEMPOTENCY_PARTITION_KEY,
  IDEMPOTENCY_TTL_ATTRIBUTE,
  idempotencyKeyPrefix,
} from "../lib/idempotency/table-schema.ts";
import type { PayloadLocation } from "../lib/payload-offloading/payload-resolver.ts";
import { payloadPrefix } from "../lib/payload-offloading/payload-store.ts";
import {
  SNS_MAX_RAISED_PAYLOAD_BYTES as SQS_MAX_MESSAGE_BYTES,
  topicMaxMessageBytes,
} from "../lib/publisher/size.ts";
import { DEFAULT_MAX_REDRIVES } from "../lib/redrive/selective.ts";
import { payloadExpirationDays } from "../topology/payload-lifetime.ts";
import { alarmThresholds, type ConsumerSpec, type TopologySpec } from "../topology/topology.ts";
import { DLQ_RETENTION_DAYS, isRaisedTopic, topologyProblems } from "../topology/topology-problems.ts";
import { type AlarmNotificationSettings, AlarmTopic } from "./alarm-topic.ts";
import {
  type AwsSdkSource,
  awsSdkProblem,
  newestNodejsRuntime,
  OTEL_LAMBDA_ENVIRONMENT,
  runtimeProblem,
  type TracingMode,
  tracingProblem,
} from "./bundled-function.ts";
import { ConsumerDashboard } from "./consumer-dashboard.ts";
import { ConsumerFunction } from "./consumer-function.ts";
import { ConsumerQueue } from "./consumer-queue.ts";
import { EncryptedTopic } from "./encrypted-topic.ts";
import { InvalidConstructPropsError } from "./errors.ts";
import { grantSendToEncryptedQueue } from "./grant-send-messages.ts";
import { acknowledgeCourierNagFindings } from "./nag.ts";
import { grantReadPayloadLocation, PayloadBucket } from "./payload-bucket.ts";
import { RedriveFunction } from "./redrive-function.ts";
import { QuietTenantDwellAlarm } from "./tenant-dwell-alarm.ts";
import { ArchiveBucket, TopicArchive } from "./topic-archive.ts";

/** Message attributes every publish sets besides the contract's own filter attributes. */
export const ENVELOPE_ATTRIBUTE_NAMES = ["type", "version"] as const;

/** Escape hatch for one consumer: CDK props merged over what courier builds (Solutions Constructs' shape). */
export interface CourierConsumerOverrides {
  /** Merged over the source queue's props (see ConsumerQueueProps.queueProps). @default - none */
  readonly queueProps?: Partial<sqs.QueueProps>;
  /** Merged over the DLQ's props (see ConsumerQueueProps.deadLetterQueueProps). @default - none */
  readonly deadLetterQueueProps?: Partial<sqs.QueueProps>;
  /** Merged over the function's NodejsFunction props (entry, role, log group stay courier's). @default - none */
  readonly functionProps?: Partial<nodejs.NodejsFunctionProps>;
  /** Merged over courier's esbuild options. @default - none */
  readonly bundling?: nodejs.BundlingOptions;
}

/** The redrive function's settings. */
export interface CourierRedriveProps {
  /** A message redriven more often than this stays in the DLQ. @default DEFAULT_MAX_REDRIVES (3) */
  readonly maxRedrives?: number;
  /** @default Duration.minutes(15) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
}

export interface CourierProps<Topic extends string = string, Consumer extends string = string> {
  /** The topics, consumers and secrets to render, from `defineTopology`; checked before anything is built. */
  readonly topology: TopologySpec<Topic, Consumer>;
  /**
   * The directory each consumer's `handlerEntry` is relative to.
   * @default process.cwd(): the directory `cdk synth` runs in
   */
  readonly projectRoot?: string;
  /**
   * The Lambda runtime of every function: Node.js 22 or newer.
   * @default the newest Node.js LTS runtime the installed aws-cdk-lib knows (nodejs26.x from 2.278)
   */
  readonly runtime?: lambda.Runtime;
  /** @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
  /**
   * Who hears of an alarm: emails and an HTTPS endpoint subscribed to the alarm topic, and an
   * existing topic (by ARN) every alarm also notifies.
   * @default - the alarm topic is made with no subscriptions
   */
  readonly alarmNotifications?: AlarmNotificationSettings;
  /**
   * A topic of the team's that every alarm notifies instead of a topic the construct makes.
   * @default - a new topic under a customer-managed key CloudWatch may use
   */
  readonly existingAlarmTopic?: sns.ITopic;
  /**
   * Namespace of the consumer runtime's metrics (Powertools), on the dashboard and in each
   * function's POWERTOOLS_METRICS_NAMESPACE.
   * @default "courier"
   */
  readonly metricsNamespace?: string;
  /**
   * Tracing of every function (consumers and redrive). "otel": OpenTelemetry spans (a producer
   * span per publish, a process span per batch linked to each message's producer, a span per
   * record with its outcome) exported through the ADOT collector layer to X-Ray. "none": no layer,
   * no SDK in the bundles, no X-Ray permissions.
   * @default "otel"
   */
  readonly tracing?: TracingMode;
  /**
   * The ADOT collector layer version ARN used with `tracing: "otel"`.
   * @default adotCollectorLayerArn(region, architecture): AWS's aws-otel-collector 0.117.0 layer
   */
  readonly otelCollectorLayer?: string;
  /**
   * Where every function's AWS SDK comes from. "bundled": the clients a function imports are bundled
   * from the SDK's ES modules and tree-shaken (the import measured 24-36 % less CPU than with the
   * runtime's copy, bench/cold-start.bench.ts), at the versions you tested; the credential providers
   * Lambda never reaches, and the S3 and CloudWatch clients the consumer runtime needs only for
   * offloaded payloads and tenant metrics, load from the runtime's SDK if ever used. "runtime":
   * every `@aws-sdk/*` package from the Lambda runtime's copy, NodejsFunction's default: bundles
   * about half the size that load slower.
   * @default "bundled"
   */
  readonly awsSdk?: AwsSdkSource;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Per consumer, CDK props merged over courier's. @default - none */
  readonly consumerOverrides?: { readonly [name in Consumer]?: CourierConsumerOverrides };
  /** @default - DEFAULT_MAX_REDRIVES, 15 minutes, 512 MB */
  readonly redrive?: CourierRedriveProps;
}

/** This package's version, recorded in the manifest. */
function courierVersion(): string {
  try {
    const path = fileURLToPath(new URL("../../package.json", import.meta.url));
    return (JSON.parse(readFileSync(path, "utf8")) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * Renders a topology into the stack it is put in. Public fields expose every part it built, by
 * topic and consumer name, so a team grants and adds what its own functions need.
 */
export class Courier<Topic extends string = string, Consumer extends string = string> extends Construct {
  public readonly topology: TopologySpec<Topic, Consumer>;
  /** Where handler entries are resolved. */
  public readonly projectRoot: string;
  public readonly runtime: lambda.Runtime;
  public readonly metricsNamespace: string;
  public readonly topics: Readonly<Record<Topic, EncryptedTopic>>;
  public readonly consumerQueues: Readonly<Record<Consumer, ConsumerQueue>>;
  public readonly consumerFunctions: Readonly<Record<Consumer, ConsumerFunction>>;
  /** For each consumer of a topic with tenants: the alarm on its quiet tenants' dwell time. */
  public readonly quietTenantDwellAlarms: Readonly<Partial<Record<Consumer, cloudwatch.Alarm>>>;
  /** The topology's secrets by name. */
  public readonly secrets: Readonly<Record<string, secretsmanager.Secret>>;
  /** Only when some consumer needs it (`needs.idempotencyTable`). */
  public readonly idempotencyTable: dynamodb.Table | undefined;
  /** Only when some topic's payloads live in the stack's bucket (`offloadLargePayloads`, `payloadLocations`). */
  public readonly payloadBucket: PayloadBucket | undefined;
  /** Every alarm in the stack sends ALARM and OK here. */
  public readonly alarmTopic: AlarmTopic;
  public readonly dashboard: ConsumerDashboard;
  public readonly redrive: RedriveFunction;
  /** Only when some topic keeps an archive (the default): where every archived topic's history is. */
  public readonly archiveBucket: ArchiveBucket | undefined;
  /** Each archived topic's archive queue and archiver function. */
  public readonly archives: Readonly<Partial<Record<Topic, TopicArchive>>>;
  /** Each consumer's payload locations (only consumers of topics whose payloads they read). */
  public readonly payloadLocations: Readonly<Partial<Record<Consumer, readonly PayloadLocation[]>>>;

  constructor(scope: Construct, id: string, props: CourierProps<Topic, Consumer>) {
    const runtime = props.runtime ?? newestNodejsRuntime();
    validateCourierProps(scope, id, props, runtime);
    super(scope, id);
    const stack = Stack.of(this);
    // SNS may use a queue's key only for its own topic, whatever app the construct is in.
    this.node.setContext("@aws-cdk/aws-sns-subscriptions:restrictSqsDescryption", true);
    const topology = props.topology;
    this.topology = topology;
    this.runtime = runtime;
    this.projectRoot = resolve(props.projectRoot ?? process.cwd());
    this.metricsNamespace = props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;
    const tracing = props.tracing ?? "otel";
    const architecture = props.architecture ?? lambda.Architecture.ARM_64;
    const functionDefaults = {
      runtime,
      architecture,
      tracing,
      awsSdk: props.awsSdk ?? "bundled",
      ...(props.otelCollectorLayer !== undefined ? { otelCollectorLayer: props.otelCollectorLayer } : {}),
      ...(props.logRetention !== undefined ? { logRetention: props.logRetention } : {}),
    };
    const topicNames = Object.keys(topology.topics) as Topic[];
    const consumerNames = Object.keys(topology.consumers) as Consumer[];

    this.alarmTopic = new AlarmTopic(this, "AlarmTopic", {
      ...props.alarmNotifications,
      ...(props.existingAlarmTopic ? { existingTopic: props.existingAlarmTopic } : {}),
    });
    // An aspect rather than a call per alarm: an alarm the team adds to the stack later notifies too.
    Aspects.of(stack).add(new NotifyOnEveryAlarm(this.alarmTopic));

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

    const archived = topicNames.flatMap((name) => {
      const settings = archiveSettingsOf(topology.topics[name]);
      return settings ? [{ name, settings }] : [];
    });
    this.archiveBucket =
      archived.length > 0
        ? new ArchiveBucket(this, "ArchiveBucket", {
            retentionDays: Object.fromEntries(archived.map((a) => [a.name, a.settings.retentionDays])),
          })
        : undefined;
    // The archive keeps an offloaded message's pointer, not its payload: the payload lives as long
    // as the longest archive of an offloading topic, plus the whole chain a replayed pointer may
    // then travel (queue, DLQ, redrives), so no archived pointer outlives its payload.
    const longestOffloadedArchiveDays = Math.max(
      0,
      ...archived
        .filter((a) => topology.topics[a.name].offloadLargePayloads)
        .map((a) => a.settings.retentionDays),
    );

    const usesStackBucket = topicNames.some((name) =>
      payloadLocationSpecs(name, topology.topics[name]).some((l) => l.bucketName === undefined),
    );
    // Past the longest chain of pointers (dead-letter copies and redrives are new messages, each
    // with a full retention): a pointer dead-lettered and redriven late still resolves.
    this.payloadBucket = usesStackBucket
      ? new PayloadBucket(this, "PayloadBucket", {
          expirationDays:
            longestOffloadedArchiveDays +
            payloadExpirationDays({
              queueRetentionDays: Math.max(
                0,
                ...consumerNames.map((name) => topology.consumers[name].retentionDays),
              ),
              dlqRetentionDays: DLQ_RETENTION_DAYS,
              maxRedrives: props.redrive?.maxRedrives ?? DEFAULT_MAX_REDRIVES,
            }),
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

    this.idempotencyTable = consumerNames.some((name) => needsOf(topology.consumers[name]).idempotencyTable)
      ? new dynamodb.Table(this, "IdempotencyTable", {
          partitionKey: { name: IDEMPOTENCY_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
          timeToLiveAttribute: IDEMPOTENCY_TTL_ATTRIBUTE,
          billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
          pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
          encryption: dynamodb.TableEncryption.AWS_MANAGED,
          // Records expire within days; nothing in the table is worth keeping after the stack is gone.
          removalPolicy: RemovalPolicy.DESTROY,
        })
      : undefined;

    const secretArns = Object.fromEntries(
      Object.entries(this.secrets).map(([name, secret]) => [name, secret.secretArn]),
    );
    const externalBuckets = new Map<string, s3.IBucket>();
    const bucketNamed = (name: string | undefined): s3.IBucket => {
      if (name === undefined) return (this.payloadBucket as PayloadBucket).bucket;
      let bucket = externalBuckets.get(name);
      if (!bucket) {
        bucket = s3.Bucket.fromBucketName(this, `PayloadSource${externalBuckets.size + 1}`, name);
        externalBuckets.set(name, bucket);
      }
      return bucket;
    };
    const queues: Partial<Record<Consumer, ConsumerQueue>> = {};
    const functions: Partial<Record<Consumer, ConsumerFunction>> = {};
    const tenantDwellAlarms: Partial<Record<Consumer, cloudwatch.Alarm>> = {};
    const payloadLocations: Partial<Record<Consumer, PayloadLocation[]>> = {};
    for (const name of consumerNames) {
      const spec: ConsumerSpec<Topic> = topology.consumers[name];
      const topicSpec: TopicSpec = topology.topics[spec.topic];
      const needs = needsOf(spec);
      const thresholds = alarmThresholds(spec);
      const overrides: CourierConsumerOverrides = props.consumerOverrides?.[name] ?? {};
      const queue = new ConsumerQueue(this, `${pascalCase(name)}Queue`, {
        topic: this.topics[spec.topic].topic,
        visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
        maxReceiveCount: spec.maxReceiveCount,
        retentionPeriod: Duration.days(spec.retentionDays),
        deadLetterRetentionPeriod: Duration.days(DLQ_RETENTION_DAYS),
        ...(spec.filterPolicy ? { filterPolicy: renderFilterPolicy(spec.filterPolicy) } : {}),
        filterAttributeNames: filterAttributeNamesOf(topicSpec),
        oldestMessageAlarmThreshold: Duration.seconds(spec.oldestMessageAlarmSeconds),
        deadLetterAlarmThreshold: thresholds.deadLetters,
        // Behind a raised topic, SQS's maximum: a DLQ copy carries the failure reason as extra attributes.
        ...(isRaisedTopic(topicSpec) ? { maxMessageBytes: SQS_MAX_MESSAGE_BYTES } : {}),
        ...(overrides.queueProps ? { queueProps: overrides.queueProps } : {}),
        ...(overrides.deadLetterQueueProps ? { deadLetterQueueProps: overrides.deadLetterQueueProps } : {}),
      });
      const locations = payloadLocationSpecs(spec.topic, topicSpec).map((l) => ({
        bucket: bucketNamed(l.bucketName),
        prefix: l.prefix,
      }));
      const consumerFunction = new ConsumerFunction(this, `${pascalCase(name)}Consumer`, {
        ...functionDefaults,
        entry: isAbsolute(spec.handlerEntry) ? spec.handlerEntry : join(this.projectRoot, spec.handlerEntry),
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
        environment: consumerEnvironment(spec, {
          queueUrl: queue.queue.queueUrl,
          dlqUrl: queue.deadLetterQueue.queueUrl,
          secretArns,
          metricsNamespace: this.metricsNamespace,
          ...(this.idempotencyTable ? { idempotencyTable: this.idempotencyTable.tableName } : {}),
          payloadLocations: locations.map((l) => ({ bucket: l.bucket.bucketName, prefix: l.prefix })),
        }),
        ...(needs.nodeModules.length > 0 ? { nativeModules: needs.nodeModules } : {}),
        ...(overrides.functionProps ? { functionProps: overrides.functionProps } : {}),
        ...(overrides.bundling ? { bundling: overrides.bundling } : {}),
      });
      for (const secret of needs.secrets) this.secrets[secret]?.grantRead(consumerFunction.function);
      if (needs.idempotencyTable)
        this.grantIdempotencyKeys(consumerFunction.function, `${idempotencyKeyPrefix(name)}#`);
      for (const location of locations) {
        grantReadPayloadLocation(consumerFunction.function, location.bucket, location.prefix);
      }
      if (locations.length > 0) {
        payloadLocations[name] = locations.map((l) => ({ bucket: l.bucket.bucketName, prefix: l.prefix }));
      }
      if (topicSpec.tenant && !topicSpec.ordering) {
        // Per-tenant controls: the runtime reads its queue's tags and sends a paused tenant's records
        // back to its own queue to wait (lib/consumer/tenant-controls.ts).
        queue.queue.grant(consumerFunction.function, "sqs:ListQueueTags");
        grantSendToEncryptedQueue(queue.queue, consumerFunction.function);
        tenantDwellAlarms[name] = new QuietTenantDwellAlarm(this, `${pascalCase(name)}QuietTenantDwell`, {
          consumerName: name,
          metricsNamespace: this.metricsNamespace,
          threshold: Duration.seconds(thresholds.quietTenantDwellSeconds),
        }).alarm;
      }
      queues[name] = queue;
      functions[name] = consumerFunction;
    }
    const archives: Partial<Record<Topic, TopicArchive>> = {};
    for (const { name, settings } of archived) {
      const topicSpec: TopicSpec = topology.topics[name];
      archives[name] = new TopicArchive(this, `${pascalCase(name)}Archive`, {
        ...functionDefaults,
        topicName: name,
        topic: this.topics[name].topic,
        archiveBucket: this.archiveBucket as ArchiveBucket,
        ...(settings.subject ? { subject: settings.subject } : {}),
        ...(isRaisedTopic(topicSpec) ? { maxMessageBytes: SQS_MAX_MESSAGE_BYTES } : {}),
        // Where an offloading topic's payloads are: the archiver reads a pointer's payload for the
        // envelope's fields and subject (erasure finds it by them).
        payloadLocations: payloadLocationSpecs(name, topicSpec).map((l) => ({
          bucket: bucketNamed(l.bucketName),
          prefix: l.prefix,
        })),
      });
    }
    this.archives = archives;
    this.consumerQueues = queues as Record<Consumer, ConsumerQueue>;
    this.consumerFunctions = functions as Record<Consumer, ConsumerFunction>;
    this.quietTenantDwellAlarms = tenantDwellAlarms as Partial<Record<Consumer, cloudwatch.Alarm>>;
    this.payloadLocations = payloadLocations;

    const redrive = props.redrive ?? {};
    this.redrive = new RedriveFunction(this, "Redrive", {
      ...functionDefaults,
      description: "Moves dead-lettered messages back to their source queue",
      timeout: redrive.timeout ?? Duration.minutes(15),
      memorySize: redrive.memorySize ?? 512,
      maxRedrives: redrive.maxRedrives ?? DEFAULT_MAX_REDRIVES,
      environment: {
        POWERTOOLS_SERVICE_NAME: "redrive",
        POWERTOOLS_METRICS_NAMESPACE: this.metricsNamespace,
      },
      pairs: consumerNames.map((name) => ({
        name,
        queue: this.consumerQueues[name].queue,
        deadLetterQueue: this.consumerQueues[name].deadLetterQueue,
        subscriptionDeadLetterQueue: this.consumerQueues[name].subscriptionDeadLetterQueue,
        maxReceiveCount: topology.consumers[name].maxReceiveCount,
      })),
    });

    this.dashboard = new ConsumerDashboard(this, "Dashboard", {
      metricsNamespace: this.metricsNamespace,
      consumers: consumerNames.map((name) => ({
        name,
        queue: this.consumerQueues[name],
        consumerFunction: this.consumerFunctions[name],
        oldestMessageAlarmThreshold: Duration.seconds(topology.consumers[name].oldestMessageAlarmSeconds),
      })),
    });

    this.writeManifest(topicNames, consumerNames);
    acknowledgeCourierNagFindings(this);
  }

  /** A consumer's function, or an error listing the consumers. */
  public consumerFunction(name: Consumer): ConsumerFunction {
    return this.lookUp("consumer", this.consumerFunctions, name);
  }

  /** A consumer's queues, or an error listing the consumers. */
  public consumerQueue(name: Consumer): ConsumerQueue {
    return this.lookUp("consumer", this.consumerQueues, name);
  }

  /** A topic, or an error listing the topics. */
  public topic(name: Topic): EncryptedTopic {
    return this.lookUp("topic", this.topics, name);
  }

  /**
   * Read and write of the idempotency table's items whose key starts with `keyPrefix`, and no
   * others: GetItem, PutItem, UpdateItem, DeleteItem under a `dynamodb:LeadingKeys` condition, and
   * no Scan or Query (a Scan names no key, so the condition could not hold it). Each consumer's
   * function gets its own records' prefix; a team grants a prefix of its own (counters, say) the
   * same way. Without it (grantReadWriteData) five functions could read, scan and delete every
   * record in the table.
   */
  public grantIdempotencyKeys(grantee: iam.IGrantable, keyPrefix: string): void {
    if (!this.idempotencyTable) throw new Error("this stack has no idempotency table: no consumer needs one");
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
        resources: [this.idempotencyTable.tableArn],
        conditions: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [`${keyPrefix}*`] } },
      }),
    );
  }

  /** A secret of the topology, or an error listing the secrets. */
  public secret(name: string): secretsmanager.Secret {
    return this.lookUp("secret", this.secrets, name);
  }

  private lookUp<T>(kind: string, items: Readonly<Record<string, T>>, name: string): T {
    const item = Object.hasOwn(items, name) ? items[name] : undefined;
    if (item === undefined) {
      const known = Object.keys(items);
      throw new Error(
        `${this.node.path}: unknown ${kind} "${name}"; its ${kind}s: ${known.length > 0 ? known.join(", ") : "none"}`,
      );
    }
    return item;
  }

  /** What the manifest says of a topic's archive: where it is, and how its archiver runs (locally too). */
  private archiveManifest(name: Topic): Record<string, unknown> {
    const archive = this.archives[name] as TopicArchive;
    const settings = archiveSettingsOf(this.topology.topics[name]);
    const cfnFunction = archive.archiver.function.node.defaultChild as lambda.CfnFunction;
    const stack = Stack.of(this);
    return {
      bucket: (this.archiveBucket as ArchiveBucket).bucket.bucketName,
      retentionDays: settings?.retentionDays,
      ...(settings?.subject ? { subject: settings.subject } : {}),
      queueUrl: archive.queue.queue.queueUrl,
      queueArn: archive.queue.queue.queueArn,
      dlqUrl: archive.queue.deadLetterQueue.queueUrl,
      dlqArn: archive.queue.deadLetterQueue.queueArn,
      subscriptionDlqUrl: archive.queue.subscriptionDeadLetterQueue.queueUrl,
      functionName: archive.archiver.function.functionName,
      batchSize: archive.settings.batchSize,
      maxBatchingWindowSeconds: archive.settings.maxBatchingWindowSeconds,
      environment: Lazy.any({ produce: () => functionEnvironment(stack, cfnFunction) }),
    };
  }

  /** The manifest outputs (deployment/manifest.ts): JSON whose tokens resolve at deploy time. */
  private writeManifest(topicNames: readonly Topic[], consumerNames: readonly Consumer[]): void {
    const stack = Stack.of(this);
    const output = (key: string, value: unknown, description: string) =>
      new CfnOutput(this, key, { value: stack.toJsonString(value), description }).overrideLogicalId(key);
    output(
      STACK_MANIFEST_OUTPUT,
      {
        v: MANIFEST_VERSION,
        courier: courierVersion(),
        topics: topicNames,
        consumers: consumerNames,
        ...(this.payloadBucket ? { payloadBucket: this.payloadBucket.bucket.bucketName } : {}),
        ...(this.idempotencyTable ? { idempotencyTable: this.idempotencyTable.tableName } : {}),
        ...(this.archiveBucket ? { archiveBucket: this.archiveBucket.bucket.bucketName } : {}),
        secrets: Object.fromEntries(Object.entries(this.secrets).map(([n, s]) => [n, s.secretArn])),
        redrive: { functionName: this.redrive.function.functionName, maxRedrives: this.redrive.maxRedrives },
        alarmTopicArn: this.alarmTopic.topic.topicArn,
        dashboardName: this.dashboard.dashboard.dashboardName,
        metricsNamespace: this.metricsNamespace,
      },
      "courier: the stack's topics, consumers and shared resources",
    );
    for (const name of topicNames) {
      const spec: TopicSpec = this.topology.topics[name];
      output(
        topicManifestOutputKey(name),
        {
          name,
          arn: this.topics[name].topic.topicArn,
          description: spec.description,
          fifo: spec.ordering !== undefined,
          ...(spec.ordering ? { groupBy: spec.ordering.groupBy } : {}),
          ...(spec.tenant ? { tenant: spec.tenant.from } : {}),
          maxMessageBytes: topicMaxMessageBytes(spec),
          offloadLargePayloads: spec.offloadLargePayloads === true,
          current: { type: spec.current.type, version: spec.current.version },
          accepts: spec.accepts.map((c) => ({ type: c.type, version: c.version })),
          filterAttributeNames: filterAttributeNamesOf(spec),
          ...(this.archives[name] ? { archive: this.archiveManifest(name) } : {}),
        },
        `courier: topic ${name}`,
      );
    }
    for (const name of consumerNames) {
      const spec: ConsumerSpec<Topic> = this.topology.consumers[name];
      const queue = this.consumerQueues[name];
      const fn = this.consumerFunctions[name];
      const cfnFunction = fn.function.node.defaultChild as lambda.CfnFunction;
      output(
        consumerManifestOutputKey(name),
        {
          name,
          topic: spec.topic,
          description: spec.description,
          handlerEntry: spec.handlerEntry,
          queueUrl: queue.queue.queueUrl,
          queueArn: queue.queue.queueArn,
          dlqUrl: queue.deadLetterQueue.queueUrl,
          dlqArn: queue.deadLetterQueue.queueArn,
          subscriptionDlqUrl: queue.subscriptionDeadLetterQueue.queueUrl,
          subscriptionDlqArn: queue.subscriptionDeadLetterQueue.queueArn,
          functionName: fn.function.functionName,
          // `courier pause` disables this mapping.
          eventSourceMappingId: fn.eventSource.eventSourceMappingId,
          fifo: queue.fifo,
          ...(this.topology.topics[spec.topic].tenant
            ? { tenant: this.topology.topics[spec.topic].tenant?.from }
            : {}),
          maxReceiveCount: spec.maxReceiveCount,
          batchSize: spec.batchSize,
          maxBatchingWindowSeconds: spec.maxBatchingWindowSeconds,
          maxConcurrency: spec.maxConcurrency,
          timeoutSeconds: spec.timeoutSeconds,
          visibilityTimeoutSeconds: spec.visibilityTimeoutSeconds,
          backoff: { baseSeconds: spec.backoff.baseSeconds, maxSeconds: spec.backoff.maxSeconds },
          ...(spec.onPermanentFailure ? { onPermanentFailure: spec.onPermanentFailure } : {}),
          ...(spec.filterPolicy ? { filterPolicy: spec.filterPolicy } : {}),
          // As synthesized: variables the team adds with addEnvironment after the construct are in it.
          environment: Lazy.any({ produce: () => functionEnvironment(stack, cfnFunction) }),
        },
        `courier: consumer ${name}`,
      );
    }
  }
}

/**
 * The function's variables as the template will have them, NODE_OPTIONS and the OTLP exporter's
 * (Lambda's, pointing at its collector extension, not the handler's) aside.
 */
function functionEnvironment(stack: Stack, cfnFunction: lambda.CfnFunction): Record<string, unknown> {
  const resolved = stack.resolve(cfnFunction.environment) as
    | { variables?: Record<string, unknown> }
    | undefined;
  const { NODE_OPTIONS: _nodeOptions, ...variables } = resolved?.variables ?? {};
  for (const key of Object.keys(OTEL_LAMBDA_ENVIRONMENT)) delete variables[key];
  return variables;
}

interface ResolvedLocationSpec {
  /** undefined: the stack's payload bucket. */
  readonly bucketName: string | undefined;
  readonly prefix: string;
}

/**
 * Where a topic's consumers may read payloads: the stack's bucket under `<topic>/` when the topic
 * offloads, plus each location the topic names (the stack's bucket and `<topic>/` by default).
 */
function payloadLocationSpecs(topic: string, spec: TopicSpec): ResolvedLocationSpec[] {
  const specs: ResolvedLocationSpec[] = spec.offloadLargePayloads
    ? [{ bucketName: undefined, prefix: payloadPrefix(topic) }]
    : [];
  for (const location of spec.payloadLocations ?? []) {
    const candidate = { bucketName: location.bucketName, prefix: location.prefix ?? payloadPrefix(topic) };
    if (!specs.some((s) => s.bucketName === candidate.bucketName && s.prefix === candidate.prefix)) {
      specs.push(candidate);
    }
  }
  return specs;
}

/** What a topic's publisher sets as message attributes: the envelope's and every contract's filter fields. */
function filterAttributeNamesOf(spec: TopicSpec): string[] {
  return [
    ...ENVELOPE_ATTRIBUTE_NAMES,
    ...new Set(spec.accepts.flatMap((contract) => contract.filterAttributeNames)),
  ];
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

/** Every problem with the props, each naming the prop; nothing is built from a faulty input. */
function validateCourierProps<Topic extends string, Consumer extends string>(
  scope: Construct,
  id: string,
  props: CourierProps<Topic, Consumer>,
  runtime: lambda.Runtime,
): void {
  const fail = (prop: string, problems: readonly string[]) => {
    if (problems.length > 0)
      throw new InvalidConstructPropsError(scope, `${id}/${prop}`, problems.join("; "));
  };
  if (!props.topology || typeof props.topology !== "object")
    fail("topology", ["a topology (defineTopology) is required"]);
  fail("topology", topologyProblems(props.topology));
  const problem = runtimeProblem(runtime);
  fail("runtime", problem ? [problem] : []);
  const tracingIssue = tracingProblem(props.tracing, props.otelCollectorLayer);
  fail(
    tracingIssue?.startsWith("tracing") ? "tracing" : "otelCollectorLayer",
    tracingIssue ? [tracingIssue] : [],
  );
  const sdkIssue = awsSdkProblem(props.awsSdk);
  fail("awsSdk", sdkIssue ? [sdkIssue] : []);
  const root = resolve(props.projectRoot ?? process.cwd());
  fail("projectRoot", existsSync(root) ? [] : [`${root} does not exist`]);
  const consumers = Object.keys(props.topology.consumers);
  const unknown = Object.keys(props.consumerOverrides ?? {}).filter((name) => !consumers.includes(name));
  fail(
    "consumerOverrides",
    unknown.map((name) => `"${name}" is not a consumer of the topology (consumers: ${consumers.join(", ")})`),
  );
  const namespace = props.metricsNamespace;
  if (namespace !== undefined && !Token.isUnresolved(namespace)) {
    fail(
      "metricsNamespace",
      /^[A-Za-z0-9._/#:-]{1,255}$/.test(namespace) && !namespace.startsWith("AWS/")
        ? []
        : [
            `"${namespace}" is not a CloudWatch namespace of your own (1 to 255 of A-Z a-z 0-9 . - _ / # :, not AWS/)`,
          ],
    );
  }
  const stack = Stack.of(scope);
  if (stack.node.findAll().some((c) => c instanceof Courier)) {
    fail("scope", [
      `stack ${stack.node.path} already holds a Courier construct; its manifest outputs are per stack, so put one per stack`,
    ]);
  }
  const redrive = props.redrive ?? {};
  const memory = redrive.memorySize;
  fail(
    "redrive",
    [
      redrive.maxRedrives !== undefined && (!Number.isInteger(redrive.maxRedrives) || redrive.maxRedrives < 1)
        ? `maxRedrives must be a whole number of at least 1, got ${redrive.maxRedrives}`
        : "",
      memory !== undefined && (!Number.isInteger(memory) || memory < 128 || memory > 10_240)
        ? `memorySize must be 128..10240 MB, got ${memory}`
        : "",
      redrive.timeout && !Token.isUnresolved(redrive.timeout) && redrive.timeout.toSeconds() > 900
        ? `timeout must be at most 15 minutes, got ${redrive.timeout.toHumanString()}`
        : "",
    ].filter(Boolean),
  );
}
