/**
 * The consumer runtime: `defineConsumer` turns a typed `handle(message, ctx)` into a Lambda handler
 * for SQS events with partial batch responses, retries with backoff, and dead-lettering with reasons.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { SendMessageCommandInput } from "@aws-sdk/client-sqs";
import { context as otelContext, trace as otelTrace, type Span, SpanKind } from "@opentelemetry/api";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { AnyContract, ContractEnvelope } from "../contracts/index.ts";
import { PayloadLocationRefusedError } from "../payload-offloading/errors.ts";
import type { PayloadResolver } from "../payload-offloading/payload-resolver.ts";
import { declaredPayloadSize, RESERVED_ATTRIBUTE_NAMES } from "../payload-offloading/pointer.ts";
import { tenantGroupId, tenantGroupIdOfBody } from "../publisher/tenant.ts";
import { RUNTIME_ENV } from "../runtime-env.ts";
import { type SqsClientSource, sqsOnDemand } from "../sqs-on-demand.ts";
import { ATTR, MESSAGING_SYSTEM, XRAY_ANNOTATED } from "../trace/semconv.ts";
import { courierTracer, flushSpans, producerLink, recordFailure, spanContextOf } from "../trace/spans.ts";
import { parseXrayTraceHeader, type TraceContext, traceparentFromXray } from "../trace/trace-context.ts";
import { type BackoffSpec, backoffSeconds } from "./backoff.ts";
import { deadLetterMessage, failureReason } from "./dead-letter.ts";
import { contractIndex, decodeBody } from "./decode.ts";
import { EmfMetrics } from "./emf-metrics.ts";
import { PermanentError } from "./errors.ts";
import type { FailureReason } from "./failure-attributes.ts";
import { changeVisibilityInBatches, sendInBatches, type VisibilityChange } from "./failure-batches.ts";
import { isFifoEvent, type SkippedRecord, settleFifoRecords } from "./fifo.ts";
import {
  type FailureOutcomeDetails,
  hasRecordOutcomeListeners,
  publishRecordOutcome,
  type RecordOutcome,
} from "./outcomes.ts";
import { batchResponse, recordsOf, settleRecords } from "./partial-batch.ts";
import {
  type ConsumerContext,
  RecordContext,
  type RecordContextShared,
  traceLogKeys,
} from "./record-context.ts";
import { idempotencyScope, idempotencyScopeOf, REPLAY_ATTRIBUTE } from "./replay-lineage.ts";
import { type QueueAddresses, queueAddressesFromEnv } from "./runtime-config.ts";
import {
  controlOf,
  PAUSED_TENANT_DELAY_SECONDS,
  parkedMessage,
  readTenantControls,
  TENANT_QUARANTINED_ERROR,
  TenantControlCache,
} from "./tenant-controls.ts";
import { putMetricDataWriter, TenantDwell, type TenantMetricsWriter } from "./tenant-dwell.ts";
import { describeThrown } from "./thrown.ts";

export type { ConsumerContext };

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
  /**
   * On a FIFO queue, what a permanent failure does to its message group: "dead-letter" sends it
   * to the DLQ with its reason and the group goes on; "hold-group" retries it with backoff, so the
   * group waits behind it until its last allowed receive, then dead-letters it.
   * @default "dead-letter"
   */
  readonly onPermanentFailure?: "dead-letter" | "hold-group";
  /**
   * Its topic names a tenant (a standard queue's MessageGroupId): the runtime honours per-tenant
   * controls (`courier tenant pause|quarantine`, tenant-controls.ts) and reports dwell time per
   * tenant (tenant-dwell.ts).
   * @default false
   */
  readonly tenants?: boolean;
  /**
   * The topic's tenant field (`tenant.from`): where a record carries no MessageGroupId (a message
   * published without courier's publisher, or an event source that leaves the attribute out), its
   * tenant is read from the envelope's data instead, as the publisher would have set it.
   * @default - MessageGroupId only
   */
  readonly tenantFrom?: string;
}

/**
 * What the runtime needs of a metrics recorder: Powertools Metrics fits it, so does the default
 * EmfMetrics (the same EMF document, at a fraction of the cost per record), and tests pass their own.
 * `addMetadata` (optional for such recorders) puts a batch's correlation ids on its EMF line.
 */
