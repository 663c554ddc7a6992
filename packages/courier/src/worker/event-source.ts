/**
 * A local stand-in for Lambda's SQS event source mapping: it runs a Lambda SQS handler against a
 * queue with the mapping's semantics, so the same handler modules run on a laptop (LocalStack
 * cannot execute Lambdas here) and in containers (worker mode).
 *
 * - `concurrency` pollers, each gathering a batch (long polling, batch size, batching window),
 *   invoking the handler with Lambda's `SQSEvent` and a `Context`, then deleting what succeeded.
 * - Partial batch responses (ReportBatchItemFailures): failures are not deleted and reappear after
 *   their visibility timeout. A throw, an invalid response or a run past the function timeout fails
 *   the whole batch.
 * - `stop()` starts no new receive but lets a receive already made return (a long poll aborted on
 *   the client side stays open at SQS, which may hand it a message nobody reads: hidden for the
 *   visibility timeout); what such a receive brings is released at once (visibility 0), neither
 *   processed nor hidden. In-flight batches finish (or time out) and their deletes complete.
 *   Nothing is deleted that the handler did not process, so nothing is lost.
 * - While a batch runs past a fraction of the queue's visibility timeout, its messages' visibility
 *   is extended, never past the function timeout, so a slow handler keeps its messages.
 * - A FIFO queue (`.fifo`) is scheduled as Lambda's FIFO trigger does (fifo-groups.ts): at most one
 *   batch in flight per message group, each group in sequence order, other groups in parallel; a
 *   group whose records failed runs again only once they are back, in order. Messages that arrive
 *   before their turn are held hidden (extended) and released, not processed, by a stop or pause.
 * - A standard queue whose messages carry tenants (`MessageGroupId`, fair queues) is served as SQS
 *   fair queues serve it when `fairTenants` is on (fair-tenants.ts): one receiver reads ahead (up
 *   to `lookahead` messages, held hidden and extended), and each poller takes its batch with quiet
 *   tenants' messages before a noisy tenant's backlog, at once (no batching window: SQS fair queues
 *   reorder on the server, so a Lambda poller never waits behind a flood either).
 * - `pause()` is a disabled event source mapping: no receive is started after it; a receive already
 *   at SQS returns and its messages are processed (a batch being gathered is invoked with what it
 *   holds, without waiting out its window), in-flight batches finish and keep their visibility
 *   extensions, as above. `resume()` starts receiving again. A stop while paused ends at once.
 *
 * Written by hand because no library does this: sqs-consumer has no Lambda event or context, no
 * batching window and no partial batch response, and Powertools runs inside Lambda, not around it.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { type Clock, sleepOn, systemClock } from "./clock.ts";
import {
  type BatchingSettings,
  type Gathered,
  gatherBatch,
  MAX_WAIT_TIME_SECONDS,
  type ReceiveRequest,
} from "./event-source-batching.ts";
import { type InvocationOutcome, parseQueueArn, settleBatch, toSqsRecord } from "./event-source-records.ts";
import { FAIR_DEFAULTS, FairTenantScheduler, type TenantLoad } from "./fair-tenants.ts";
import { FifoScheduler } from "./fifo-groups.ts";
import { createLambdaContext } from "./lambda-context.ts";
import { changeVisibility, StopRelease, VisibilityKeeper } from "./visibility.ts";

// biome-ignore lint/suspicious/noConfusingVoidType: Lambda handlers are commonly typed Promise<void>.
type HandlerResult = SQSBatchResponse | undefined | void;

/** A Lambda SQS handler. Callback-style handlers are not supported (nor are they on Node.js 24 Lambda). */
export type SqsHandler = (event: SQSEvent, context: Context) => Promise<HandlerResult> | HandlerResult;

export interface EventSourceOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  /** Read with GetQueueAttributes when not given. */
  readonly queueArn?: string;
  readonly handler: SqsHandler;
  /** The function name on the Context and in log lines. */
  readonly functionName: string;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  /** The function timeout: a batch still running after it fails whole, as on Lambda. */
  readonly timeoutSeconds: number;
  /** Concurrent pollers, each running one batch at a time (Lambda's maximum concurrency). */
  readonly concurrency: number;
  readonly memoryMb?: number;
  /**
   * Long-poll wait while the queue is empty (default and maximum 20). A stop waits for receives in
   * flight, so it also bounds how long a stop takes: lower it for a short container grace period.
   */
  readonly waitTimeSeconds?: number;
  /** The queue's visibility timeout; read with GetQueueAttributes when not given. */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * Extend a running batch's visibility once this fraction of the visibility timeout has passed
   * (between 0 and 1), never past the function timeout; false never extends. @default 0.5
   */
  readonly extendVisibilityAfter?: number | false;
  /**
   * After a stop, how much longer than its wait time a receive may take before it is aborted (a
   * stalled connection must not hold the stop forever). @default 5000
   */
  readonly stalledReceiveGraceMs?: number;
  /**
   * FIFO queues: how long a group waits for its failed records to come back before it goes on
   * without them (they may have been dead-lettered by SQS or taken by another worker).
   * @default the queue's visibility timeout + the long-poll wait + 5 s
   */
  readonly fifoReturnWaitSeconds?: number;
  /**
   * Serve the queue's tenants (their `MessageGroupId`) as SQS fair queues do: quiet tenants'
   * messages before a noisy tenant's backlog. Standard queues only (a FIFO queue's groups are
   * scheduled in order, fifo-groups.ts). `true` takes the defaults.
   * @default false - messages are processed in the order the queue hands them out
   */
  readonly fairTenants?: boolean | FairTenantOptions;
  /**
   * The time the source runs on (batching windows, backoff waits, the function timeout, visibility
   * bookkeeping). @default the system clock; the test kit passes one the test controls.
   */
  readonly clock?: Clock;
  /** Called after each batch is settled and its deletes are done. */
  readonly onBatch?: (result: BatchResult) => void;
  /** Receive and delete errors, and handler failures; the default writes one line to stderr. */
  readonly onError?: (error: unknown, during: ErrorPhase) => void;
}

