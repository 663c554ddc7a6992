/**
 * A topic's history (issue: history and replay): the archive bucket a stack's archived topics share,
 * and per topic an archive queue subscribed to the topic with raw delivery off (SNS's MessageId,
 * publish time and attributes travel with each message), its DLQs and alarms (ConsumerQueue), and
 * the package's archiver function draining it into the bucket (ConsumerFunction).
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as s3 from "aws-cdk-lib/aws-s3";
import type * as sns from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { REPLAYS_PREFIX, topicArchivePrefix } from "../lib/archive/archive-keys.ts";
import { ARCHIVE_ENV } from "../lib/archive/archiver-config.ts";
import { PAYLOAD_LOCATIONS_ENV, payloadLocationsEnvValue } from "../topology/payload-locations.ts";
import type { BundledFunctionProps } from "./bundled-function.ts";
import { ConsumerFunction } from "./consumer-function.ts";
import { ConsumerQueue } from "./consumer-queue.ts";
import { InvalidConstructPropsError } from "./errors.ts";
import { grantReadPayloadLocation } from "./payload-bucket.ts";
import { ABORT_INCOMPLETE_UPLOADS_RULE, PRIVATE_BUCKET_PROPS } from "./private-bucket.ts";

/** Days a replay's checkpoint is kept: long enough to resume an interrupted replay. */
export const REPLAY_CHECKPOINT_DAYS = 30;

export interface ArchiveBucketProps {
  /** Each archived topic's retention in days (1 to 365): its prefix's lifecycle expiration. */
  readonly retentionDays: Readonly<Record<string, number>>;
}

/**
 * Encrypted (S3-managed keys), private, TLS only; each topic's prefix expires after its retention.
 * The erasure ledger (`archive/_erased/`) has no expiration: it must outlive every object it
 * covers, and it is one small object per erased subject. Retained when the stack is deleted:
 * history is what it is for.
 */
export class ArchiveBucket extends Construct {
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ArchiveBucketProps) {
    const bad = Object.entries(props.retentionDays).filter(
      ([, days]) => !Number.isInteger(days) || days < 1 || days > 365,
    );
    if (bad.length > 0) {
      throw new InvalidConstructPropsError(
        scope,
        id,
        bad.map(([topic, days]) => `retention of ${topic} must be 1 to 365 days, got ${days}`).join("; "),
      );
    }
    super(scope, id);
    this.bucket = new s3.Bucket(this, "Bucket", {
      ...PRIVATE_BUCKET_PROPS,
      lifecycleRules: [
        ...Object.entries(props.retentionDays).map(([topic, days]) => ({
          id: `expire-${topic}`,
          prefix: topicArchivePrefix(topic),
          expiration: Duration.days(days),
        })),
        {
          id: "expire-replay-checkpoints",
          prefix: REPLAYS_PREFIX,
          expiration: Duration.days(REPLAY_CHECKPOINT_DAYS),
        },
        ABORT_INCOMPLETE_UPLOADS_RULE,
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** PutObject under one topic's prefix: what that topic's archiver may write, and nothing else. */
  public grantArchiveWrite(grantee: iam.IGrantable, topic: string): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["s3:PutObject"],
        resources: [this.bucket.arnForObjects(`${topicArchivePrefix(topic)}*`)],
      }),
    );
  }
}

/** The archiver's batching: fewer, larger objects cost less (one PUT per batch and hour). */
export const ARCHIVER_SETTINGS = {
  standard: { batchSize: 100, maxBatchingWindowSeconds: 5 },
  // Lambda's FIFO event source: at most 10 records, no window.
  fifo: { batchSize: 10, maxBatchingWindowSeconds: 0 },
  timeoutSeconds: 60,
  memoryMb: 256,
  maxConcurrency: 2,
  maxReceiveCount: 5,
} as const;