export interface ConsumerMetrics {
  addMetric(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): unknown;
  addMetadata?(key: string, value: string): unknown;
  publishStoredMetrics(): unknown;
}

/** Settings of a consumer handler other than its spec and `handle`: clients, clock, and the like. */
export interface ConsumerHandlerSettings {
  /**
   * The client for failures (retry delays, dead letters), or a function that makes it: it is asked
   * for at the first failure, so a consumer whose records succeed never makes one.
   * @default a new SQSClient with the default configuration chain, made at the first failure
   */
  readonly sqs?: SqsClientSource;
  /** @default process.env.COURIER_QUEUE_URL, parsed at first invocation */
  readonly queueUrl?: string;
  /** @default process.env.COURIER_DLQ_URL, parsed at first invocation */
  readonly dlqUrl?: string;
  /** @default a Logger with serviceName = the consumer's name */
  readonly logger?: Logger;
  /** @default EmfMetrics in namespace "courier", dimension service = the consumer's name */
  readonly metrics?: ConsumerMetrics;
  /**
   * Where dwell time per tenant goes, for a consumer whose topic names a tenant (`spec.tenants`):
   * Powertools Metrics, one EMF document per tenant dimension value.
   * @default new Metrics({ namespace: "courier", serviceName: <consumer> })
   */
  readonly tenantMetrics?: TenantMetricsWriter;
  /**
   * How long a paused tenant's record waits before it is looked at again (SQS's DelaySeconds, 0 to
   * 900): the longest a release takes to show. @default 60
   */
  readonly pausedTenantDelaySeconds?: number;
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
  /**
   * Resolves a record that is a pointer to an offloaded payload (it carries ExtendedPayloadSize or
   * SQSLargePayloadSize) into the body it stands for, before decoding.
   * @default - none: a pointer record is dead-lettered (this consumer reads no payloads)
   */
  readonly payloads?: PayloadResolver;
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
  parked: "TenantParked",
} as const;

/**
 * The EMF metadata key that lists a batch's correlation ids. Metadata, not a dimension: one
 * dimension value per request would make a metric per request (CloudWatch bills each) and say
 * nothing a sum could not; metadata is only searchable text on the batch's EMF log line.
 */
export const CORRELATION_IDS_METADATA = "correlationIds";
/** Bounds the metadata on a large batch (up to 10,000 records); the rest are counted, not listed. */
export const MAX_CORRELATION_IDS_METADATA = 100;

/** Outcome counts of one invocation, published as metrics when it ends. */
interface Tally {
  processed: number;
  retried: number;
  deadLettered: number;
  deadLetterFailed: number;
  /** Records of a paused tenant sent back to wait (tenant-controls.ts). */
  parked: number;
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
  // The payload size attribute first: a DLQ copy of a pointer without it would no longer resolve.
  const priorityAttributes = [
    ...new Set([
      ...RESERVED_ATTRIBUTE_NAMES,
      "type",
      "version",
      ...accepts.flatMap((c) => c.filterAttributeNames),
    ]),
  ];
  const sqs = sqsOnDemand(options.sqs);
  const logger = options.logger ?? new Logger({ serviceName: consumer });
  const metrics = options.metrics ?? new EmfMetrics({ namespace: "courier", serviceName: consumer });
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const processInParallel = options.processInParallel ?? true;
  // Per-tenant figures and controls, only for a consumer whose topic names a tenant.
  const tenantDwell = spec.tenants
    ? new TenantDwell({
        metrics: options.tenantMetrics ?? defaultTenantMetrics(consumer, options.env ?? process.env, logger),
        now,
      })
    : undefined;
  const tenantSpec = spec.tenantFrom ? { tenant: { from: spec.tenantFrom } } : undefined;
  /** A record's tenant: its MessageGroupId, else the tenant field of its data (decoded, or its body). */
  const tenantOf = (record: SQSRecord, data?: unknown): string | undefined => {
    const group = (record.attributes as { MessageGroupId?: string } | undefined)?.MessageGroupId;
    if (group) return group;
    if (!tenantSpec) return undefined;
    if (data !== undefined) return tenantGroupId(tenantSpec, data);
    return tenantGroupIdOfBody(tenantSpec, record.body);
  };
  const recordDwell = (record: SQSRecord, occurredAt: string, data: unknown): void => {
    const tenant = tenantOf(record, data);
    if (tenant && tenantDwell) tenantDwell.record(tenant, now() - Date.parse(occurredAt));
  };

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

