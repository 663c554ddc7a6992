/**
 * The consumer runtime: `defineConsumer` turns a typed `handle(message, ctx)` into a Lambda handler
 * for SQS events with partial batch responses, retries with backoff, and dead-lettering with reasons.
 */

import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { AnyContract, ContractEnvelope } from "../contracts/index.ts";
import { sqsClient } from "../sqs-client.ts";
import { type BackoffSpec, backoffSeconds } from "./backoff.ts";
import { deadLetterMessage, errorClassOf, errorMessageOf, failureReason } from "./dead-letter.ts";
import { contractIndex, decodeBody } from "./decode.ts";
import { PermanentError } from "./errors.ts";
import type { FailureReason } from "./failure-attributes.ts";
import { type QueueAddresses, queueAddressesFromEnv } from "./runtime-config.ts";

/** What `handle` receives for a set of contracts: the union of their envelopes (narrow on type/version). */
export type EnvelopeOf<C> = C extends AnyContract ? ContractEnvelope<C> : never;

/** What the runtime must know of a consumer; courier's topology supplies it (src/deployment). */
export interface ConsumerRuntimeSpec<C extends AnyContract = AnyContract> {
  readonly name: string;
  /** Every contract the consumer accepts: old and new versions during a migration. */
  readonly accepts: readonly C[];
  /** On this receive a failing record is dead-lettered (exhausted) rather than retried. */
  readonly maxReceiveCount: number;
  readonly backoff: BackoffSpec;
  /** For `remainingTimeMs()` when no Lambda context says it. */
  readonly timeoutSeconds: number;
}

export interface ConsumerContext<N extends string = string> {
  readonly consumer: N;
  /** The producer's id for the message: the idempotency key for side effects. */
  readonly eventId: string;
  /** The SQS MessageId of this delivery (a redriven message gets a new one). */
  readonly messageId: string;
  /** ApproximateReceiveCount: 1 on the first delivery. */
  readonly receiveCount: number;
  /** The consumer's logger with eventId and messageId as persistent keys. */
  readonly logger: Logger;
  readonly record: SQSRecord;
  /** Milliseconds before the invocation times out. */
  remainingTimeMs(): number;
}

/** The parts of Powertools Metrics the runtime uses, so tests can pass a recorder. */
export type ConsumerMetrics = Pick<Metrics, "addMetric" | "publishStoredMetrics">;

/** Settings of a consumer handler other than its spec and `handle`: clients, clock, and the like. */
export interface ConsumerHandlerSettings {
  /** @default a new SQSClient with the default configuration chain */
  readonly sqs?: SQSClient;
  /** @default process.env.COURIER_QUEUE_URL, parsed at first invocation */
  readonly queueUrl?: string;
  /** @default process.env.COURIER_DLQ_URL, parsed at first invocation */
  readonly dlqUrl?: string;
  /** @default a Logger with serviceName = the consumer's name */
  readonly logger?: Logger;
  /** @default Metrics in namespace "courier", dimension service = the consumer's name */
  readonly metrics?: ConsumerMetrics;
  /** Source of jitter, in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** Clock in epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /**
   * Process a batch's records concurrently. Records of a standard queue are independent (no
   * ordering, one outcome each), and consumers are I/O bound (SES, SNS, webhooks, S3), so the batch
   * takes as long as its slowest record rather than the sum: that keeps a batch far from the
   * function timeout, which would otherwise fail all of it. Concurrency is bounded by the batch size.
   * Pass false for CPU- or memory-heavy work.
   * @default true
   */
  readonly processInParallel?: boolean;
  /** Where queue addresses come from when not passed. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

export interface ConsumerHandlerOptions<C extends AnyContract, N extends string = string>
  extends ConsumerHandlerSettings {
  readonly spec: ConsumerRuntimeSpec<C> & { readonly name: N };
  /** Throw to fail the record: a `PermanentError` dead-letters it at once, anything else retries it. */
  readonly handle: (message: EnvelopeOf<C>, ctx: ConsumerContext<N>) => unknown;
}

export type ConsumerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export const METRIC = {
  processed: "Processed",
  retried: "Retried",
  deadLettered: "DeadLettered",
  deadLetterFailed: "DeadLetterFailed",
  ageAtProcessing: "AgeAtProcessing",
} as const;

/** Outcome counts of one invocation, published as metrics when it ends. */
interface Tally {
  processed: number;
  retried: number;
  deadLettered: number;
  deadLetterFailed: number;
}