/** How the local event source serves tenants fairly (see `fairTenants`). */
export interface FairTenantOptions {
  /**
   * Most messages received ahead and held (hidden, their visibility extended) to choose from: the
   * further it reaches into a backlog, the sooner a quiet tenant behind a flood is seen. Held
   * messages are not available to other workers of the queue.
   * @default 10000
   */
  readonly lookahead?: number;
  /** A tenant over this share of in-flight messages (and `noisyMinimum`) is noisy. @default 0.1 (SQS's) */
  readonly noisyShare?: number;
  /** @default 30 (SQS's) */
  readonly noisyMinimum?: number;
  /**
   * When a backlog appears, how long pollers let the receiver read into it before they start on
   * what it holds (once per backlog): a quiet tenant's message behind the flood is then seen first.
   * 0 starts at once (fairness only among what happens to be held).
   * @default 250
   */
  readonly catchUpMs?: number;
}

/** Messages a fair event source reads ahead by default. */
export const DEFAULT_FAIR_LOOKAHEAD = 10_000;
/** How long a fair event source's pollers let its receiver read into a new backlog before starting. */
export const DEFAULT_FAIR_CATCH_UP_MS = 250;

export type ErrorPhase = "receive" | "delete" | "handler" | "release" | "extend";

export interface BatchResult {
  readonly functionName: string;
  readonly awsRequestId: string;
  readonly records: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly timedOut: boolean;
  /** Successes whose delete did not go through: they will be received again. */
  readonly deleteFailures: number;
  readonly durationMs: number;
  readonly batchFailure?: string;
}

export interface EventSourceStats {
  /** Messages received from SQS (a message received twice counts twice). */
  received: number;
  /** Records the handler processed (deleted, or whose delete failed: see deleteFailures). */
  succeeded: number;
  /** Records left to the visibility timeout. */
  failed: number;
  /** Handler invocations. */
  batches: number;
  /** Summed wall time of the handler invocations (deletes excluded): what Lambda bills as duration. */
  handlerMs: number;
  /** Invocations that ran past the function timeout. */
  timeouts: number;
  deleteFailures: number;
  /** Records in batches being processed now. */
  inFlight: number;
  /** Messages a receive brought after the stop began, made visible again rather than processed. */
  released: number;
  /** Of those, messages whose release failed: they return after their visibility timeout. */
  releaseFailures: number;
  /** Visibility extensions of messages whose handler ran long (one per message per extension). */
  visibilityExtensions: number;
  /** FIFO: records that arrived before the failed records of their group they follow, sent back behind them. */
  sentBack: number;
  /** Fair tenants: messages received ahead and held now, waiting for their tenant's turn. */
  heldForFairness: number;
}

/** SQS limits on one DeleteMessageBatch call, and how often to retry entries that failed. */
const DELETE_CHUNK = 10;
const DELETE_ATTEMPTS = 4;
const RETRY_BASE_MS = 200;
const RECEIVE_RETRY_MAX_MS = 10_000;
const DEFAULT_STALLED_RECEIVE_GRACE_MS = 5_000;
const DEFAULT_EXTEND_AFTER = 0.5;
/** FIFO: how long a record sent back behind its group's recalled records stays hidden. */
const SEND_BACK_SECONDS = 2;

function defaultOnError(functionName: string) {
  return (error: unknown, during: ErrorPhase) => {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    process.stderr.write(`[${functionName}] ${during} failed: ${reason}\n`);
  };
}

export class EventSourceSettingsError extends Error {
  override readonly name = "EventSourceSettingsError";
}