  // A record's outcome, settled before any SQS call so the calls for a batch's failures are batched.
  type Outcome =
    | { readonly kind: "processed" }
    | {
        readonly kind: "retry";
        readonly record: SQSRecord;
        readonly span: Span | undefined;
        readonly eventId: string | undefined;
        readonly trace: TraceContext | undefined;
        readonly receiveCount: number;
        readonly durationMs: number;
        readonly error: unknown;
        readonly receiptHandle: string;
        readonly visibilityTimeout: number;
      }
    | {
        readonly kind: "dead-letter";
        readonly record: SQSRecord;
        readonly span: Span | undefined;
        readonly eventId: string | undefined;
        readonly trace: TraceContext | undefined;
        readonly durationMs: number;
        readonly reason: FailureReason;
        readonly message: SendMessageCommandInput;
      };
  type Retry = Extract<Outcome, { kind: "retry" }>;
  const PROCESSED: Outcome = Object.freeze({ kind: "processed" });
  type DeadLetter = Extract<Outcome, { kind: "dead-letter" }>;

  // A synchronous handle settles its record without a promise: no microtask per record.
  /** The fields every published outcome of a record has. */
  const outcomeFields = (
    record: SQSRecord,
    eventId: string | undefined,
    receiveCount: number,
    durationMs: number,
    trace: TraceContext | undefined,
  ) => ({
    consumer,
    ...(eventId ? { eventId } : {}),
    ...(trace ? { correlationId: trace.correlationId } : {}),
    messageId: record.messageId,
    receiveCount,
    at: now(),
    durationMs,
  });

  const processed = (
    record: SQSRecord,
    eventId: string,
    receiveCount: number,
    startedAt: number,
    trace: TraceContext | undefined,
    span: Span | undefined,
  ) => {
    if (span) {
      span.setAttribute(ATTR.outcome, "processed");
      span.end();
    }
    if (!hasRecordOutcomeListeners()) return PROCESSED;
    publishRecordOutcome({
      ...outcomeFields(record, eventId, receiveCount, now() - startedAt, trace),
      outcome: "processed",
    });
    return PROCESSED;
  };

  /** Tells a failure's outcome to a listener; true when one took it (then no log line of our own). */
  const reportFailure = (item: Retry | DeadLetter, outcome: FailureOutcomeDetails): boolean =>
    publishRecordOutcome({
      ...outcomeFields(
        item.record,
        item.eventId,
        item.kind === "retry" ? item.receiveCount : item.reason.receiveCount,
        item.durationMs,
        item.trace,
      ),
      ...outcome,
    } as RecordOutcome);

  const processRecord = (
    record: SQSRecord,
    context: Context | undefined,
    fifo: boolean,
    correlationIds: Set<string>,
    batch: BatchSpan | undefined,
  ): Outcome | Promise<Outcome> => {
    const startedAt = now();
    const span = batch ? startRecordSpan(batch, record) : undefined;
    let receiveCount = 1;
    try {
      receiveCount = Number.parseInt(record.attributes?.ApproximateReceiveCount ?? "", 10) || 1;
      const sentAt = Number(record.attributes?.SentTimestamp);
      if (Number.isFinite(sentAt) && sentAt > 0) {
        metrics.addMetric(METRIC.ageAtProcessing, MetricUnit.Milliseconds, Math.max(0, now() - sentAt));
      }
      const declaredBytes = declaredPayloadSize(record.messageAttributes);
      if (declaredBytes === undefined)
        return processBody(
          record,
          record.body,
          context,
          fifo,
          receiveCount,
          startedAt,
          correlationIds,
          batch,
          span,
        );
      // A pointer: resolved first; the record (and any DLQ copy of it) keeps the pointer as it came.
      if (!options.payloads) {
        throw new PayloadLocationRefusedError(
          "record points to an offloaded payload; this consumer reads none",
        );
      }
      const count = receiveCount;
      return options.payloads(record.body, declaredBytes).then(
        (body) => processBody(record, body, context, fifo, count, startedAt, correlationIds, batch, span),
        (error: unknown) => failedOutcome(record, undefined, undefined, count, error, startedAt, fifo, span),
      );
    } catch (error) {
      return failedOutcome(record, undefined, undefined, receiveCount, error, startedAt, fifo, span);
    }
  };

