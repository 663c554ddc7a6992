/**
 * `createTestKit(topology, { handlers })`: a team's consumers under Lambda's SQS trigger semantics,
 * in-process, on a clock the test moves. Each consumer gets an in-memory queue and DLQ (settings
 * from the topology) and courier's own local event source (the one worker mode runs on SQS), so the
 * batching, partial batch responses, FIFO group scheduling and visibility rules are the worker's,
 * not a copy. The handler is the one the team's module exports, rebuilt on the kit's queue and
 * clock from its `defineConsumer` definition, so its backoff and dead-lettering are the runtime's.
 */
import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { type MessageAttributeValue, PublishCommand } from "@aws-sdk/client-sns";
import type { ConsumerHandler, ConsumerMetrics, FailureReason } from "../lib/consumer/index.ts";
import { FAILURE_ATTRIBUTE } from "../lib/consumer/index.ts";
import { onRecordOutcome, type RecordOutcome } from "../lib/consumer/outcomes.ts";
import { setTenantControl, type TenantState } from "../lib/consumer/tenant-controls.ts";
import type { TenantMetricsWriter } from "../lib/consumer/tenant-dwell.ts";
import { messageGroupIdFor } from "../lib/publisher/ordering.ts";
import { tenantValue } from "../lib/publisher/tenant.ts";
import { consumerDefinitionOf, defineConsumer } from "../topology/define-consumer.ts";
import { createPublisher, type Publisher } from "../topology/publisher.ts";
import type { AnyTopology, ConsumerNameOf, ConsumerSpec, TopicNameOf } from "../topology/topology.ts";
import {
  type BatchResult,
  type ErrorPhase,
  type FairTenantOptions,
  LocalEventSource,
  type SqsHandler,
} from "../worker/event-source.ts";
import { ManualClock } from "./manual-clock.ts";
import {
  MemorySns,
  matchesFilterPolicy,
  type SnsDelivery,
  snsNotification,
  toSqsAttributes,
} from "./memory-sns.ts";
import { type MemoryQueue, MemorySqs, type StoredMessage } from "./memory-sqs.ts";
import { Scheduler, SchedulerTimeoutError } from "./scheduler.ts";

export interface TestKitOptions<T extends AnyTopology> {
  /** The handlers to run, by consumer name: what each handler module exports (`defineConsumer`). */
  readonly handlers: { readonly [N in ConsumerNameOf<T>]?: ConsumerHandler };
  /** Where the kit's clock starts. @default the wall clock's now */
  readonly startAt?: Date;
  /** Jitter for the runtime's backoff, in [0, 1). @default Math.random (as on Lambda) */
  readonly random?: () => number;
  /** Pollers per consumer. @default each consumer's maxConcurrency */
  readonly concurrency?: number;
  /** The envelope's `producer` on what `kit.publisher` sends. @default "test-kit" */
  readonly producer?: string;
  /** Queue time `waitFor` and `drain` allow by default. @default 3600 (an hour, which takes milliseconds) */
  readonly timeoutSeconds?: number;
  /** Wall time after which `waitFor` and `drain` give up (a handler stuck on real I/O). @default 10000 */
  readonly wallTimeoutMs?: number;
  /**
   * Serve each tenant-declaring topic's consumers fairly, as SQS fair queues do (quiet tenants'
   * messages before a noisy tenant's backlog): the local event source's `fairTenants`. False
   * serves them in arrival order, as a queue without fairness (or LocalStack) would.
   * @default true
   */
  readonly fairTenants?: boolean | FairTenantOptions;
  /** Let the consumers' Powertools loggers write (JSON lines on stdout). @default false: the kit records outcomes instead */
  readonly logs?: boolean;
}

export type OutcomeName = RecordOutcome["outcome"];

/** A record's outcome as the runtime published it, with its message type. */
export type SeenOutcome = RecordOutcome & { readonly type?: string };

export interface OutcomeMatch {
  readonly eventId?: string;
  readonly type?: string;
  readonly outcome?: OutcomeName;
  /**
   * Dead letters: "permanent" (retrying cannot fix it), "exhausted" (its last allowed receive
   * failed) or "tenant-quarantined" (its tenant is quarantined on the consumer).
   */
  readonly kind?: "permanent" | "exhausted" | "tenant-quarantined";
  readonly receiveCount?: number;
}