function validate(options: EventSourceOptions): void {
  const positiveInteger = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1) {
      throw new EventSourceSettingsError(`${name} must be a positive integer, got ${value}`);
    }
  };
  positiveInteger("batchSize", options.batchSize);
  positiveInteger("concurrency", options.concurrency);
  if (!(options.timeoutSeconds > 0)) {
    throw new EventSourceSettingsError(`timeoutSeconds must be positive, got ${options.timeoutSeconds}`);
  }
  if (!(options.maxBatchingWindowSeconds >= 0)) {
    throw new EventSourceSettingsError(
      `maxBatchingWindowSeconds must be 0 or more, got ${options.maxBatchingWindowSeconds}`,
    );
  }
  const wait = options.waitTimeSeconds ?? MAX_WAIT_TIME_SECONDS;
  if (!Number.isInteger(wait) || wait < 0 || wait > MAX_WAIT_TIME_SECONDS) {
    throw new EventSourceSettingsError(`waitTimeSeconds must be an integer from 0 to 20, got ${wait}`);
  }
  const visibility = options.visibilityTimeoutSeconds;
  if (
    visibility !== undefined &&
    !(Number.isInteger(visibility) && visibility >= 0 && visibility <= 43_200)
  ) {
    throw new EventSourceSettingsError(
      `visibilityTimeoutSeconds must be an integer from 0 to 43200, got ${visibility}`,
    );
  }
  const after = options.extendVisibilityAfter;
  if (after !== undefined && after !== false && !(after > 0 && after < 1)) {
    throw new EventSourceSettingsError(
      `extendVisibilityAfter must be between 0 and 1 or false, got ${after}`,
    );
  }
}

export class LocalEventSource {
  private readonly options: EventSourceOptions;
  private readonly onError: (error: unknown, during: ErrorPhase) => void;
  private readonly batching: BatchingSettings;
  private readonly clock: Clock;
  /** Aborted when a stop begins: no receive is started after it. */
  private readonly stopping = new AbortController();
  /** Aborted only when a receive outlives its wait after a stop: a stalled connection. */
  private readonly stalledReceives = new AbortController();
  private pollers: Promise<void>[] = [];
  private started = false;
  private pausedNow = false;
  private resumeWaiters: Array<() => void> = [];
  private keepAlive: NodeJS.Timeout | undefined;
  /** Pollers waiting for a resume, or ended: neither receiving nor processing. */
  private idlePollers = 0;
  private pauseWaiters: Array<(paused: boolean) => void> = [];
  private source: { queueArn: string; awsRegion: string; accountId: string } | undefined;
  private visibilityTimeoutSeconds: number | undefined;
  /** Receives at SQS now, each with the time its wait ends. */
  private readonly receivesInFlight = new Map<object, number>();
  private readonly stopRelease: StopRelease;
  /** FIFO queues only: which group may run what (see fifo-groups.ts). */
  private fifo: FifoScheduler | undefined;
  /** FIFO: when each held message was last hidden (received, or extended), by receipt handle. */
  private readonly heldSince = new Map<string, number>();
  private heldKeeper: unknown;
  readonly stats: EventSourceStats = {
    received: 0,
    succeeded: 0,
    failed: 0,
    batches: 0,
    handlerMs: 0,
    timeouts: 0,
    deleteFailures: 0,
    inFlight: 0,
    released: 0,
    releaseFailures: 0,
    visibilityExtensions: 0,
    sentBack: 0,
    heldForFairness: 0,
  };
  /** Fair tenants (standard queues with `fairTenants`): what runs next, quiet tenants first. */
  private fair: FairTenantScheduler | undefined;
  private fairLookahead = DEFAULT_FAIR_LOOKAHEAD;
  /** The fair receiver's loop: it alone receives on a fair source. */
  private fairReceiver: Promise<void> | undefined;
  /** Pollers of a fair source waiting for held work. */
  private workWaiters: Array<() => void> = [];
  /**
   * Fair tenants: when the receiver began reading into a backlog (a full receive after one that was
   * not); pollers let it read ahead for up to `catchUpMs` before they start on what it holds, so a
   * quiet tenant's message behind a flood is seen before the flood is being worked through.
   */
  private catchingUpSince: number | undefined;
  private fairCatchUpMs = DEFAULT_FAIR_CATCH_UP_MS;

  constructor(options: EventSourceOptions) {
    validate(options);
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.onError = options.onError ?? defaultOnError(options.functionName);
    this.stopRelease = new StopRelease({
      change: (receiptHandles, visibilityTimeoutSeconds) =>
        changeVisibility({
          sqs: options.sqs,
          queueUrl: options.queueUrl,
          receiptHandles,
          visibilityTimeoutSeconds,
          onError: (error) => this.reportSafely(error, "release"),
        }),
      onReleased: (released, failed) => {
        this.stats.released += released;
        this.stats.releaseFailures += failed;
      },
      now: () => this.clock.now(),
    });
    this.batching = {
      batchSize: options.batchSize,
      maxBatchingWindowSeconds: options.maxBatchingWindowSeconds,
      waitTimeSeconds: options.waitTimeSeconds ?? MAX_WAIT_TIME_SECONDS,
    };
  }