  const processBody = (
    record: SQSRecord,
    body: string,
    context: Context | undefined,
    fifo: boolean,
    receiveCount: number,
    startedAt: number,
    correlationIds: Set<string>,
    batch: BatchSpan | undefined,
    span: Span | undefined,
  ): Outcome | Promise<Outcome> => {
    let eventId: string | undefined;
    let trace: TraceContext | undefined;
    try {
      const { message, snsSequenceNumber } = decodeBody(body, contracts);
      eventId = message.eventId;
      trace = message.trace;
      if (trace) correlationIds.add(trace.correlationId);
      if (span && batch) describeRecordSpan(batch, span, message.eventId, message.type, trace);
      const recordContext = new RecordContext(
        shared,
        record,
        message.eventId,
        receiveCount,
        context,
        now(),
        snsSequenceNumber,
        trace,
      );
      // A reprocessing replay's record runs in its run's idempotency scope (replay-lineage.ts);
      // live records skip the lookup's cost beyond one attribute read.
      const scope = record.messageAttributes?.[REPLAY_ATTRIBUTE] ? idempotencyScopeOf(record) : undefined;
      const invoke = () =>
        scope
          ? idempotencyScope.run(scope, () => options.handle(message as EnvelopeOf<C>, recordContext))
          : options.handle(message as EnvelopeOf<C>, recordContext);
      // The handler's own spans (its SDK calls, fetch) nest under the record's.
      const handled = span
        ? otelContext.with(otelTrace.setSpan(batch?.context ?? otelContext.active(), span), invoke)
        : invoke();
      if (!isThenable(handled)) {
        if (tenantDwell) recordDwell(record, message.occurredAt, message.data);
        return processed(record, message.eventId, receiveCount, startedAt, trace, span);
      }
      const messageEventId = eventId;
      const messageTrace = trace;
      const occurredAt = message.occurredAt;
      const data = message.data;
      return Promise.resolve(handled).then(
        () => {
          if (tenantDwell) recordDwell(record, occurredAt, data);
          return processed(record, messageEventId, receiveCount, startedAt, messageTrace, span);
        },
        (error: unknown) =>
          failedOutcome(record, messageEventId, messageTrace, receiveCount, error, startedAt, fifo, span),
      );
    } catch (error) {
      // Any value at all may arrive here (`throw undefined`, a string, a frozen object): the reason
      // and log lines describe it (describeThrown), and only this record fails. A promise rejected
      // without a reason arrives as `undefined` in the rejection handler above, likewise.
      return failedOutcome(record, eventId, trace, receiveCount, error, startedAt, fifo, span);
    }
  };

  const failedOutcome = (
    record: SQSRecord,
    eventId: string | undefined,
    trace: TraceContext | undefined,
    receiveCount: number,
    error: unknown,
    startedAt: number,
    fifo: boolean,
    span: Span | undefined,
  ): Outcome => {
    const durationMs = now() - startedAt;
    if (span) recordFailure(span, error);
    const permanent = error instanceof PermanentError;
    const lastReceive = receiveCount >= spec.maxReceiveCount;
    // A FIFO consumer may choose to hold a poison pill's group behind it until its last receive.
    const holdGroup = permanent && fifo && spec.onPermanentFailure === "hold-group" && !lastReceive;
    // On the last allowed receive the runtime dead-letters the record itself, with its reason,
    // rather than leaving SQS to move it there without one.
    if ((permanent && !holdGroup) || lastReceive) {
      const reason = failureReason({
        error,
        consumer,
        receiveCount,
        failedAt: new Date(now()),
        kind: permanent ? "permanent" : "exhausted",
        messageId: record.messageId,
      });
      const message = deadLetterMessage(record, reason, queueAddresses().dlqUrl, priorityAttributes);
      span?.setAttributes({ [ATTR.deadLetterReason]: reason.kind, [ATTR.errorMessage]: reason.message });
      return { kind: "dead-letter", record, span, eventId, trace, durationMs, reason, message };
    }
    const visibilityTimeout = backoffSeconds(receiveCount, spec.backoff, random);
    span?.setAttribute(ATTR.retryDelaySeconds, visibilityTimeout);
    return {
      kind: "retry",
      record,
      span,
      eventId,
      trace,
      receiveCount,
      durationMs,
      error,
      receiptHandle: record.receiptHandle,
      visibilityTimeout,
    };
  };