export interface WaitOptions {
  /** Queue time to allow. @default the kit's timeoutSeconds */
  readonly timeoutSeconds?: number;
}

export interface PublishedMessage {
  readonly topic: string;
  readonly messageId: string;
  /** The body as published: courier's envelope for what `kit.publisher` sends. */
  readonly body: unknown;
  readonly attributes: Readonly<Record<string, string>>;
  readonly groupId?: string;
}

export interface DeadLetter {
  readonly messageId: string;
  readonly eventId?: string;
  readonly type?: string;
  readonly body: string;
  /** Why it failed (the runtime's `courier.failure`); absent when SQS moved it (maxReceiveCount, no reason). */
  readonly reason?: FailureReason;
}

export interface QueueState {
  readonly visible: number;
  readonly inFlight: number;
  readonly deadLetters: number;
}

export interface RawPublishOptions {
  /** Message attributes as SNS would carry them (filter policies read them). */
  readonly attributes?: Readonly<Record<string, string>>;
  /**
   * FIFO topics: the message group; standard topics: the tenant (MessageGroupId, fair queues).
   * @default "test-kit" on a FIFO topic, none on a standard one
   */
  readonly groupId?: string;
}

/** `waitFor` or `drain` gave up: the message says what was seen instead. */
export class WaitForTimeoutError extends SchedulerTimeoutError {}

const ACCOUNT = "000000000000";
const REGION = "us-east-1";

/** What the runtime's EMF lines would say is not a test's business: the kit records outcomes instead. */
const silentMetrics: ConsumerMetrics = {
  addMetric: () => undefined,
  addMetadata: () => undefined,
  publishStoredMetrics: () => undefined,
};

const silentTenantMetrics: TenantMetricsWriter = {
  addDimension: () => undefined,
  addMetric: () => undefined,
  publishStoredMetrics: () => undefined,
};

interface Running {
  readonly spec: ConsumerSpec;
  readonly queue: MemoryQueue;
  readonly dlq: MemoryQueue;
  readonly source: LocalEventSource;
}

export class TestKit<T extends AnyTopology> {
  /** Publishes as `createPublisher` does (validated against the contracts), into the kit's queues. */
  readonly publisher: Publisher<T>;
  /** Everything published to a topic, through `publisher`, `publishRaw` or `poison`, in order. */
  readonly published: PublishedMessage[] = [];
  /** Every batch the event sources settled. */
  readonly batches: (BatchResult & { readonly consumer: string })[] = [];
  /** What the event sources reported: batch failures (a throw, an invalid partial batch response). */
  readonly errors: { readonly consumer: string; readonly during: ErrorPhase; readonly error: unknown }[] = [];

  private readonly topology: T;
  private readonly clock: ManualClock;
  private readonly startedAtMs: number;
  private readonly sqs: MemorySqs;
  private readonly sns: MemorySns;
  private readonly consumers = new Map<string, Running>();
  private readonly seen: SeenOutcome[] = [];
  /** Type and eventId of every message the kit queued, by SQS MessageId: whose outcomes are ours. */
  private readonly identities = new Map<string, { type?: string; eventId?: string }>();
  private readonly ready: Promise<void>;
  private readonly unsubscribe: () => void;
  private readonly timeoutSeconds: number;
  private readonly scheduler: Scheduler;
  private closed = false;

