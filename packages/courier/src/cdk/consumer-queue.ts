import { Duration, Names, RemovalPolicy, Stack, Token } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as kms from "aws-cdk-lib/aws-kms";
import type * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { InvalidConstructPropsError } from "./errors.ts";

export interface ConsumerQueueProps {
  /** The topic the queue subscribes to (raw message delivery). */
  readonly topic: sns.ITopic;
  /** How long a received message stays invisible to other receivers. */
  readonly visibilityTimeout: Duration;
  /**
   * Receives before SQS moves a message to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Retention of the source queue; must stay below the DLQ's, because a message's expiry counts from
   * its original enqueue time even after it moved to the DLQ.
   * @default Duration.days(4)
   */
  readonly retentionPeriod?: Duration;
  /** @default Duration.days(14) (the SQS maximum) */
  readonly deadLetterRetentionPeriod?: Duration;
  /** @default - every message of the topic is delivered */
  readonly filterPolicy?: Record<string, sns.SubscriptionFilter>;
  /**
   * The message attributes the topic's publisher sets. When given, a filter policy naming any other
   * attribute is rejected, because it would silently match nothing.
   * @default - filter policy attribute names are not checked
   */
  readonly filterAttributeNames?: readonly string[];
  /**
   * Key for SSE on the queue and its DLQ. The subscription grants SNS (for this topic only) use of it.
   * @default - a new customer-managed key with rotation; the AWS-managed SQS key cannot serve SNS
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Alarm when the oldest message in the source queue is older than this.
   * @default Duration.minutes(15)
   */
  readonly oldestMessageAlarmThreshold?: Duration;
  /**
   * Alarm when the DLQ or the subscription DLQ holds more messages than this.
   * @default 0
   */
  readonly deadLetterAlarmThreshold?: number;
  /**
   * SQS MaximumMessageSize of the queue, its DLQ and the subscription DLQ: at least the topic's
   * limit, so nothing SNS accepts is refused on the way in (or on the way to a DLQ).
   * @default - not set: SQS's default (1 MiB since August 2025)
   */
  readonly maxMessageBytes?: number;
  /**
   * A FIFO queue and FIFO DLQ, for a FIFO topic (and only for one: SNS refuses the mix). Dedup and
   * throughput are scoped to the message group (high-throughput FIFO).
   * @default - the topic's `fifo`
   */
  readonly fifo?: boolean;
  /**
   * Raw message delivery (the body is the published message). A FIFO subscription defaults to
   * the SNS envelope instead, because only it carries the topic's SequenceNumber, the order key of
   * a group that survives redrive (SQS's own sequence number is new on every send).
   * @default - true for a standard queue, false for a FIFO queue
   */
  readonly rawMessageDelivery?: boolean;
  /**
   * Escape hatch: props merged over courier's for the source queue (delivery delay, receive wait
   * time, ...). Its name, FIFO settings, encryption and DLQ stay courier's (the DLQ's redrive
   * allow policy and SNS depend on them), and visibility timeout and retention the topology's.
   * @default - none
   */
  readonly queueProps?: Partial<sqs.QueueProps>;
  /**
   * Escape hatch: props merged over courier's for the DLQ (its name, FIFO settings, encryption,
   * retention and redrive allow policy stay courier's).
   * @default - none
   */
  readonly deadLetterQueueProps?: Partial<sqs.QueueProps>;
}

/**
 * A consumer's source queue subscribed to a topic, its dead-letter queue, the subscription's
 * dead-letter queue, and the alarms that say when one needs a person: anything in either DLQ, or a
 * backlog older than the threshold.
 *
 * Two kinds of dead letter: the DLQ holds what the consumer failed to process (the runtime puts it
 * there with its reason, or SQS after maxReceiveCount); the subscription DLQ holds what SNS failed
 * to deliver to the queue at all (a key or queue policy mistake, a deleted queue), which SNS would
 * otherwise drop after its retries.
 */
