/**
 * Pausing a consumer: its messages wait in its queue, none is lost, until it is resumed.
 *
 * Two switches, one per kind of poller:
 * - On AWS, Lambda's event source mapping: disabled, it stops receiving; messages in flight finish.
 * - Everywhere, a tag on the consumer's queue (`courier:paused`), which worker processes (`courier
 *   work`, `npm start`, containers) read every few seconds and then stop their pollers.
 *
 * Why a queue tag for the workers: it lives on the queue being paused (nothing else to deploy or
 * find), it works the same on LocalStack and AWS (SSM Parameter Store would need a parameter per
 * consumer and rights for every worker on a second service), a worker already holds rights on its
 * queue, and `ListQueueTags` is cheap. Written with the operator's credentials, read with the
 * worker's (sqs:ListQueueTags). A stack update leaves tags it does not manage alone.
 */
import {
  GetEventSourceMappingCommand,
  type LambdaClient,
  UpdateEventSourceMappingCommand,
} from "@aws-sdk/client-lambda";
import {
  ListQueueTagsCommand,
  type SQSClient,
  TagQueueCommand,
  UntagQueueCommand,
} from "@aws-sdk/client-sqs";

/** The queue tag that pauses a consumer's workers; its value is when it was paused (ISO time). */
export const PAUSE_TAG = "courier:paused";

export interface QueuePause {
  readonly paused: boolean;
  /** When it was paused, as the tag says. */
  readonly since?: string;
}

export async function readQueuePause(sqs: SQSClient, queueUrl: string): Promise<QueuePause> {
  const { Tags } = await sqs.send(new ListQueueTagsCommand({ QueueUrl: queueUrl }));
  const since = Tags?.[PAUSE_TAG];
  return since === undefined ? { paused: false } : { paused: true, since };
}

export async function setQueuePause(
  sqs: SQSClient,
  queueUrl: string,
  paused: boolean,
  now: Date = new Date(),
): Promise<void> {
  if (paused) {
    await sqs.send(new TagQueueCommand({ QueueUrl: queueUrl, Tags: { [PAUSE_TAG]: now.toISOString() } }));
  } else {
    await sqs.send(new UntagQueueCommand({ QueueUrl: queueUrl, TagKeys: [PAUSE_TAG] }));
  }
}

/** Lambda's words for a mapping's state: Enabled, Disabled, Enabling, Disabling, Updating, ... */
export interface MappingState {
  readonly uuid: string;
  readonly state: string;
}

/** Enables or disables a consumer's event source mapping; returns the state Lambda reports. */
export async function setEventSourceMappingEnabled(
  lambda: LambdaClient,
  uuid: string,
  enabled: boolean,
): Promise<MappingState> {
  const result = await lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: enabled }));
  return { uuid, state: result.State ?? (enabled ? "Enabling" : "Disabling") };
}

export async function eventSourceMappingState(lambda: LambdaClient, uuid: string): Promise<MappingState> {
  const result = await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
  return { uuid, state: result.State ?? "unknown" };
}

export interface ConsumerPauseResult {
  readonly consumer: string;
  readonly paused: boolean;
  /** The event source mapping's state after the change; absent where none is deployed (LocalStack). */
  readonly eventSourceMapping?: MappingState;
}

/**
 * Pauses or resumes one consumer: its event source mapping where it has one (Lambda), and the queue
 * tag its workers honour. Pausing disables the mapping before tagging and resuming untags before
 * enabling it, so a failure half-way leaves the consumer paused rather than half-running unseen.
 */
export async function setConsumerPaused(options: {
  readonly sqs: SQSClient;
  /** Needed when the consumer has an event source mapping. */
  readonly lambda?: LambdaClient;
  readonly consumer: {
    readonly name: string;
    readonly queueUrl: string;
    readonly eventSourceMappingId?: string;
  };
  readonly paused: boolean;
  readonly now?: Date;
}): Promise<ConsumerPauseResult> {
  const { sqs, lambda, consumer, paused } = options;
  const uuid = consumer.eventSourceMappingId;
  if (uuid && !lambda)
    throw new Error(`consumer "${consumer.name}" has an event source mapping; a Lambda client is needed`);
  let mapping: MappingState | undefined;
  if (paused) {
    if (uuid && lambda) mapping = await setEventSourceMappingEnabled(lambda, uuid, false);
    await setQueuePause(sqs, consumer.queueUrl, true, options.now);
  } else {
    await setQueuePause(sqs, consumer.queueUrl, false);
    if (uuid && lambda) mapping = await setEventSourceMappingEnabled(lambda, uuid, true);
  }
  return { consumer: consumer.name, paused, ...(mapping ? { eventSourceMapping: mapping } : {}) };
}