  constructor(topology: T, options: TestKitOptions<T>) {
    this.topology = topology;
    this.startedAtMs = options.startAt?.getTime() ?? Date.now();
    this.clock = new ManualClock(this.startedAtMs);
    this.timeoutSeconds = options.timeoutSeconds ?? 3600;
    this.scheduler = new Scheduler(this.clock, options.wallTimeoutMs ?? 10_000);
    this.sqs = new MemorySqs(this.clock, () => this.scheduler.bump());
    this.sns = new MemorySns((delivery) => this.fanOut(delivery));
    this.publisher = createPublisher(topology, {
      sns: this.sns.client,
      topicArns: Object.fromEntries(
        Object.keys(topology.topics).map((t) => [t, this.topicArn(t)]),
      ) as Partial<Record<TopicNameOf<T>, string>>,
      producer: options.producer ?? "test-kit",
      now: () => new Date(this.clock.now()),
    }) as Publisher<T>;
    this.unsubscribe = onRecordOutcome((outcome) => {
      let identity = this.identities.get(outcome.messageId);
      // A message the runtime itself put on a kit queue (a paused tenant's, sent back to wait).
      if (!identity) {
        const body = this.sqs.bodyOf(outcome.messageId);
        if (body !== undefined) {
          identity = identityOf(parseJson(body));
          this.identities.set(outcome.messageId, identity);
        }
      }
      if (!identity) return; // another kit's, or a worker's, in the same process
      // A record that could not be decoded has no eventId of the runtime's; the kit knows what it sent.
      const eventId = outcome.eventId ?? identity.eventId;
      this.seen.push({
        ...outcome,
        ...(identity.type ? { type: identity.type } : {}),
        ...(eventId ? { eventId } : {}),
      });
      this.scheduler.bump();
    });
    const handlers = options.handlers as Readonly<Record<string, ConsumerHandler | undefined>>;
    const starts: Promise<void>[] = [];
    for (const [name, handler] of Object.entries(handlers)) {
      if (!handler) continue;
      const running = this.run(name, handler, options);
      this.consumers.set(name, running);
      starts.push(running.source.start());
    }
    this.ready = Promise.all(starts).then(() => undefined);
  }

  private run(name: string, handler: ConsumerHandler, options: TestKitOptions<T>): Running {
    const spec = this.topology.consumers[name] as ConsumerSpec | undefined;
    if (!spec) {
      throw new Error(
        `unknown consumer "${name}"; the topology has: ${Object.keys(this.topology.consumers).join(", ")}`,
      );
    }
    const definition = consumerDefinitionOf(handler);
    if (!definition) {
      throw new Error(
        `the handler for "${name}" was not made by defineConsumer: the kit rebuilds consumers from their definition`,
      );
    }
    const fifo = this.topology.topics[spec.topic]?.ordering !== undefined;
    const suffix = fifo ? ".fifo" : "";
    const dlq = this.sqs.createQueue({ name: `${name}-dlq${suffix}`, visibilityTimeoutSeconds: 30 });
    const queue = this.sqs.createQueue({
      name: `${name}${suffix}`,
      visibilityTimeoutSeconds: spec.visibilityTimeoutSeconds,
      redrive: { deadLetterQueue: dlq.url, maxReceiveCount: spec.maxReceiveCount },
    });
    const userRandom = definition.options.random;
    const rebuilt = defineConsumer(definition.topology, {
      ...definition.options,
      sqs: this.sqs.client,
      queueUrl: queue.url,
      dlqUrl: dlq.url,
      now: () => this.clock.now(),
      random: options.random ?? userRandom ?? Math.random,
      metrics: silentMetrics,
      tenantMetrics: silentTenantMetrics,
      ...(options.logs ? {} : { logger: new Logger({ serviceName: name, logLevel: "SILENT" }) }),
    });
    const invoke: SqsHandler = this.scheduler.track(rebuilt);
    const source = new LocalEventSource({
      sqs: this.sqs.client,
      queueUrl: queue.url,
      queueArn: queue.arn,
      handler: invoke,
      functionName: name,
      batchSize: spec.batchSize,
      maxBatchingWindowSeconds: spec.maxBatchingWindowSeconds,
      timeoutSeconds: spec.timeoutSeconds,
      concurrency: options.concurrency ?? spec.maxConcurrency,
      memoryMb: spec.memoryMb,
      visibilityTimeoutSeconds: spec.visibilityTimeoutSeconds,
      // A topic with tenants makes its standard queues fair queues (their MessageGroupId).
      ...(!fifo && this.topology.topics[spec.topic]?.tenant && options.fairTenants !== false
        ? { fairTenants: options.fairTenants ?? true }
        : {}),
      clock: this.clock,
      onBatch: (result) => this.batches.push({ ...result, consumer: name }),
      onError: (error, during) => this.errors.push({ consumer: name, during, error }),
    });
    return { spec, queue, dlq, source };
  }

