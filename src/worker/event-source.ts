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
 * - `stop()` stops receiving, lets in-flight batches finish (or time out) and their deletes
 *   complete. Nothing is deleted that the handler did not process, so nothing is lost.
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
import {
  type BatchingSettings,
  gatherBatch,
  MAX_WAIT_TIME_SECONDS,
  type ReceiveRequest,
} from "./event-source-batching.ts";
import { type InvocationOutcome, parseQueueArn, settleBatch, toSqsRecord } from "./event-source-records.ts";
import { createLambdaContext } from "./lambda-context.ts";

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
  /** Long-poll wait while the queue is empty (default and maximum 20). */
  readonly waitTimeSeconds?: number;
  /** Called after each batch is settled and its deletes are done. */
  readonly onBatch?: (result: BatchResult) => void;
  /** Receive and delete errors, and handler failures; the default writes one line to stderr. */
  readonly onError?: (error: unknown, during: ErrorPhase) => void;
}

export type ErrorPhase = "receive" | "delete" | "handler";

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
}

/** SQS limits on one DeleteMessageBatch call, and how often to retry entries that failed. */
const DELETE_CHUNK = 10;
const DELETE_ATTEMPTS = 4;
const RETRY_BASE_MS = 200;
const RECEIVE_RETRY_MAX_MS = 10_000;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

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
}

export class LocalEventSource {
  private readonly options: EventSourceOptions;
  private readonly onError: (error: unknown, during: ErrorPhase) => void;
  private readonly batching: BatchingSettings;
  private readonly stopping = new AbortController();
  private pollers: Promise<void>[] = [];
  private started = false;
  private source: { queueArn: string; awsRegion: string; accountId: string } | undefined;
  readonly stats: EventSourceStats = {
    received: 0,
    succeeded: 0,
    failed: 0,
    batches: 0,
    handlerMs: 0,
    timeouts: 0,
    deleteFailures: 0,
    inFlight: 0,
  };

  constructor(options: EventSourceOptions) {
    validate(options);
    this.options = options;
    this.onError = options.onError ?? defaultOnError(options.functionName);
    this.batching = {
      batchSize: options.batchSize,
      maxBatchingWindowSeconds: options.maxBatchingWindowSeconds,
      waitTimeSeconds: options.waitTimeSeconds ?? MAX_WAIT_TIME_SECONDS,
    };
  }

  /** Resolves the queue ARN, then starts the pollers; resolves once they are running. */
  async start(): Promise<void> {
    if (this.started) throw new EventSourceSettingsError("this event source was already started");
    this.started = true;
    const queueArn = this.options.queueArn ?? (await this.readQueueArn());
    const { region, accountId } = parseQueueArn(queueArn);
    this.source = { queueArn, awsRegion: region, accountId };
    this.pollers = Array.from({ length: this.options.concurrency }, () => this.poll());
  }

  /**
   * Stops receiving, waits for in-flight batches to finish (or time out) and their deletes to
   * complete, and returns the final figures. Safe to call more than once.
   */
  async stop(): Promise<EventSourceStats> {
    this.stopping.abort(new Error("event source stopping"));
    await Promise.all(this.pollers);
    return { ...this.stats };
  }

  get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async readQueueArn(): Promise<string> {
    const { Attributes } = await this.options.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: this.options.queueUrl, AttributeNames: ["QueueArn"] }),
    );
    const arn = Attributes?.QueueArn;
    if (!arn) throw new Error(`GetQueueAttributes returned no QueueArn for ${this.options.queueUrl}`);
    return arn;
  }

  private async receive(request: ReceiveRequest, signal: AbortSignal): Promise<Message[]> {
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
      { abortSignal: signal },
    );
    this.stats.received += Messages?.length ?? 0;
    return Messages ?? [];
  }

  private async poll(): Promise<void> {
    const signal = this.stopping.signal;
    let receiveFailures = 0;
    while (!signal.aborted) {
      let messages: Message[];
      try {
        messages = await gatherBatch(
          this.batching,
          { receive: (request, s) => this.receive(request, s), now: Date.now, sleep },
          signal,
        );
        receiveFailures = 0;
      } catch (error) {
        if (signal.aborted) break;
        // An unreachable endpoint or a missing queue: report, back off, keep trying, as Lambda does.
        this.onError(error, "receive");
        receiveFailures += 1;
        const backoff = Math.min(RECEIVE_RETRY_MAX_MS, RETRY_BASE_MS * 2 ** receiveFailures);
        await sleep(backoff, signal).catch(() => undefined);
        continue;
      }
      // Runs to completion even when a stop arrives meanwhile: the batch is finished, not dropped.
      // A throw here (from a callback) must not end the poller; undeleted messages simply return.
      if (messages.length > 0) await this.runBatch(messages).catch((error) => this.reportSafely(error));
    }
  }

  private reportSafely(error: unknown): void {
    try {
      this.onError(error, "handler");
    } catch {
      // The error callback itself failed; there is nowhere left to report to.
    }
  }

  private async runBatch(messages: Message[]): Promise<void> {
    const source = this.source;
    if (!source) throw new Error("runBatch before start");
    const started = Date.now();
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
    if (records.length === 0) return;
    this.stats.inFlight += records.length;
    const context = createLambdaContext({
      functionName: this.options.functionName,
      timeoutMs: this.options.timeoutSeconds * 1000,
      memoryMb: this.options.memoryMb ?? 128,
      region: source.awsRegion,
      accountId: source.accountId,
      startedAtMs: started,
    });
    const invokedAt = performance.now();
    const outcome = await this.invoke({ Records: records }, context);
    this.stats.handlerMs += performance.now() - invokedAt;
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
    this.options.onBatch?.({
      functionName: this.options.functionName,
      awsRequestId: context.awsRequestId,
      records: records.length,
      succeeded: settlement.succeeded.length,
      failed: settlement.failed.length,
      timedOut: outcome.kind === "timedOut",
      deleteFailures,
      durationMs: Date.now() - started,
      ...(settlement.batchFailure ? { batchFailure: settlement.batchFailure } : {}),
    });
  }

  /**
   * Calls the handler, racing it against the function timeout. A handler that overruns keeps
   * running in the background (this process cannot freeze it as Lambda does), but its result is
   * ignored and its batch is left to the visibility timeout.
   */
  private async invoke(event: SQSEvent, context: Context): Promise<InvocationOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<InvocationOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ kind: "timedOut" }), context.getRemainingTimeInMillis());
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
      clearTimeout(timer);
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
      await sleep(RETRY_BASE_MS * 2 ** (attempt - 1));
    }
  }
}

/** Starts an event source and returns it running. */
export async function startEventSource(options: EventSourceOptions): Promise<LocalEventSource> {
  const source = new LocalEventSource(options);
  await source.start();
  return source;
}