  // Written by hand because Powertools batch only reports a failed record; SQS then retries it
  // after the queue's fixed visibility timeout. SQS has no native backoff, so the growing delay
  // is set on the records themselves (one batch call per 10) before they are reported.
  // On a FIFO queue the records skipped behind a failure get their group's delay in the same calls.
  const retryLater = async (
    tally: Tally,
    retries: readonly Retry[],
    skipped: readonly SkippedRecord[] = [],
  ): Promise<void> => {
    if (retries.length === 0 && skipped.length === 0) return;
    tally.retried += retries.length;
    const changes: Array<Retry | (SkippedRecord & VisibilityChange)> = [...retries, ...skipped];
    const outcomes = await changeVisibilityInBatches(await sqs(), queueAddresses().queueUrl, changes);
    for (const { item, error } of outcomes) {
      if (!("kind" in item)) {
        if (error !== undefined) {
          logger.warn(
            "could not hold a skipped record with its group; the queue's visibility timeout applies",
            {
              messageId: item.record.messageId,
              error: error as Error,
            },
          );
        }
        continue;
      }
      if (error !== undefined) {
        // The record is still reported, so it is retried after the queue's own visibility timeout.
        logger.warn("could not set the retry delay; the queue's visibility timeout applies", {
          messageId: item.record.messageId,
          eventId: item.eventId,
          ...traceLogKeys(item.trace),
          error: error as Error,
        });
      }
      if (item.span) {
        item.span.setAttributes({
          [ATTR.outcome]: "retried",
          [ATTR.retryDelaySeconds]: error === undefined ? item.visibilityTimeout : 0,
        });
        item.span.end();
      }
      const thrown = describeThrown(item.error);
      const reported = reportFailure(item, {
        outcome: "retried",
        errorClass: thrown.errorClass,
        errorMessage: thrown.message,
        retryInSeconds: item.visibilityTimeout,
        retryDelaySet: error === undefined,
      });
      if (reported) continue;
      logger.warn("record failed; retrying later", {
        messageId: item.record.messageId,
        eventId: item.eventId,
        ...traceLogKeys(item.trace),
        receiveCount: item.receiveCount,
        retryInSeconds: item.visibilityTimeout,
        errorClass: thrown.errorClass,
        errorMessage: thrown.message,
      });
    }
  };

  /** Sends the DLQ copies; returns the message ids SQS did not confirm, which must be reported. */
  const deadLetterAll = async (tally: Tally, deadLetters: readonly DeadLetter[]): Promise<string[]> => {
    if (deadLetters.length === 0) return [];
    const notSent: string[] = [];
    const outcomes = await sendInBatches(await sqs(), queueAddresses().dlqUrl, deadLetters);
    for (const { item, error } of outcomes) {
      const { record, eventId, reason } = item;
      const traceKeys = traceLogKeys(item.trace);
      if (item.span) {
        item.span.setAttribute(ATTR.outcome, error === undefined ? "dead-lettered" : "dead-letter-failed");
        item.span.end();
      }
      if (error === undefined) {
        tally.deadLettered += 1;
        const failure = { errorClass: reason.errorClass, errorMessage: reason.message };
        if (reportFailure(item, { outcome: "dead-lettered", kind: reason.kind, ...failure })) continue;
        logger.error("record dead-lettered", { messageId: record.messageId, eventId, ...traceKeys, reason });
        continue;
      }
      tally.deadLetterFailed += 1;
      notSent.push(record.messageId);
      reportFailure(item, {
        outcome: "dead-letter-failed",
        errorClass: reason.errorClass,
        errorMessage: reason.message,
      });
      logger.error("dead-lettering failed; reporting the record as failed so it is not lost", {
        messageId: record.messageId,
        eventId,
        ...traceKeys,
        reason,
        error: error as Error,
      });
    }
    return notSent;
  };