export function createConsumerHandler<C extends AnyContract, N extends string>(
  options: ConsumerHandlerOptions<C, N>,
): ConsumerHandler {
  const { spec } = options;
  const consumer = spec.name;
  const accepts: readonly AnyContract[] = spec.accepts;
  const contracts = contractIndex(accepts);
  // The contract's attributes (type, version, filter fields) are the ones to keep when a DLQ copy
  // must drop some to stay within SQS's 10-attribute limit.
  const priorityAttributes = [
    ...new Set(["type", "version", ...accepts.flatMap((c) => c.filterAttributeNames)]),
  ];
  const sqs = options.sqs ?? sqsClient();
  const logger = options.logger ?? new Logger({ serviceName: consumer });
  const metrics = options.metrics ?? new Metrics({ namespace: "courier", serviceName: consumer });
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const processInParallel = options.processInParallel ?? true;

  let addresses: QueueAddresses | undefined;
  const queueAddresses = (): QueueAddresses => {
    if (addresses) return addresses;
    const fromEnv =
      options.queueUrl !== undefined && options.dlqUrl !== undefined
        ? undefined
        : queueAddressesFromEnv(options.env ?? process.env);
    addresses = {
      queueUrl: options.queueUrl ?? (fromEnv as QueueAddresses).queueUrl,
      dlqUrl: options.dlqUrl ?? (fromEnv as QueueAddresses).dlqUrl,
    };
    return addresses;
  };

  const deadLetter = async (
    tally: Tally,
    record: SQSRecord,
    reason: FailureReason,
    eventId: string | undefined,
  ) => {
    try {
      await sqs.send(
        new SendMessageCommand(
          deadLetterMessage(record, reason, queueAddresses().dlqUrl, priorityAttributes),
        ),
      );
    } catch (sendError) {
      tally.deadLetterFailed += 1;
      logger.error("dead-lettering failed; reporting the record as failed so it is not lost", {
        messageId: record.messageId,
        eventId,
        reason,
        error: sendError as Error,
      });
      throw sendError;
    }
    tally.deadLettered += 1;
    logger.error("record dead-lettered", { messageId: record.messageId, eventId, reason });
  };

  // Written by hand because Powertools batch only reports a failed record; SQS then retries it
  // after the queue's fixed visibility timeout. SQS has no native backoff, so the growing delay
  // is set on the record itself before it is reported.
  const retryLater = async (
    tally: Tally,
    record: SQSRecord,
    receiveCount: number,
    error: unknown,
    eventId: string | undefined,
  ) => {
    const delaySeconds = backoffSeconds(receiveCount, spec.backoff, random);
    tally.retried += 1;
    try {
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueAddresses().queueUrl,
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: delaySeconds,
        }),
      );
    } catch (visibilityError) {
      // The record is still reported, so it is retried after the queue's own visibility timeout.
      logger.warn("could not set the retry delay; the queue's visibility timeout applies", {
        messageId: record.messageId,
        eventId,
        error: visibilityError as Error,
      });
    }
    logger.warn("record failed; retrying later", {
      messageId: record.messageId,
      eventId,
      receiveCount,
      retryInSeconds: delaySeconds,
      errorClass: errorClassOf(error),
      errorMessage: errorMessageOf(error),
    });
  };

  const processRecord = async (tally: Tally, record: SQSRecord, context: Context | undefined) => {
    const receiveCount = Number.parseInt(record.attributes?.ApproximateReceiveCount ?? "", 10) || 1;
    const sentAt = Number(record.attributes?.SentTimestamp);
    if (Number.isFinite(sentAt) && sentAt > 0) {
      metrics.addMetric(METRIC.ageAtProcessing, MetricUnit.Milliseconds, Math.max(0, now() - sentAt));
    }
    let eventId: string | undefined;
    try {
      const { message } = decodeBody(record.body, contracts);
      eventId = message.eventId;
      await options.handle(
        message as EnvelopeOf<C>,
        recordContext(record, message.eventId, receiveCount, context),
      );
      tally.processed += 1;
    } catch (error) {
      const failure = (kind: FailureReason["kind"]) =>
        failureReason({
          error,
          consumer,
          receiveCount,
          failedAt: new Date(now()),
          kind,
          messageId: record.messageId,
        });
      if (error instanceof PermanentError) return deadLetter(tally, record, failure("permanent"), eventId);
      // On the last allowed receive the runtime dead-letters the record itself, with its reason,
      // rather than leaving SQS to move it there without one.
      if (receiveCount >= spec.maxReceiveCount) {
        return deadLetter(tally, record, failure("exhausted"), eventId);
      }
      await retryLater(tally, record, receiveCount, error, eventId);
      throw error;
    }
  };

  const recordContext = (
    record: SQSRecord,
    eventId: string,
    receiveCount: number,
    context: Context | undefined,
  ): ConsumerContext<N> => {
    const startedAt = now();
    let child: Logger | undefined;
    return {
      consumer,
      eventId,
      messageId: record.messageId,
      receiveCount,
      record,
      // Built on first use: most handlers log little, and a child logger per record is not free.
      get logger() {
        child ??= logger.createChild({ persistentKeys: { eventId, messageId: record.messageId } });
        return child;
      },
      remainingTimeMs: () =>
        context?.getRemainingTimeInMillis?.() ?? spec.timeoutSeconds * 1000 - (now() - startedAt),
    };
  };

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    queueAddresses(); // fail the first batch loudly on a missing setting, before touching any record
    // On Lambda this adds the request id and function fields to every line (child loggers copy them).
    if (context?.awsRequestId) logger.addContext(context);
    // A processor per invocation: the local event source runs concurrent invocations in one
    // process, and a BatchProcessor keeps the batch's state on the instance.
    const processor = new BatchProcessor(EventType.SQS);
    const tally: Tally = { processed: 0, retried: 0, deadLettered: 0, deadLetterFailed: 0 };
    try {
      const recordHandler = (record: SQSRecord) => processRecord(tally, record, context);
      return await processPartialResponse(event, recordHandler, processor, {
        context,
        processInParallel,
        // Every record failed is still a partial response: each failure already carries its own
        // retry delay, which a thrown error (the whole batch back after the queue's timeout) would lose.
        throwOnFullBatchFailure: false,
      });
    } finally {
      // Counts are added once per batch (one EMF value each) rather than once per record.
      for (const [key, count] of Object.entries(tally) as Array<[keyof Tally, number]>) {
        if (count > 0) metrics.addMetric(METRIC[key], MetricUnit.Count, count);
      }
      metrics.publishStoredMetrics();
    }
  };
}