  private topicArn(topic: string): string {
    const fifo = this.topology.topics[topic]?.ordering !== undefined;
    return `arn:aws:sns:${REGION}:${ACCOUNT}:${topic}${fifo ? ".fifo" : ""}`;
  }

  private topicOf(arn: string): string {
    const topic = Object.keys(this.topology.topics).find((t) => this.topicArn(t) === arn);
    if (!topic) throw new Error(`no topic with ARN ${arn}`);
    return topic;
  }

  /** SNS's fan-out: every subscribed consumer the kit runs whose filter policy matches. */
  private fanOut(delivery: SnsDelivery): void {
    const topic = this.topicOf(delivery.topicArn);
    const body = parseJson(delivery.body);
    this.published.push({
      topic,
      messageId: delivery.messageId,
      body,
      attributes: Object.fromEntries(
        Object.entries(delivery.attributes).map(([k, v]) => [k, v.StringValue ?? ""]),
      ),
      ...(delivery.groupId ? { groupId: delivery.groupId } : {}),
    });
    const identity = identityOf(body);
    for (const running of this.consumers.values()) {
      if (
        running.spec.topic !== topic ||
        !matchesFilterPolicy(running.spec.filterPolicy, delivery.attributes)
      )
        continue;
      const sent = this.sqs.enqueue(
        running.queue,
        running.queue.fifo
          ? {
              MessageBody: snsNotification(delivery, new Date(this.clock.now())),
              MessageGroupId: delivery.groupId,
              MessageDeduplicationId: delivery.deduplicationId ?? delivery.messageId,
            }
          : {
              MessageBody: delivery.body,
              MessageAttributes: toSqsAttributes(delivery.attributes),
              // SNS standard topics forward MessageGroupId (a tenant) to standard queues.
              ...(delivery.groupId ? { MessageGroupId: delivery.groupId } : {}),
            },
      );
      this.identities.set(sent.MessageId, identity);
    }
    this.scheduler.bump();
  }

  /**
   * Pauses (its messages wait) or quarantines (its messages are dead-lettered with the reason
   * `tenant-quarantined`) one tenant on one consumer, or releases it (`undefined`), as `courier
   * tenant` does: `tenant` is the value of the topic's tenant field. The runtime reads the change
   * within 5 s of the kit's clock.
   */
  async setTenant(
    consumer: ConsumerNameOf<T>,
    tenant: string,
    state: TenantState | undefined,
  ): Promise<void> {
    const running = this.consumers.get(consumer);
    if (!running) throw new Error(`the kit runs no consumer "${consumer}"`);
    await setTenantControl(
      this.sqs.client,
      running.queue.url,
      messageGroupIdFor(tenant),
      state,
      new Date(this.clock.now()),
    );
  }