  const shared: RecordContextShared<N> = { consumer, logger, timeoutSeconds: spec.timeoutSeconds, now };

  const tenantControls = spec.tenants
    ? new TenantControlCache({
        // Tenant consumers load the SQS client at their first batch (the controls are queue tags).
        read: async () => readTenantControls(await sqs(), queueAddresses().queueUrl),
        now,
        onError: (error) =>
          logger.warn("could not read the tenant controls (queue tags); keeping what was known", {
            error: error as Error,
          }),
      })
    : undefined;

  /**
   * Records of a paused or quarantined tenant (a standard queue's): taken out before anything runs.
   * A paused tenant's record is sent back to wait (parked); a quarantined one's is dead-lettered.
   */
  const heldByTenant = async (
    records: readonly SQSRecord[],
  ): Promise<{ run: readonly SQSRecord[]; park: readonly SQSRecord[]; quarantine: DeadLetter[] }> => {
    const none = { run: records, park: [], quarantine: [] };
    if (!tenantControls) return none;
    const controls = await tenantControls.get();
    if (controls.size === 0) return none;
    const run: SQSRecord[] = [];
    const park: SQSRecord[] = [];
    const quarantine: DeadLetter[] = [];
    for (const record of records) {
      const control = controlOf(tenantOf(record), controls);
      if (!control) run.push(record);
      else if (control.state === "paused") park.push(record);
      else {
        const receiveCount = Number.parseInt(record.attributes?.ApproximateReceiveCount ?? "", 10) || 1;
        const reason: FailureReason = {
          errorClass: TENANT_QUARANTINED_ERROR,
          message: `tenant "${control.tenant}" is quarantined on ${consumer} since ${control.since} (courier tenant release to end it)`,
          consumer,
          receiveCount,
          failedAt: new Date(now()).toISOString(),
          kind: "tenant-quarantined",
          messageId: record.messageId,
        };
        const message = deadLetterMessage(record, reason, queueAddresses().dlqUrl, priorityAttributes);
        quarantine.push({
          kind: "dead-letter",
          record,
          span: undefined,
          eventId: eventIdOf(record.body),
          trace: undefined,
          durationMs: 0,
          reason,
          message,
        });
      }
    }
    return { run, park, quarantine };
  };

  /** Sends a paused tenant's records back to wait; returns the message ids SQS did not take. */
  const parkAll = async (tally: Tally, records: readonly SQSRecord[]): Promise<string[]> => {
    if (records.length === 0) return [];
    const { queueUrl } = queueAddresses();
    const delay = options.pausedTenantDelaySeconds ?? PAUSED_TENANT_DELAY_SECONDS;
    const items = records.map((record) => ({ record, message: parkedMessage(record, queueUrl, delay) }));
    const notParked: string[] = [];
    for (const { item, error } of await sendInBatches(await sqs(), queueUrl, items)) {
      if (error === undefined) {
        tally.parked += 1;
        continue;
      }
      // Reported failed: it comes back after the visibility timeout and is looked at again.
      notParked.push(item.record.messageId);
      logger.warn(
        "could not send a paused tenant's record back to wait; it returns after its visibility timeout",
        {
          messageId: item.record.messageId,
          error: error as Error,
        },
      );
    }
    return notParked;
  };