/** courier's archiver handler module: compiled JavaScript when installed (dist/), TypeScript here (src/). */
export function archiverHandlerEntry(): string {
  for (const extension of [".js", ".ts"]) {
    const path = fileURLToPath(new URL(`../archive-function/handler${extension}`, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error("courier's archiver handler is missing beside its construct (a broken install?)");
}

export interface TopicArchiveProps extends Omit<BundledFunctionProps, "entry"> {
  readonly topicName: string;
  readonly topic: sns.ITopic;
  readonly archiveBucket: ArchiveBucket;
  /** The data field erasure goes by. @default - none */
  readonly subject?: string;
  /** SQS MaximumMessageSize of the archive queue (a raised topic's). @default - SQS's default */
  readonly maxMessageBytes?: number;
  /**
   * Where the topic's offloaded payloads are: the archiver reads a pointer's payload (GetObject
   * under each prefix) for the envelope's eventId, type and subject.
   * @default - none: pointers are archived without them
   */
  readonly payloadLocations?: readonly { readonly bucket: s3.IBucket; readonly prefix: string }[];
}

/** One topic's archive queue and archiver. */
export class TopicArchive extends Construct {
  public readonly queue: ConsumerQueue;
  public readonly archiver: ConsumerFunction;
  public readonly settings: { readonly batchSize: number; readonly maxBatchingWindowSeconds: number };
  /** The payload locations the archiver reads (bucket names may be tokens). */
  public readonly payloadLocations: readonly { readonly bucket: string; readonly prefix: string }[];

  constructor(scope: Construct, id: string, props: TopicArchiveProps) {
    super(scope, id);
    const fifo = props.topic.fifo;
    this.settings = fifo ? ARCHIVER_SETTINGS.fifo : ARCHIVER_SETTINGS.standard;
    const visibility = Duration.seconds(6 * ARCHIVER_SETTINGS.timeoutSeconds);
    this.queue = new ConsumerQueue(this, "Queue", {
      topic: props.topic,
      // The SNS notification, not the raw message: its MessageId and Timestamp are what the archive keeps.
      rawMessageDelivery: false,
      visibilityTimeout: visibility,
      maxReceiveCount: ARCHIVER_SETTINGS.maxReceiveCount,
      ...(props.maxMessageBytes !== undefined ? { maxMessageBytes: props.maxMessageBytes } : {}),
    });
    const {
      topicName,
      topic: _topic,
      archiveBucket,
      subject,
      maxMessageBytes: _size,
      payloadLocations = [],
      ...functionProps
    } = props;
    this.payloadLocations = payloadLocations.map((l) => ({ bucket: l.bucket.bucketName, prefix: l.prefix }));
    this.archiver = new ConsumerFunction(this, "Archiver", {
      ...functionProps,
      entry: archiverHandlerEntry(),
      description: `Archives every message of ${topicName} for courier replay`,
      timeout: Duration.seconds(ARCHIVER_SETTINGS.timeoutSeconds),
      memorySize: ARCHIVER_SETTINGS.memoryMb,
      queue: this.queue.queue,
      queueVisibilityTimeout: visibility,
      deadLetterQueue: this.queue.deadLetterQueue,
      batchSize: this.settings.batchSize,
      maxBatchingWindow: Duration.seconds(this.settings.maxBatchingWindowSeconds),
      maxConcurrency: ARCHIVER_SETTINGS.maxConcurrency,
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: `archive-${topicName}`,
        [ARCHIVE_ENV.bucket]: archiveBucket.bucket.bucketName,
        [ARCHIVE_ENV.topic]: topicName,
        ...(subject ? { [ARCHIVE_ENV.subject]: subject } : {}),
        ...(this.payloadLocations.length > 0
          ? { [PAYLOAD_LOCATIONS_ENV]: payloadLocationsEnvValue(this.payloadLocations) }
          : {}),
      },
    });
    archiveBucket.grantArchiveWrite(this.archiver.function, topicName);
    for (const location of payloadLocations) {
      grantReadPayloadLocation(this.archiver.function, location.bucket, location.prefix);
    }
  }
}
