import { randomUUID } from "node:crypto";
import {
  PublishBatchCommand,
  type PublishBatchRequestEntry,
  type PublishBatchResponse,
  PublishCommand,
  type SNSClient,
} from "@aws-sdk/client-sns";
import { type Span, SpanKind } from "@opentelemetry/api";
import * as z from "zod/mini";
import "../zod-locale.ts";
import { envelopeHeaderSchema, type TopicSpec } from "../contracts/index.ts";
import { offloadBody, type PayloadStore } from "../payload-offloading/payload-store.ts";
import { ATTR, MESSAGING_SYSTEM, XRAY_ANNOTATED } from "../trace/semconv.ts";
import { courierTracer, parentContextFor, recordFailure, traceparentOf } from "../trace/spans.ts";
import {
  assertTraceContext,
  parseXrayTraceHeader,
  startTrace,
  type TraceContext,
} from "../trace/trace-context.ts";
import { chunkForPublishBatch } from "./chunks.ts";
import { buildMessage, type PreparedMessage, prepareMessage } from "./envelope.ts";
import { MessageTooLargeError, PublisherError, PublishFailedError, UnknownTopicError } from "./errors.ts";
import { assertOrdering, type FifoParameters, fifoParameters } from "./ordering.ts";
import { SNS_MAX_BATCH_ENTRIES, snsMessageSize, topicMaxMessageBytes } from "./size.ts";
import { assertTenant, tenantGroupId } from "./tenant.ts";

/** The topics a publisher serves, by name. */
export type TopicMap = Readonly<Record<string, TopicSpec>>;

/** What a producer passes for a topic: the input of the topic's current contract. */
export type TopicDataOf<M extends TopicMap, T extends keyof M> = z.input<M[T]["current"]["data"]>;

/**
 * An identity fixed before publishing, for producers that must republish the SAME event after a
 * crash (the transactional outbox): consumers deduplicate on eventId.
 */
export interface EventIdentity {
  readonly eventId: string;
  readonly occurredAt: string;
}

/**
 * What a caller may fix for one publish: the event's identity (both fields, for a republish) and
 * the trace context of the request that caused it.
 */
export type PublishOptions = (
  | EventIdentity
  | { readonly eventId?: undefined; readonly occurredAt?: undefined }
) & {
  /** The caller's context (an API request's); a new trace is started when not given. */
  readonly trace?: TraceContext | undefined;
};

export interface Published {
  readonly eventId: string;
  readonly messageId: string;
}

export type BatchItemResult =
  | ({ readonly ok: true } & Published)
  | { readonly ok: false; readonly error: PublisherError };

export interface PublisherOptions<M extends TopicMap> {
  /** The topics and their contracts (courier's are in src/deployment/topology.ts). */
  readonly topics: M;
  readonly sns: SNSClient;
  /** ARNs of the topics this producer publishes to; another topic is an UnknownTopicError. */
  readonly topicArns: Partial<Record<keyof M & string, string>>;
  /** Goes into every envelope's `producer`, e.g. "api-server". */
  readonly producer: string;
  readonly now?: () => Date;
  readonly newId?: () => string;
  /**
   * Where bodies over their topic's limit go, for topics with `offloadLargePayloads`: the body is
   * put there and a pointer in AWS's extended-client format is published instead.
   * @default - none: such a message is refused with MessageTooLargeError
   */
  readonly payloadStore?: PayloadStore;
  /**
   * Stamp a trace context (W3C traceparent, correlation id, X-Ray's header where tracing is active)
   * on every envelope: the caller's, or a new one per publish call.
   * @default true
   */
  readonly stampTrace?: boolean;
  /** Where `_X_AMZN_TRACE_ID` (set per invocation by Lambda with active tracing) is read. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

export interface TopicPublisher<M extends TopicMap> {
  /**
   * Validates, envelopes and publishes one message (by reference when over an offloading topic's
   * limit). Throws UnknownTopicError, InvalidMessageError, MessageTooLargeError or PublishFailedError.
   */
  publish<T extends keyof M & string>(
    topic: T,
    data: TopicDataOf<M, T>,
    options?: PublishOptions,
  ): Promise<Published>;
  /**
   * Publishes many messages with PublishBatch. Throws only UnknownTopicError; every other failure
   * is reported in the result for its item, which is in input order.
   */
  publishBatch<T extends keyof M & string>(
    topic: T,
    items: readonly TopicDataOf<M, T>[],
    options?: { readonly trace?: TraceContext | undefined },
  ): Promise<BatchItemResult[]>;
}