export class ConsumerQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly encryptionKey: kms.IKey;
  public readonly subscription: sns.Subscription;
  public readonly visibilityTimeout: Duration;
  public readonly maxReceiveCount: number;
  /** Where SNS puts messages it could not deliver to `queue` (the subscription's redrive policy). */
  public readonly subscriptionDeadLetterQueue: sqs.Queue;
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  public readonly subscriptionDeadLetterAlarm: cloudwatch.Alarm;
  public readonly oldestMessageAlarm: cloudwatch.Alarm;
  public readonly fifo: boolean;

  constructor(scope: Construct, id: string, props: ConsumerQueueProps) {
    const { maxReceiveCount, retentionPeriod, deadLetterRetentionPeriod, deadLetterAlarmThreshold, fifo } =
      validateConsumerQueueProps(scope, id, props);
    super(scope, id);

    this.visibilityTimeout = props.visibilityTimeout;
    const sizeProps =
      props.maxMessageBytes === undefined ? {} : { maxMessageSizeBytes: props.maxMessageBytes };
    this.maxReceiveCount = maxReceiveCount;
    this.fifo = fifo;
    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, "Key", {
        description: `SSE for ${this.node.path} and its DLQ; SNS may use it for its topic`,
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.DESTROY,
        pendingWindow: Duration.days(7),
      });

    // The DLQ's redrive allow policy must name its source queue while the source's redrive policy
    // names the DLQ; referencing both ways would be a circular dependency. So the source queue gets
    // a name derived from its construct path (stack name included, so stack copies do not collide)
    // and the DLQ names it by an ARN built from that name.
    // A FIFO queue's name must end in ".fifo" (within SQS's 80 characters), its DLQ's too.
    const baseName = Names.uniqueResourceName(this, {
      maxLength: fifo ? 80 - ".fifo".length - "-sdlq".length : 80,
      separator: "-",
      allowedSpecialCharacters: "-_",
    });
    const queueName = fifo ? `${baseName}.fifo` : baseName;
    const fifoProps: Partial<sqs.QueueProps> = fifo
      ? {
          fifo: true,
          deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
          fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
        }
      : {};
    const queueArn = Stack.of(this).formatArn({ service: "sqs", resource: queueName });

    this.deadLetterQueue = new sqs.Queue(this, "DeadLetterQueue", {
      ...sizeProps,
      ...props.deadLetterQueueProps,
      // SQS requires a FIFO source's DLQ to be FIFO too; it keeps each group's order for redrive.
      ...(fifo ? { queueName: `${baseName}-dlq.fifo`, ...fifoProps } : {}),
      retentionPeriod: deadLetterRetentionPeriod,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      redriveAllowPolicy: {
        redrivePermission: sqs.RedrivePermission.BY_QUEUE,
        sourceQueues: [sqs.Queue.fromQueueArn(this, "SourceQueueRef", queueArn)],
      },
    });

    this.queue = new sqs.Queue(this, "Queue", {
      ...sizeProps,
      ...props.queueProps,
      queueName,
      ...fifoProps,
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });

    // Under the queue's key, which the subscription lets SNS use for this topic only. It is SNS's
    // alone: no queue may name it as its DLQ.
    this.subscriptionDeadLetterQueue = new sqs.Queue(this, "SubscriptionDeadLetterQueue", {
      ...sizeProps,
      // A FIFO subscription's DLQ must be FIFO too (SNS keeps the group and dedup ids).
      ...(fifo ? { queueName: `${baseName}-sdlq.fifo`, ...fifoProps } : {}),
      retentionPeriod: deadLetterRetentionPeriod,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.DENY_ALL },
    });

    // SqsSubscription adds the queue policy statement that lets only this topic (aws:SourceArn) send;
    // the subscription adds the same statement to the subscription DLQ's policy.
    this.subscription = props.topic.addSubscription(
      new subscriptions.SqsSubscription(this.queue, {
        rawMessageDelivery: props.rawMessageDelivery ?? !fifo,
        deadLetterQueue: this.subscriptionDeadLetterQueue,
        ...(props.filterPolicy ? { filterPolicy: props.filterPolicy } : {}),
      }),
    );

    const deadLetterAlarm = (alarmId: string, queue: sqs.Queue, what: string) =>
      new cloudwatch.Alarm(this, alarmId, {
        alarmDescription: `${this.node.path}: ${what}`,
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: deadLetterAlarmThreshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    this.deadLetterAlarm = deadLetterAlarm(
      "DeadLetterAlarm",
      this.deadLetterQueue,
      "messages in the dead-letter queue; inspect (courier dlq peek) and redrive",
    );
    this.subscriptionDeadLetterAlarm = deadLetterAlarm(
      "SubscriptionDeadLetterAlarm",
      this.subscriptionDeadLetterQueue,
      "SNS could not deliver to the queue (key or queue policy?); fix, then courier redrive",
    );

    const oldest = props.oldestMessageAlarmThreshold ?? Duration.minutes(15);
    this.oldestMessageAlarm = new cloudwatch.Alarm(this, "OldestMessageAlarm", {
      alarmDescription: `${this.node.path}: the oldest message waits longer than ${oldest.toHumanString()}`,
      metric: this.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: oldest.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}

/** Checked before anything is added to the tree, so a rejected queue leaves no half-built construct. */
function validateConsumerQueueProps(
  scope: Construct,
  id: string,
  props: ConsumerQueueProps,
): {
  maxReceiveCount: number;
  retentionPeriod: Duration;
  deadLetterRetentionPeriod: Duration;
  deadLetterAlarmThreshold: number;
  fifo: boolean;
} {
  const fail = (problem: string): never => {
    throw new InvalidConstructPropsError(scope, id, problem);
  };

  const maxReceiveCount = props.maxReceiveCount ?? 5;
  if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1) {
    fail(`maxReceiveCount must be a whole number of at least 1, got ${maxReceiveCount}`);
  }
  const retentionPeriod = props.retentionPeriod ?? Duration.days(4);
  const deadLetterRetentionPeriod = props.deadLetterRetentionPeriod ?? Duration.days(14);
  if (
    !Token.isUnresolved(retentionPeriod) &&
    !Token.isUnresolved(deadLetterRetentionPeriod) &&
    retentionPeriod.toSeconds() >= deadLetterRetentionPeriod.toSeconds()
  ) {
    fail(
      `source retention (${retentionPeriod.toHumanString()}) must be below the DLQ retention ` +
        `(${deadLetterRetentionPeriod.toHumanString()}): a message's expiry counts from its first ` +
        "enqueue, so it would expire in the DLQ before anyone could redrive it",
    );
  }
  const allowed = props.filterAttributeNames;
  if (allowed && props.filterPolicy) {
    for (const attribute of Object.keys(props.filterPolicy)) {
      if (!allowed.includes(attribute)) {
        fail(
          `filter policy names attribute "${attribute}", which the topic's publisher does not set ` +
            `(it sets: ${allowed.join(", ")}); the subscription would receive nothing`,
        );
      }
    }
  }
  const deadLetterAlarmThreshold = props.deadLetterAlarmThreshold ?? 0;
  if (!Number.isInteger(deadLetterAlarmThreshold) || deadLetterAlarmThreshold < 0) {
    fail(`deadLetterAlarmThreshold must be a whole number of 0 or more, got ${deadLetterAlarmThreshold}`);
  }
  const fifo = props.fifo ?? props.topic.fifo;
  if (fifo !== props.topic.fifo) {
    fail(
      props.topic.fifo
        ? "the topic is a FIFO topic, which delivers only to FIFO queues: leave fifo unset or true"
        : "a FIFO queue cannot subscribe to a standard topic, which sets no message group: use a FIFO topic",
    );
  }
  return { maxReceiveCount, retentionPeriod, deadLetterRetentionPeriod, deadLetterAlarmThreshold, fifo };
}