  /** Resolves the queue's ARN and visibility timeout, then starts the pollers; resolves once they run. */
  async start(): Promise<void> {
    if (this.started) throw new EventSourceSettingsError("this event source was already started");
    this.started = true;
    const fifo = this.isFifo;
    const extending = this.options.extendVisibilityAfter !== false;
    const needed = [
      ...(this.options.queueArn ? [] : (["QueueArn"] as const)),
      ...((extending || fifo || this.options.fairTenants) &&
      this.options.visibilityTimeoutSeconds === undefined
        ? (["VisibilityTimeout"] as const)
        : []),
    ];
    const attributes = needed.length > 0 ? await this.readQueueAttributes(needed) : {};
    const queueArn = this.options.queueArn ?? (attributes.QueueArn as string);
    const { region, accountId } = parseQueueArn(queueArn);
    this.source = { queueArn, awsRegion: region, accountId };
    const visibilityTimeoutSeconds =
      this.options.visibilityTimeoutSeconds ?? Number(attributes.VisibilityTimeout ?? Number.NaN);
    if (extending) this.visibilityTimeoutSeconds = visibilityTimeoutSeconds;
    if (fifo) this.startFifo(visibilityTimeoutSeconds);
    else if (this.options.fairTenants) this.startFair(visibilityTimeoutSeconds);
    this.pollers = Array.from({ length: this.options.concurrency }, () => this.poll());
    if (this.fair) this.fairReceiver = this.receiveAhead();
  }

  /**
   * Stops gracefully and returns the final figures: no new receive is started; a receive already
   * made is awaited (it returns within its wait time; one stalled past that is aborted) and what it
   * brings is released, not processed; in-flight batches finish (or time out) and their deletes
   * complete. Safe to call more than once.
   */
  async stop(): Promise<EventSourceStats> {
    if (!this.stopping.signal.aborted) {
      this.stopping.abort(new Error("event source stopping"));
      const graceMs =
        (this.options.waitTimeSeconds ?? MAX_WAIT_TIME_SECONDS) * 1000 +
        (this.options.stalledReceiveGraceMs ?? DEFAULT_STALLED_RECEIVE_GRACE_MS);
      const stalled = setTimeout(
        () => this.stalledReceives.abort(new Error("receive stalled past its wait time during a stop")),
        graceMs,
      );
      stalled.unref();
      void Promise.all([...this.pollers, this.fairReceiver]).finally(() => clearTimeout(stalled));
      this.wakeWorkers();
    }
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
    await Promise.all([...this.pollers, this.fairReceiver]);
    this.clock.clearTimeout(this.heldKeeper);
    this.heldKeeper = undefined;
    // FIFO messages held for their group's turn were not processed: released, as a late receive's are.
    await this.stopRelease.releaseAll(this.drainHeld());
    return { ...this.stats };
  }

  get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private get isFifo(): boolean {
    return this.options.queueUrl.endsWith(".fifo") || Boolean(this.options.queueArn?.endsWith(".fifo"));
  }

  private startFifo(visibilityTimeoutSeconds: number): void {
    const waitSeconds = this.options.waitTimeSeconds ?? MAX_WAIT_TIME_SECONDS;
    const returnWaitSeconds =
      this.options.fifoReturnWaitSeconds ?? visibilityTimeoutSeconds + waitSeconds + 5;
    this.fifo = new FifoScheduler({
      batchSize: this.options.batchSize,
      returnWaitMs: returnWaitSeconds * 1000,
      now: () => this.clock.now(),
    });
    this.keepHeldHidden(visibilityTimeoutSeconds);
  }

  private startFair(visibilityTimeoutSeconds: number): void {
    const settings = this.options.fairTenants === true ? {} : this.options.fairTenants || {};
    const lookahead = settings.lookahead ?? DEFAULT_FAIR_LOOKAHEAD;
    if (!Number.isInteger(lookahead) || lookahead < this.options.batchSize) {
      throw new EventSourceSettingsError(
        `fairTenants.lookahead must be a whole number of at least batchSize (${this.options.batchSize}), got ${lookahead}`,
      );
    }
    this.fairLookahead = lookahead;
    this.fairCatchUpMs = settings.catchUpMs ?? DEFAULT_FAIR_CATCH_UP_MS;
    this.fair = new FairTenantScheduler({
      batchSize: this.options.batchSize,
      noisyShare: settings.noisyShare ?? FAIR_DEFAULTS.noisyShare,
      noisyMinimum: settings.noisyMinimum ?? FAIR_DEFAULTS.noisyMinimum,
    });
    this.keepHeldHidden(visibilityTimeoutSeconds);
  }

  /** Each tenant's in-flight messages on a fair source, noisiest first; empty otherwise. */
  tenantLoads(): TenantLoad[] {
    return this.fair?.loads() ?? [];
  }

  /** Held messages (FIFO or fair) stay hidden: each is extended once half its visibility timeout has passed. */
  private keepHeldHidden(visibilityTimeoutSeconds: number): void {
    if (visibilityTimeoutSeconds >= 1) {
      const everyMs = Math.min(1_000, (visibilityTimeoutSeconds * 1000) / 4);
      const tick = () => {
        void this.extendHeld(visibilityTimeoutSeconds);
        if (this.stopped) return;
        this.heldKeeper = this.clock.setTimeout(tick, everyMs);
        this.clock.unref(this.heldKeeper);
      };
      this.heldKeeper = this.clock.setTimeout(tick, everyMs);
      this.clock.unref(this.heldKeeper);
    }
  }