  /**
   * Publishes any body to a topic, unvalidated (a string as it is, anything else as JSON): a message
   * from a producer that does not use courier, or one that breaks the contract.
   */
  async publishRaw(
    topic: TopicNameOf<T>,
    body: unknown,
    options: RawPublishOptions = {},
  ): Promise<{ messageId: string }> {
    const fifo = this.topology.topics[topic]?.ordering !== undefined;
    const attributes: Record<string, MessageAttributeValue> = Object.fromEntries(
      Object.entries(options.attributes ?? {}).map(([k, v]) => [k, { DataType: "String", StringValue: v }]),
    );
    const { MessageId } = (await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn(topic),
        Message: typeof body === "string" ? body : JSON.stringify(body),
        MessageAttributes: attributes,
        ...(fifo
          ? {
              MessageGroupId: messageGroupIdFor(options.groupId ?? "test-kit"),
              MessageDeduplicationId: randomUUID(),
            }
          : options.groupId !== undefined
            ? { MessageGroupId: messageGroupIdFor(options.groupId) }
            : {}),
      }),
    )) as { MessageId: string };
    return { messageId: MessageId };
  }

  /**
   * Publishes a courier envelope of the topic's current contract whose `data` is whatever is given,
   * unchecked: the poison pill a consumer must dead-letter with its reason. Typed `unknown`, so no
   * cast is needed to break the contract.
   */
  async poison(
    topic: TopicNameOf<T>,
    data: unknown,
    options: RawPublishOptions & { readonly eventId?: string } = {},
  ): Promise<{ eventId: string; messageId: string }> {
    const spec = this.topology.topics[topic];
    if (!spec) throw new Error(`unknown topic "${topic}"`);
    const eventId = options.eventId ?? randomUUID();
    const envelope = {
      eventId,
      type: spec.current.type,
      version: spec.current.version,
      occurredAt: new Date(this.clock.now()).toISOString(),
      producer: "test-kit",
      data,
    };
    // Its group as the publisher would set it: the FIFO ordering field, or the tenant.
    const group =
      spec.ordering && typeof data === "object" && data !== null
        ? (data as Record<string, unknown>)[spec.ordering.groupBy]
        : tenantValue(spec, data);
    const { messageId } = await this.publishRaw(topic, envelope, {
      ...options,
      attributes: { type: spec.current.type, version: String(spec.current.version), ...options.attributes },
      ...(typeof group === "string" && options.groupId === undefined ? { groupId: group } : {}),
    });
    return { eventId, messageId };
  }

  /**
   * Runs the consumers (moving the clock as far as needed) until one of `consumer`'s records reaches
   * an outcome that matches, and returns it; an outcome seen before the call counts. Throws a
   * `WaitForTimeoutError` naming what was seen instead when none does within the queue time allowed.
   */
  async waitFor(
    consumer: ConsumerNameOf<T>,
    match: OutcomeMatch,
    options: WaitOptions = {},
  ): Promise<SeenOutcome> {
    this.running(consumer);
    const find = () => this.seen.find((o) => o.consumer === consumer && matches(o, match));
    const timeoutSeconds = options.timeoutSeconds ?? this.timeoutSeconds;
    await this.runUntil(() => find() !== undefined, this.clock.now() + timeoutSeconds * 1000);
    const found = find();
    if (found) return found;
    throw new WaitForTimeoutError(
      `waitFor(${consumer}, ${JSON.stringify(match)}): no such outcome within ${timeoutSeconds} s of queue time. ` +
        `Seen for ${consumer} instead: ${this.describeSeen(consumer)}. Queue: ${describeState(this.queueState(consumer))}.`,
    );
  }

  /**
   * Runs until no consumer's queue holds a message (none visible, none in flight or waiting out a
   * backoff) and no handler runs. Throws when that takes longer than the queue time allowed.
   */
  async drain(options: WaitOptions = {}): Promise<void> {
    const timeoutSeconds = options.timeoutSeconds ?? this.timeoutSeconds;
    const idle = () =>
      this.scheduler.handlersRunning === 0 &&
      [...this.consumers.values()].every((c) => c.queue.messages.length === 0);
    await this.runUntil(idle, this.clock.now() + timeoutSeconds * 1000);
    if (!idle()) {
      const states = [...this.consumers.keys()].map((c) => `${c}: ${describeState(this.queueState(c))}`);
      throw new WaitForTimeoutError(
        `drain(): queues still hold messages after ${timeoutSeconds} s of queue time (${states.join("; ")})`,
      );
    }
  }

  /** Moves the clock forward, running whatever falls due on the way (retries, windows, timeouts). */
  async advance(seconds: number): Promise<void> {
    const until = this.clock.now() + seconds * 1000;
    await this.runUntil(() => false, until);
    this.clock.moveTo(until);
  }

  /** The outcomes seen so far, oldest first (of one consumer, when named). */
  outcomes(consumer?: ConsumerNameOf<T>): readonly SeenOutcome[] {
    return consumer === undefined ? [...this.seen] : this.seen.filter((o) => o.consumer === consumer);
  }

  /** The consumer's dead-letter queue, with each message's reason. */
  deadLetters(consumer: ConsumerNameOf<T>): DeadLetter[] {
    return this.running(consumer).dlq.messages.map((m) => deadLetterOf(m));
  }

  queueState(consumer: ConsumerNameOf<T> | string): QueueState {
    const running = this.running(consumer);
    return {
      visible: running.queue.visible,
      inFlight: running.queue.inFlight,
      deadLetters: running.dlq.messages.length,
    };
  }

  /** The kit's clock. */
  now(): Date {
    return new Date(this.clock.now());
  }

  /** Queue time since the kit started: what the same run would have taken on SQS and Lambda, at least. */
  get elapsedSeconds(): number {
    return (this.clock.now() - this.startedAtMs) / 1000;
  }

  /** Stops the event sources (nothing is left running); safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    const stops = [...this.consumers.values()].map((c) => c.source.stop());
    this.sqs.endReceives();
    await Promise.all(stops);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private running(consumer: string): Running {
    const running = this.consumers.get(consumer);
    if (!running) {
      throw new Error(
        `the kit runs no consumer "${consumer}"; it runs: ${[...this.consumers.keys()].join(", ") || "none"}`,
      );
    }
    return running;
  }

  private describeSeen(consumer: string): string {
    const seen = this.seen.filter((o) => o.consumer === consumer);
    if (seen.length === 0) return "nothing";
    return (
      seen.slice(-10).map(describeOutcome).join("; ") +
      (seen.length > 10 ? ` (and ${seen.length - 10} before)` : "")
    );
  }

  private async runUntil(done: () => boolean, limitMs: number): Promise<void> {
    if (this.closed) throw new Error("the test kit is closed");
    await this.ready;
    await this.scheduler.runUntil(done, limitMs);
  }
}

/** Starts the kit: one in-memory queue, DLQ and event source per consumer given a handler. */
export function createTestKit<T extends AnyTopology>(topology: T, options: TestKitOptions<T>): TestKit<T> {
  return new TestKit(topology, options);
}