  const handleBatch = async (
    event: SQSEvent,
    context: Context,
    correlationIds: Set<string>,
    batch: BatchSpan | undefined,
  ): Promise<SQSBatchResponse> => {
    queueAddresses(); // fail the first batch loudly on a missing setting, before touching any record
    const records = recordsOf(event);
    // On Lambda this adds the request id and function fields to every line (child loggers copy them).
    if (context?.awsRequestId) logger.addContext(context);
    // Per invocation: the local event source runs concurrent invocations in one process.
    const tally: Tally = { processed: 0, retried: 0, deadLettered: 0, deadLetterFailed: 0, parked: 0 };
    try {
      // A FIFO batch runs in order and skips the rest of a failed group (fifo.ts).
      const fifo = isFifoEvent(records);
      // A paused or quarantined tenant's records never reach the handler (standard queues only).
      const held = fifo ? { run: records, park: [], quarantine: [] } : await heldByTenant(records);
      let outcomes: Outcome[];
      let skipped: SkippedRecord[] = [];
      if (fifo) {
        ({ outcomes, skipped } = await settleFifoRecords<Outcome>(
          records,
          (record) => processRecord(record, context, true, correlationIds, batch),
          (outcome) => (outcome.kind === "retry" ? outcome.visibilityTimeout : undefined),
        ));
      } else {
        outcomes = await settleRecords<Outcome>(
          held.run,
          (record) => processRecord(record, context, false, correlationIds, batch),
          processInParallel,
        );
      }
      const retries: Retry[] = [];
      const deadLetters: DeadLetter[] = [...held.quarantine];
      for (const outcome of outcomes) {
        if (outcome.kind === "processed") tally.processed += 1;
        else if (outcome.kind === "retry") retries.push(outcome);
        else deadLetters.push(outcome);
      }
      // The common batch, all processed, returns without a promise or an SQS call for failures.
      if (
        retries.length === 0 &&
        skipped.length === 0 &&
        deadLetters.length === 0 &&
        held.park.length === 0
      ) {
        return { batchItemFailures: [] };
      }
      const [, notDeadLettered, notParked] = await Promise.all([
        retryLater(tally, retries, skipped),
        deadLetterAll(tally, deadLetters),
        parkAll(tally, held.park),
      ]);
      // Every record failed is still a partial response: each failure already carries its own
      // retry delay, which a thrown error (the whole batch back after the queue's timeout) would lose.
      const failed = new Set([
        ...retries.map((r) => r.record.messageId),
        ...skipped.map((r) => r.record.messageId),
        ...notDeadLettered,
        ...notParked,
      ]);
      return batchResponse(records, failed);
    } finally {
      // Counts are added once per batch (one EMF value each) rather than once per record.
      for (const [key, count] of Object.entries(tally) as Array<[keyof Tally, number]>) {
        if (count > 0) metrics.addMetric(METRIC[key], MetricUnit.Count, count);
      }
      if (correlationIds.size > 0)
        metrics.addMetadata?.(CORRELATION_IDS_METADATA, metadataList(correlationIds));
      metrics.publishStoredMetrics();
      tenantDwell?.flush();
    }
  };

  // One CONSUMER span per batch (OpenTelemetry's messaging conventions for batch receipt), a child
  // per record with its outcome; none at all, and no per-record work, where no SDK records them.
  return async (event, context) => {
    const batch = startBatchSpan(consumer, event, () => queueAddresses().queueUrl);
    if (!batch) return handleBatch(event, context, new Set(), undefined);
    try {
      const response = await otelContext.with(batch.context, () =>
        handleBatch(event, context, new Set(), batch),
      );
      batch.span.setAttribute("courier.failed_count", response.batchItemFailures.length);
      return response;
    } catch (error) {
      recordFailure(batch.span, error);
      throw error;
    } finally {
      batch.span.end();
      // On Lambda the function may be frozen as soon as it returns: export the batch's spans first.
      await flushSpans();
    }
  };
}

/** A batch's span, the context its records' spans are children of, and its queue's name. */
interface BatchSpan {
  readonly span: Span;
  readonly context: ReturnType<typeof otelContext.active>;
  readonly queue: string;
  readonly consumer: string;
}

/** The queue's name from the records' source ARN, else from the queue URL; "unknown" when neither says. */
function queueNameOf(event: SQSEvent | undefined, queueUrl: () => string): string {
  const arn = event?.Records?.[0]?.eventSourceARN;
  if (arn) return arn.slice(arn.lastIndexOf(":") + 1);
  try {
    const url = queueUrl();
    return url.slice(url.lastIndexOf("/") + 1) || "unknown";
  } catch {
    return "unknown";
  }
}