  private async extendHeld(visibilityTimeoutSeconds: number): Promise<void> {
    const now = this.clock.now();
    const due = (this.fifo?.held() ?? this.fair?.held() ?? []).flatMap((m) => {
      const handle = m.ReceiptHandle;
      const since = handle ? this.heldSince.get(handle) : undefined;
      return handle && since !== undefined && now - since >= (visibilityTimeoutSeconds * 1000) / 2
        ? [handle]
        : [];
    });
    if (due.length === 0) return;
    for (const handle of due) this.heldSince.set(handle, now);
    this.stats.visibilityExtensions += await changeVisibility({
      sqs: this.options.sqs,
      queueUrl: this.options.queueUrl,
      receiptHandles: due,
      visibilityTimeoutSeconds,
      onError: (error) => this.reportSafely(error, "extend"),
    });
  }

  /** FIFO: hands back every held message (visibility 0); what its group awaits stays awaited. */
  private drainHeld(): string[] {
    const drained = this.fifo?.drain() ?? this.fair?.drain() ?? [];
    const handles = drained.flatMap((m) => (m.ReceiptHandle ? [m.ReceiptHandle] : []));
    this.heldSince.clear();
    this.stats.heldForFairness = 0;
    return handles;
  }

  /** Stops receiving after the receive in hand; batches in flight finish. Messages wait in the queue. */
  pause(): void {
    this.pausedNow = true;
    if (this.stopped) return;
    // A paused worker is still running: with no long poll open, something must keep its process alive.
    this.keepAlive ??= setInterval(() => undefined, 60_000);
    this.wakeWorkers();
  }

  resume(): void {
    this.pausedNow = false;
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
    for (const wake of this.resumeWaiters.splice(0)) wake();
    for (const settle of this.pauseWaiters.splice(0)) settle(false);
  }

  /**
   * Resolves true once paused and every poller has finished what it had in hand (a receive already
   * at SQS, a batch in the handler and its deletes): from then on nothing is received until
   * `resume()`. Resolves false if resumed first.
   */
  whenPaused(): Promise<boolean> {
    return new Promise((resolve) => {
      this.pauseWaiters.push(resolve);
      this.settlePauseWaiters();
    });
  }

  private settlePauseWaiters(): void {
    const idle = !this.started || this.idlePollers >= this.options.concurrency;
    if (!(this.pausedNow && idle)) return;
    // Paused: FIFO messages held for their turn are released rather than kept hidden for the pause.
    const held = this.drainHeld();
    const released = held.length > 0 && !this.stopped ? this.stopRelease.releaseAll(held) : Promise.resolve();
    void released.then(() => {
      for (const settle of this.pauseWaiters.splice(0)) settle(true);
    });
  }

  get paused(): boolean {
    return this.pausedNow;
  }