function matches(outcome: SeenOutcome, match: OutcomeMatch): boolean {
  return (
    (match.eventId === undefined || outcome.eventId === match.eventId) &&
    (match.type === undefined || outcome.type === match.type) &&
    (match.outcome === undefined || outcome.outcome === match.outcome) &&
    (match.receiveCount === undefined || outcome.receiveCount === match.receiveCount) &&
    (match.kind === undefined || (outcome.outcome === "dead-lettered" && outcome.kind === match.kind))
  );
}

function describeOutcome(o: SeenOutcome): string {
  const what = `${o.type ?? "?"} ${o.eventId ?? o.messageId} ${o.outcome} on receive ${o.receiveCount}`;
  if (o.outcome === "processed") return what;
  const detail = `${o.errorClass}: ${o.errorMessage}`;
  if (o.outcome === "retried") return `${what} (${detail}; retry in ${o.retryInSeconds} s)`;
  if (o.outcome === "dead-lettered") return `${what} (${o.kind}; ${detail})`;
  return `${what} (${detail})`;
}

function describeState(state: QueueState): string {
  return `${state.visible} visible, ${state.inFlight} in flight or waiting out a backoff, ${state.deadLetters} in the DLQ`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function identityOf(body: unknown): { type?: string; eventId?: string } {
  if (typeof body !== "object" || body === null) return {};
  const { type, eventId } = body as { type?: unknown; eventId?: unknown };
  return {
    ...(typeof type === "string" ? { type } : {}),
    ...(typeof eventId === "string" ? { eventId } : {}),
  };
}

function deadLetterOf(message: StoredMessage): DeadLetter {
  let body = parseJson(message.body);
  // A FIFO queue holds SNS notifications: the envelope is inside.
  if (typeof body === "object" && body !== null && "Message" in body && "Type" in body) {
    body = parseJson(String((body as { Message: unknown }).Message));
  }
  const reasonText = message.messageAttributes[FAILURE_ATTRIBUTE]?.StringValue;
  return {
    messageId: message.messageId,
    body: message.body,
    ...identityOf(body),
    ...(reasonText ? { reason: JSON.parse(reasonText) as FailureReason } : {}),
  };
}