interface Pending {
  readonly index: number;
  readonly message: PreparedMessage;
  readonly fifo: FifoParameters | undefined;
  /** A standard topic's tenant, sent as MessageGroupId (fair queues); never a FIFO group. */
  readonly tenantGroup: string | undefined;
}

function assertIdentity(identity: EventIdentity): void {
  const checked = z.safeParse(z.pick(envelopeHeaderSchema, { eventId: true, occurredAt: true }), identity);
  if (!checked.success) {
    throw new TypeError(
      `event identity must be a UUID eventId and an ISO occurredAt: ${checked.error.message}`,
    );
  }
}

/**
 * A PRODUCER span `send <topic>` for one message (OpenTelemetry messaging conventions), or
 * undefined when no SDK records it: then the publish does no tracing work beyond this call.
 */
function startProducerSpan(topic: string, given: TraceContext | undefined): Span | undefined {
  const span = courierTracer().startSpan(
    `send ${topic}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        [ATTR.messagingSystem]: MESSAGING_SYSTEM.sns,
        [ATTR.destinationName]: topic,
        [ATTR.operationType]: "send",
        [ATTR.operationName]: "publish",
        [ATTR.xrayAnnotations]: XRAY_ANNOTATED,
      },
    },
    parentContextFor(given),
  );
  if (span.isRecording()) return span;
  span.end();
  return undefined;
}

/**
 * The context a producer span continues: the caller's, or Lambda's X-Ray trace; a context minted
 * just for this publish names no real span, so the producer span starts a trace of its own instead.
 */
function callerContext(
  given: TraceContext | undefined,
  stamped: TraceContext | undefined,
): TraceContext | undefined {
  return given ?? (stamped?.xrayTraceHeader ? stamped : undefined);
}

/** The envelope's context for a message with its own producer span: the span is the message's parent. */
function traceWithSpan(trace: TraceContext | undefined, span: Span | undefined): TraceContext | undefined {
  if (!trace || !span) return trace;
  const traceparent = traceparentOf(span);
  return traceparent ? { ...trace, traceparent } : trace;
}

function describeProducerSpan(span: Span | undefined, message: PreparedMessage): void {
  if (!span) return;
  span.setAttributes({
    [ATTR.eventId]: message.envelope.eventId,
    [ATTR.messageType]: message.envelope.type,
    [ATTR.bodySize]: Buffer.byteLength(message.body),
    ...(message.envelope.trace ? { [ATTR.correlationId]: message.envelope.trace.correlationId } : {}),
  });
}

export function createTopicPublisher<M extends TopicMap>(options: PublisherOptions<M>): TopicPublisher<M> {
  const { topics } = options;
  const topicNames = Object.keys(topics);
  for (const name of topicNames) {
    assertOrdering(name, topics[name] as TopicSpec);
    assertTenant(name, topics[name] as TopicSpec);
  }
  const producer = z.safeParse(envelopeHeaderSchema.shape.producer, options.producer);
  if (!producer.success) {
    throw new TypeError(`publisher producer must be 1-128 characters, got "${options.producer}"`);
  }
  const source = {
    producer: producer.data,
    now: options.now ?? (() => new Date()),
    newId: options.newId ?? randomUUID,
  };
  const stampTrace = options.stampTrace ?? true;
  const env = options.env ?? process.env;

  /** The context to stamp for one publish call, or undefined when stamping is off. */
  function traceFor(given: TraceContext | undefined): TraceContext | undefined {
    if (!stampTrace) return undefined;
    if (!given) return startTrace({ env });
    assertTraceContext(given);
    if (given.xrayTraceHeader) return given;
    // A caller's context from before tracing was active here still gets this invocation's X-Ray header.
    const xrayTraceHeader = parseXrayTraceHeader(env._X_AMZN_TRACE_ID);
    return xrayTraceHeader ? { ...given, xrayTraceHeader } : given;
  }

  // Topic names come from untyped callers too (the CLI, JavaScript), so check at run time.
  function resolveTopic(topic: string): {
    arn: string;
    maxBytes: number;
    offloads: boolean;
    prepare: (
      data: unknown,
      identity: EventIdentity | undefined,
      trace: TraceContext | undefined,
    ) => PreparedMessage;
    fifo: (message: PreparedMessage) => FifoParameters | undefined;
    tenantGroup: (message: PreparedMessage) => string | undefined;
  } {
    const spec = Object.hasOwn(topics, topic) ? topics[topic] : undefined;
    const arn = spec ? options.topicArns[topic as keyof M & string] : undefined;
    if (!spec || !arn) throw new UnknownTopicError(topic, topicNames);
    const contract = spec.current;
    // SNS counts body plus attributes against the topic's own MaximumMessageSize.
    const maxBytes = topicMaxMessageBytes(spec);
    const offloads = spec.offloadLargePayloads === true;
    return {
      arn,
      maxBytes,
      offloads,
      prepare: (data, identity, trace) => {
        if (identity) assertIdentity(identity);
        const from = identity
          ? { ...source, newId: () => identity.eventId, now: () => new Date(identity.occurredAt) }
          : source;
        // An offloading topic takes any size here; the send decides between inline and reference.
        return offloads
          ? buildMessage(topic, contract, data, from, trace)
          : prepareMessage(topic, contract, data, from, maxBytes, trace);
      },
      // On a FIFO topic: the group from the contract's ordering field, the dedup id = the eventId.
      fifo: (message) => fifoParameters(spec, message.envelope.data, message.envelope.eventId),
      // On a standard topic with a tenant: the tenant as MessageGroupId, so subscribed queues are fair.
      tenantGroup: (message) => tenantGroupId(spec, message.envelope.data),
    };
  }

  /**
   * What goes to SNS for a prepared message: itself when within the topic's limit, else a pointer
   * to its body in the payload store. Throws MessageTooLargeError or PublishFailedError.
   */
  async function sendable(
    topic: string,
    maxBytes: number,
    message: PreparedMessage,
  ): Promise<PreparedMessage> {
    if (message.sizeBytes <= maxBytes) return message;
    const store = options.payloadStore;
    if (!store) throw new MessageTooLargeError(topic, message.sizeBytes, maxBytes);
    let offloaded: Awaited<ReturnType<typeof offloadBody>>;
    try {
      offloaded = await offloadBody(store, topic, message.envelope.eventId, message.body, message.attributes);
    } catch (error) {
      throw PublishFailedError.fromSdkError(topic, error);
    }
    const sizeBytes = snsMessageSize(offloaded.body, offloaded.attributes);
    // Only with many large filter attributes could a pointer itself be too large.
    if (sizeBytes > maxBytes) throw new MessageTooLargeError(topic, sizeBytes, maxBytes);
    return { envelope: message.envelope, body: offloaded.body, attributes: offloaded.attributes, sizeBytes };
  }

  async function sendChunk(topic: string, arn: string, chunk: Pending[], results: BatchItemResult[]) {
    const entries: PublishBatchRequestEntry[] = chunk.map(({ index, message, fifo, tenantGroup }) => ({
      Id: String(index),
      Message: message.body,
      MessageAttributes: message.attributes,
      ...(tenantGroup !== undefined ? { MessageGroupId: tenantGroup } : {}),
      ...fifo,
    }));
    let response: PublishBatchResponse;
    try {
      response = await options.sns.send(
        new PublishBatchCommand({ TopicArn: arn, PublishBatchRequestEntries: entries }),
      );
    } catch (error) {
      // The whole call failed: each of its items failed, and only those.
      for (const { index } of chunk)
        results[index] = { ok: false, error: PublishFailedError.fromSdkError(topic, error) };
      return;
    }
    const byId = new Map(chunk.map((item) => [String(item.index), item]));
    for (const success of response.Successful ?? []) {
      const item = success.Id === undefined ? undefined : byId.get(success.Id);
      if (item && success.MessageId) {
        results[item.index] = {
          ok: true,
          eventId: item.message.envelope.eventId,
          messageId: success.MessageId,
        };
      }
    }
    for (const failure of response.Failed ?? []) {
      const item = failure.Id === undefined ? undefined : byId.get(failure.Id);
      if (item) {
        results[item.index] = {
          ok: false,
          error: new PublishFailedError(topic, failure.Code ?? "Unknown", failure.Message ?? "no message", {
            senderFault: failure.SenderFault,
          }),
        };
      }
    }
    // An entry SNS answered neither way is a failure too: never report it as sent.
    for (const { index } of chunk) {
      results[index] ??= {
        ok: false,
        error: new PublishFailedError(topic, "NoResult", "PublishBatch returned no result for this entry"),
      };
    }
  }

  return {
    async publish(topic, data, publishOptions) {
      const { arn, maxBytes, prepare, fifo, tenantGroup } = resolveTopic(topic);
      const identity =
        publishOptions?.eventId !== undefined || publishOptions?.occurredAt !== undefined
          ? (publishOptions as EventIdentity)
          : undefined;
      const given = traceFor(publishOptions?.trace);
      const span = startProducerSpan(topic, callerContext(publishOptions?.trace, given));
      try {
        const trace = traceWithSpan(given, span);
        const message = await sendable(topic, maxBytes, prepare(data, identity, trace));
        describeProducerSpan(span, message);
        let messageId: string | undefined;
        const group = tenantGroup(message);
        try {
          const response = await options.sns.send(
            new PublishCommand({
              TopicArn: arn,
              Message: message.body,
              MessageAttributes: message.attributes,
              ...(group !== undefined ? { MessageGroupId: group } : {}),
              ...fifo(message),
            }),
          );
          messageId = response.MessageId;
        } catch (error) {
          throw PublishFailedError.fromSdkError(topic, error);
        }
        if (!messageId) throw new PublishFailedError(topic, "NoMessageId", "Publish returned no MessageId");
        span?.setAttribute(ATTR.messageId, messageId);
        return { eventId: message.envelope.eventId, messageId };
      } catch (error) {
        if (span) recordFailure(span, error);
        throw error;
      } finally {
        span?.end();
      }
    },

    async publishBatch(topic, items, batchOptions) {
      const { arn, maxBytes, prepare, fifo, tenantGroup } = resolveTopic(topic);
      // One call is one unit of work: its messages share a trace (the caller's, or one new one).
      const trace = traceFor(batchOptions?.trace);
      const results: BatchItemResult[] = new Array(items.length);
      const pending: Pending[] = [];
      // A producer span per entry, as for a single publish: each message is its own unit downstream.
      const spans: Array<Span | undefined> = [];
      for (const [index, data] of items.entries()) {
        const span = startProducerSpan(topic, callerContext(batchOptions?.trace, trace));
        spans[index] = span;
        try {
          const message = await sendable(
            topic,
            maxBytes,
            prepare(data, undefined, traceWithSpan(trace, span)),
          );
          describeProducerSpan(span, message);
          pending.push({ index, message, fifo: fifo(message), tenantGroup: tenantGroup(message) });
        } catch (error) {
          if (span) {
            recordFailure(span, error);
            span.end();
            spans[index] = undefined;
          }
          // Invalid, too large or not offloaded: this item fails alone. Anything else is a bug.
          if (!(error instanceof PublisherError)) {
            for (const open of spans) open?.end();
            throw error;
          }
          results[index] = { ok: false, error };
        }
      }
      // One call after another: a batch is already 10 messages per request, and order is kept.
      // The batch's sum is held to the topic's limit too (SNS's default one on a default topic).
      const limits = { entries: SNS_MAX_BATCH_ENTRIES, bytes: maxBytes };
      // On a FIFO topic a group stops at its first failure: a later message of it must not overtake.
      const stoppedGroups = new Set<string>();
      for (const chunk of chunkForPublishBatch(pending, (item) => item.message.sizeBytes, limits)) {
        const sendable = chunk.filter((item) => {
          const group = item.fifo?.MessageGroupId;
          if (group === undefined || !stoppedGroups.has(group)) return true;
          results[item.index] = {
            ok: false,
            error: new PublishFailedError(
              topic,
              "GroupStopped",
              `an earlier message of message group "${group}" in this batch failed; this one was not sent, to keep the group's order`,
            ),
          };
          return false;
        });
        if (sendable.length > 0) await sendChunk(topic, arn, sendable, results);
        for (const item of sendable) {
          const group = item.fifo?.MessageGroupId;
          if (group !== undefined && results[item.index]?.ok === false) stoppedGroups.add(group);
        }
      }
      for (const [index, span] of spans.entries()) {
        if (!span) continue;
        const result = results[index];
        if (result?.ok) span.setAttribute(ATTR.messageId, result.messageId);
        else if (result) recordFailure(span, result.error);
        span.end();
      }
      return results;
    },
  };
}