  /** Resolves on resume() or stop(). */
  private whilePaused(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (!this.pausedNow || signal.aborted) return resolve();
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.resumeWaiters.push(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  private async readQueueAttributes(
    names: readonly ("QueueArn" | "VisibilityTimeout")[],
  ): Promise<Record<string, string>> {
    const { Attributes = {} } = await this.options.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: this.options.queueUrl, AttributeNames: [...names] }),
    );
    for (const name of names) {
      if (!Attributes[name])
        throw new Error(`GetQueueAttributes returned no ${name} for ${this.options.queueUrl}`);
    }
    return Attributes;
  }

  private async receive(request: ReceiveRequest): Promise<Message[]> {
    const token = {};
    this.receivesInFlight.set(token, this.clock.now() + request.waitTimeSeconds * 1000);
    try {
      return await this.receiveMessages(request);
    } finally {
      this.receivesInFlight.delete(token);
      // The last parked receive of a stopping worker is back: what was held can go now.
      if (this.stopping.signal.aborted && this.receivesInFlight.size === 0) {
        void this.stopRelease.releaseAll();
      }
    }
  }

  private async receiveMessages(request: ReceiveRequest): Promise<Message[]> {
    const { Messages } = await this.options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.queueUrl,
        MaxNumberOfMessages: request.maxMessages,
        WaitTimeSeconds: request.waitTimeSeconds,
        // Both spellings: older endpoints know only AttributeNames, newer ones prefer the other.
        AttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
      // Not the stop signal: a receive SQS has accepted is awaited, so its messages can be released.
      { abortSignal: this.stalledReceives.signal },
    );
    this.stats.received += Messages?.length ?? 0;
    return Messages ?? [];
  }

  private async poll(): Promise<void> {
    const signal = this.stopping.signal;
    let receiveFailures = 0;
    while (!signal.aborted) {
      if (this.pausedNow) {
        this.idlePollers += 1;
        this.settlePauseWaiters();
        await this.whilePaused(signal);
        this.idlePollers -= 1;
        continue;
      }
      // FIFO: records held until their group's turn go before a new receive.
      const ready = this.fifo?.take() ?? [];
      if (ready.length > 0) {
        await this.runFifoBatch(ready);
        continue;
      }
      // Fair tenants: the receiver reads ahead; a poller runs what the scheduler serves next.
      if (this.fair) {
        const catchingUp = this.fairCatchUpLeftMs();
        if (catchingUp > 0) {
          await sleepOn(this.clock, Math.min(catchingUp, 20), signal).catch(() => undefined);
          continue;
        }
        const next = this.fair.take();
        this.stats.heldForFairness = this.fair.heldCount;
        if (next.length > 0) await this.runFairBatch(next);
        else await this.whenWork(signal);
        continue;
      }
      let gathered: Gathered;
      try {
        gathered = await gatherBatch(
          this.batching,
          {
            receive: (request) => this.receive(request),
            // Paused while gathering: stop receiving and invoke with what is in hand.
            holding: () => this.pausedNow,
            now: () => this.clock.now(),
            sleep: (ms, abort) => sleepOn(this.clock, ms, abort),
          },
          signal,
        );
        receiveFailures = 0;
      } catch (error) {
        if (signal.aborted) break;
        receiveFailures += 1;
        await this.backOffAfterReceiveFailure(error, receiveFailures, signal);
        continue;
      }
      // Released first: the next worker can take them while this batch finishes.
      if (gathered.afterStop.length > 0) await this.setAside(gathered.afterStop);
      // Runs to completion even when a stop arrives meanwhile: the batch is finished, not dropped.
      // A throw here (from a callback) must not end the poller; undeleted messages simply return.
      if (gathered.batch.length > 0 && this.fifo) {
        const hiddenAt = gathered.firstArrivalMs ?? this.clock.now();
        for (const m of gathered.batch) if (m.ReceiptHandle) this.heldSince.set(m.ReceiptHandle, hiddenAt);
        // Admitted and taken in one step: no other poller's records slip in between.
        this.fifo.admit(gathered.batch);
        const next = this.fifo.take();
        await this.sendBackEarly();
        if (next.length > 0) await this.runFifoBatch(next);
      } else if (gathered.batch.length > 0) {
        await this.runBatch(gathered.batch, gathered.firstArrivalMs ?? this.clock.now()).catch((error) =>
          this.reportSafely(error),
        );
      }
    }
    this.idlePollers += 1;
    this.settlePauseWaiters();
  }

  /** Resolves when the fair receiver admitted messages, or on a pause or a stop. */
  private whenWork(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted || this.pausedNow || (this.fair?.heldCount ?? 0) > 0) return resolve();
      this.workWaiters.push(resolve);
    });
  }

  /** Time left of the receiver's catch-up into a backlog; 0 when pollers may take work. */
  private fairCatchUpLeftMs(): number {
    if (this.catchingUpSince === undefined || (this.fair?.heldCount ?? 0) >= this.fairLookahead) return 0;
    return Math.max(0, this.catchingUpSince + this.fairCatchUpMs - this.clock.now());
  }

  private wakeWorkers(): void {
    for (const wake of this.workWaiters.splice(0)) wake();
  }

  /**
   * Fair tenants: the one receiver. It reads ahead while fewer than `lookahead` messages are held,
   * waiting a second per receive while work is in hand (and the full long poll when idle), and
   * hands what it receives to the scheduler. What a receive brings after a stop or during a pause
   * is released, not held.
   */
  private async receiveAhead(): Promise<void> {
    const signal = this.stopping.signal;
    const fair = this.fair;
    if (!fair) return;
    let receiveFailures = 0;
    while (!signal.aborted) {
      if (this.pausedNow) {
        await this.whilePaused(signal);
        continue;
      }
      if (fair.heldCount >= this.fairLookahead) {
        // Room comes as pollers take batches; look again shortly.
        await sleepOn(this.clock, 50, signal).catch(() => undefined);
        continue;
      }
      let messages: Message[];
      try {
        const busy = fair.heldCount > 0 || this.stats.inFlight > 0;
        messages = await this.receive({
          maxMessages: 10,
          waitTimeSeconds: busy ? Math.min(1, this.batching.waitTimeSeconds) : this.batching.waitTimeSeconds,
        });
        receiveFailures = 0;
      } catch (error) {
        if (signal.aborted) break;
        receiveFailures += 1;
        await this.backOffAfterReceiveFailure(error, receiveFailures, signal);
        continue;
      }
      // A full receive starts (or continues) a catch-up into a backlog; anything less ends it.
      if (messages.length < 10) this.catchingUpSince = undefined;
      else this.catchingUpSince ??= this.clock.now();
      if (messages.length === 0) continue;
      if (signal.aborted) {
        await this.setAside(messages);
        break;
      }
      if (this.pausedNow) {
        const handles = messages.flatMap((m) => (m.ReceiptHandle ? [m.ReceiptHandle] : []));
        await this.stopRelease.releaseAll(handles);
        continue;
      }
      const at = this.clock.now();
      for (const m of messages) if (m.ReceiptHandle) this.heldSince.set(m.ReceiptHandle, at);
      fair.admit(messages);
      this.stats.heldForFairness = fair.heldCount;
      this.wakeWorkers();
    }
  }

  /** Fair tenants: runs a batch the scheduler served and tells it the batch is done. */
  private async runFairBatch(batch: Message[]): Promise<void> {
    const handles = batch.flatMap((m) => (m.ReceiptHandle ? [m.ReceiptHandle] : []));
    const hiddenAt = Math.min(...handles.map((h) => this.heldSince.get(h) ?? this.clock.now()));
    for (const h of handles) this.heldSince.delete(h);
    try {
      await this.runBatch(batch, hiddenAt);
    } catch (error) {
      this.reportSafely(error);
    } finally {
      this.fair?.settle(batch);
    }
  }

  /** FIFO: runs a batch from the scheduler and tells it which records are to come back. */
  private async runFifoBatch(batch: Message[]): Promise<void> {
    const handles = batch.flatMap((m) => (m.ReceiptHandle ? [m.ReceiptHandle] : []));
    const hiddenAt = Math.min(...handles.map((h) => this.heldSince.get(h) ?? this.clock.now()));
    for (const h of handles) this.heldSince.delete(h);
    let failed: ReadonlySet<string> = new Set();
    try {
      failed = await this.runBatch(batch, hiddenAt);
    } catch (error) {
      this.reportSafely(error);
    } finally {
      this.fifo?.settle(batch, failed);
    }
    await this.sendBackEarly();
  }

  /**
   * FIFO: records that arrived before the failed records they follow go back to the queue behind
   * them: those records are recalled (visible now), then these are made visible a moment later
   * (see fifo-groups.ts for why they are not held).
   */
  private async sendBackEarly(): Promise<void> {
    const early = this.fifo?.early();
    if (!early || early.sendBack.length === 0) return;
    const onError = (error: unknown) => this.reportSafely(error, "release");
    const { sqs, queueUrl } = this.options;
    if (early.recall.length > 0) {
      await changeVisibility({
        sqs,
        queueUrl,
        receiptHandles: early.recall,
        visibilityTimeoutSeconds: 0,
        onError,
      });
    }
    const receiptHandles = early.sendBack.flatMap((m) => (m.ReceiptHandle ? [m.ReceiptHandle] : []));
    for (const handle of receiptHandles) this.heldSince.delete(handle);
    this.stats.sentBack += await changeVisibility({
      sqs,
      queueUrl,
      receiptHandles,
      visibilityTimeoutSeconds: SEND_BACK_SECONDS,
      onError,
    });
  }

  /** Messages received after the stop began: held while this worker's other receives are parked, then released. */
  private async setAside(messages: readonly Message[]): Promise<void> {
    const handles = messages.flatMap((m) => (m.ReceiptHandle ? [m.ReceiptHandle] : []));
    const parked = [...this.receivesInFlight.values()];
    await this.stopRelease.setAside(handles, parked.length > 0 ? Math.max(...parked) : undefined);
  }

  private reportSafely(error: unknown, during: ErrorPhase = "handler"): void {
    try {
      this.onError(error, during);
    } catch {
      // The error callback itself failed; there is nowhere left to report to.
    }
  }

  /**
   * An unreachable endpoint or a missing queue: report, back off (doubling with each failure in a
   * row, up to RECEIVE_RETRY_MAX_MS), and let the poller try again, as Lambda does.
   */
  private async backOffAfterReceiveFailure(
    error: unknown,
    failures: number,
    signal: AbortSignal,
  ): Promise<void> {
    this.onError(error, "receive");
    const backoff = Math.min(RECEIVE_RETRY_MAX_MS, RETRY_BASE_MS * 2 ** failures);
    await sleepOn(this.clock, backoff, signal).catch(() => undefined);
  }

  /** Runs one batch; returns the message ids it did not delete (they come back after their visibility timeout). */
  private async runBatch(messages: Message[], receivedAtMs: number): Promise<ReadonlySet<string>> {
    const source = this.source;
    if (!source) throw new Error("runBatch before start");
    const started = this.clock.now();
    const records: SQSRecord[] = [];
    for (const message of messages) {
      try {
        records.push(toSqsRecord(message, source));
      } catch (error) {
        // Without a receipt handle it cannot be deleted; SQS returns it after its visibility timeout.
        this.onError(error, "receive");
      }
    }
    // Lambda never invokes with an empty batch.
    if (records.length === 0) return new Set();
    this.stats.inFlight += records.length;
    const context = createLambdaContext({
      functionName: this.options.functionName,
      timeoutMs: this.options.timeoutSeconds * 1000,
      memoryMb: this.options.memoryMb ?? 128,
      region: source.awsRegion,
      accountId: source.accountId,
      startedAtMs: started,
      now: () => this.clock.now(),
    });
    const keeper = this.keepHidden(records, receivedAtMs, started + this.options.timeoutSeconds * 1000);
    const invokedAt = performance.now();
    const outcome = await this.invoke({ Records: records }, context);
    this.stats.handlerMs += performance.now() - invokedAt;
    // Before anything is deleted or left to return: no extension may land after the outcome.
    await keeper?.settle();
    const settlement = settleBatch(records, outcome);
    if (outcome.kind === "threw") this.onError(outcome.error, "handler");
    else if (settlement.batchFailure) this.onError(new Error(settlement.batchFailure), "handler");

    const deleteFailures = await this.deleteRecords(settlement.succeeded);
    this.stats.inFlight -= records.length;
    this.stats.batches += 1;
    this.stats.succeeded += settlement.succeeded.length;
    this.stats.failed += settlement.failed.length;
    this.stats.deleteFailures += deleteFailures;
    if (outcome.kind === "timedOut") this.stats.timeouts += 1;
    const failedIds = new Set(settlement.failed.map((r) => r.messageId));
    try {
      this.options.onBatch?.({
        functionName: this.options.functionName,
        awsRequestId: context.awsRequestId,
        records: records.length,
        succeeded: settlement.succeeded.length,
        failed: settlement.failed.length,
        timedOut: outcome.kind === "timedOut",
        deleteFailures,
        durationMs: this.clock.now() - started,
        ...(settlement.batchFailure ? { batchFailure: settlement.batchFailure } : {}),
      });
    } catch (error) {
      // A throwing callback must not end the poller, nor lose what this batch settled.
      this.reportSafely(error);
    }
    return failedIds;
  }

  /** Extends the batch's visibility while its handler runs long; undefined when extending is off. */
  private keepHidden(
    records: readonly SQSRecord[],
    receivedAtMs: number,
    deadlineMs: number,
  ): VisibilityKeeper | undefined {
    const visibilityTimeoutSeconds = this.visibilityTimeoutSeconds;
    if (visibilityTimeoutSeconds === undefined || visibilityTimeoutSeconds < 1) return undefined;
    const receiptHandles = records.map((r) => r.receiptHandle);
    return new VisibilityKeeper({
      visibilityTimeoutSeconds,
      extendAfterFraction: this.options.extendVisibilityAfter || DEFAULT_EXTEND_AFTER,
      receivedAtMs,
      deadlineMs,
      clock: this.clock,
      extend: async (seconds) => {
        this.stats.visibilityExtensions += await changeVisibility({
          sqs: this.options.sqs,
          queueUrl: this.options.queueUrl,
          receiptHandles,
          visibilityTimeoutSeconds: seconds,
          onError: (error) => this.reportSafely(error, "extend"),
        });
      },
    });
  }

  /**
   * Calls the handler, racing it against the function timeout. A handler that overruns keeps
   * running in the background (this process cannot freeze it as Lambda does), but its result is
   * ignored and its batch is left to the visibility timeout.
   */
  private async invoke(event: SQSEvent, context: Context): Promise<InvocationOutcome> {
    let timer: unknown;
    const timedOut = new Promise<InvocationOutcome>((resolve) => {
      timer = this.clock.setTimeout(() => resolve({ kind: "timedOut" }), context.getRemainingTimeInMillis());
    });
    const invocation = (async (): Promise<InvocationOutcome> => {
      try {
        return { kind: "returned", value: await this.options.handler(event, context) };
      } catch (error) {
        return { kind: "threw", error };
      }
    })();
    try {
      return await Promise.race([invocation, timedOut]);
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  /** Deletes in chunks of 10, retrying entries that fail; returns how many could not be deleted. */
  private async deleteRecords(records: readonly SQSRecord[]): Promise<number> {
    let undeleted = 0;
    for (let i = 0; i < records.length; i += DELETE_CHUNK) {
      undeleted += await this.deleteChunk(records.slice(i, i + DELETE_CHUNK));
    }
    return undeleted;
  }

  private async deleteChunk(records: readonly SQSRecord[]): Promise<number> {
    // Entry ids must be unique within a call and match [A-Za-z0-9_-]; the index is both.
    let pending = records.map((record, index) => ({
      Id: String(index),
      ReceiptHandle: record.receiptHandle,
    }));
    let unrecoverable = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        const { Failed = [] } = await this.options.sqs.send(
          new DeleteMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: pending }),
        );
        for (const failure of Failed) {
          this.onError(
            new Error(`delete of entry ${failure.Id}: ${failure.Code} ${failure.Message ?? ""}`),
            "delete",
          );
        }
        // A sender fault (an expired receipt handle) will not succeed on retry: that message returns.
        unrecoverable += Failed.filter((f) => f.SenderFault).length;
        const retryable = new Set(Failed.filter((f) => !f.SenderFault).map((f) => f.Id));
        pending = pending.filter((entry) => retryable.has(entry.Id));
      } catch (error) {
        this.onError(error, "delete");
      }
      if (pending.length === 0) return unrecoverable;
      if (attempt >= DELETE_ATTEMPTS) return unrecoverable + pending.length;
      await sleepOn(this.clock, RETRY_BASE_MS * 2 ** (attempt - 1));
    }
  }
}

/** Starts an event source and returns it running. */
export async function startEventSource(options: EventSourceOptions): Promise<LocalEventSource> {
  const source = new LocalEventSource(options);
  await source.start();
  return source;
}