/** The active context, else Lambda's X-Ray trace of this invocation as a remote parent. */
function invocationParent(): ReturnType<typeof otelContext.active> {
  const active = otelContext.active();
  if (otelTrace.getSpan(active)) return active;
  const header = parseXrayTraceHeader(process.env._X_AMZN_TRACE_ID);
  const parent = header ? spanContextOf(traceparentFromXray(header)) : undefined;
  return parent ? otelTrace.setSpanContext(active, parent) : active;
}

function startBatchSpan(consumer: string, event: SQSEvent, queueUrl: () => string): BatchSpan | undefined {
  const tracer = courierTracer();
  const queue = queueNameOf(event, queueUrl);
  // On Lambda with active tracing the batch continues the invocation's X-Ray trace (Lambda sets
  // _X_AMZN_TRACE_ID per invocation), so X-Ray draws it under the function and samples alike.
  const span = tracer.startSpan(
    `process ${queue}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        [ATTR.messagingSystem]: MESSAGING_SYSTEM.sqs,
        [ATTR.destinationName]: queue,
        [ATTR.operationType]: "process",
        [ATTR.operationName]: "process",
        [ATTR.batchMessageCount]: event?.Records?.length ?? 0,
        [ATTR.consumer]: consumer,
      },
    },
    invocationParent(),
  );
  if (!span.isRecording()) {
    span.end();
    return undefined;
  }
  return { span, context: otelTrace.setSpan(otelContext.active(), span), queue, consumer };
}

/** A record's span, a child of its batch's; its eventId, trace link and outcome come later. */
function startRecordSpan(batch: BatchSpan, record: SQSRecord): Span {
  return courierTracer().startSpan(
    `handle ${batch.consumer}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        [ATTR.messagingSystem]: MESSAGING_SYSTEM.sqs,
        [ATTR.destinationName]: batch.queue,
        [ATTR.operationType]: "process",
        [ATTR.messageId]: record.messageId,
        [ATTR.bodySize]: record.body?.length ?? 0,
        [ATTR.consumer]: batch.consumer,
        [ATTR.receiveCount]: Number.parseInt(record.attributes?.ApproximateReceiveCount ?? "", 10) || 1,
        [ATTR.xrayAnnotations]: XRAY_ANNOTATED,
      },
    },
    batch.context,
  );
}

/** The decoded envelope's identity on the record's span, and a link to where it was produced. */
function describeRecordSpan(
  batch: BatchSpan,
  span: Span,
  eventId: string,
  type: string,
  trace: TraceContext | undefined,
): void {
  span.setAttributes({
    [ATTR.eventId]: eventId,
    [ATTR.messageType]: type,
    ...(trace ? { [ATTR.correlationId]: trace.correlationId } : {}),
  });
  const link = producerLink(trace);
  if (link) {
    // Both: the batch span per the conventions, the record's so one message's journey joins up.
    batch.span.addLink(link);
    span.addLink(link);
  }
}

/** Space-separated (ids hold no spaces), at most MAX_CORRELATION_IDS_METADATA of them. */
function metadataList(ids: ReadonlySet<string>): string {
  const listed = [...ids].slice(0, MAX_CORRELATION_IDS_METADATA);
  const more = ids.size - listed.length;
  return more > 0 ? `${listed.join(" ")} (+${more} more)` : listed.join(" ");
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** The envelope's eventId, for the log line and outcome of a record that is not run; undefined when unreadable. */
function eventIdOf(body: string): string | undefined {
  try {
    const id = (JSON.parse(body) as { eventId?: unknown } | null)?.eventId;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Powertools Metrics (EMF lines, which CloudWatch Logs turns into metrics on Lambda), or, where the
 * worker says no EMF is extracted (LocalStack), PutMetricData.
 */
function defaultTenantMetrics(consumer: string, env: NodeJS.ProcessEnv, logger: Logger): TenantMetricsWriter {
  const namespace = env.POWERTOOLS_METRICS_NAMESPACE || "courier";
  if (env[RUNTIME_ENV.tenantMetrics] === "put-metric-data") {
    return putMetricDataWriter({
      namespace,
      serviceName: consumer,
      onError: (error) => logger.warn("could not put the tenant dwell metric", { error: error as Error }),
    });
  }
  return new Metrics({ namespace, serviceName: consumer });
}
