/**
 * One consumer's worker process: imports the consumer's Lambda handler module (TypeScript, through
 * tsx) and runs it through the local event source with the topology's batch size, batching window,
 * timeout and concurrency. It reads everything from its environment, as the Lambda function would
 * (see worker-environment.ts), so it also runs alone in a container:
 *
 *   COURIER_CONSUMER=team-notify COURIER_QUEUE_URL=... node --import tsx src/local/worker-process.ts
 *
 * `courier pause <consumer>` tags the queue `courier:paused`; the worker reads the tag every 3 s
 * (pause-watch.ts) and pauses its event source: no new receive, what is in hand finishes. A worker
 * started while its consumer is paused receives nothing until it is resumed.
 *
 * SIGINT, SIGTERM or the parent going away stop it gracefully: no new receives; receives already
 * at SQS are awaited (at most their long-poll wait, COURIER_WORKER_WAIT_SECONDS, default 20) and
 * what they bring is released for another worker, not processed; in-flight batches finish (or time
 * out) and their deletes complete. A second signal exits at once; what was in flight reappears
 * after its visibility timeout, so nothing is lost either way.
 */

import { ENV } from "../deployment/consumer-environment.ts";
import { consumerSpec } from "../../../../src/topology.ts";
import type { RecordOutcome } from "../lib/consumer/outcomes.ts";
import { sqsClient } from "../lib/sqs-client.ts";
import { type EventSourceStats, LocalEventSource, type SqsHandler } from "./event-source.ts";
import { MAX_WAIT_TIME_SECONDS } from "./event-source-batching.ts";
import { type PauseWatch, watchPause } from "./pause-watch.ts";
import { startReadableOutput } from "./readable-output.ts";
import { WORKER_CONCURRENCY_ENV, waitSecondsFromEnvironment } from "./worker-environment.ts";

/** Messages a worker process sends its parent over the IPC channel. */
export type WorkerMessage =
  | {
      readonly kind: "started";
      readonly consumer: string;
      readonly queueUrl: string;
      readonly concurrency: number;
      readonly batchSize: number;
      readonly maxBatchingWindowSeconds: number;
      readonly timeoutSeconds: number;
      readonly waitTimeSeconds: number;
    }
  | { readonly kind: "progress"; readonly stats: EventSourceStats }
  | { readonly kind: "stopped"; readonly stats: EventSourceStats }
  | { readonly kind: "failed"; readonly reason: string }
  /**
   * `courier pause` took effect (every poller has finished what it had in hand: nothing is received
   * until resumed), or `courier resume` did.
   */
  | { readonly kind: "paused"; readonly paused: boolean }
  /** A handled record, in readable mode (readable-output.ts). */
  | { readonly kind: "outcome"; readonly outcome: RecordOutcome };

const PROGRESS_EVERY_MS = 1_000;
const STANDALONE_PRINT_EVERY_MS = 10_000;

export class WorkerConfigError extends Error {
  override readonly name = "WorkerConfigError";
}

/** Resolves once the message is handed to the channel, so exiting right after does not drop it. */
function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

function required(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new WorkerConfigError(`${name} is not set; the worker reads its consumer and queue from it`);
  return value;
}

function concurrencyOverride(): number | undefined {
  const raw = process.env[WORKER_CONCURRENCY_ENV];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new WorkerConfigError(`${WORKER_CONCURRENCY_ENV} must be a positive integer, got "${raw}"`);
  return n;
}

async function loadHandler(handlerEntry: string): Promise<SqsHandler> {
  const module = (await import(new URL(`../../${handlerEntry}`, import.meta.url).href)) as {
    handler?: unknown;
  };
  if (typeof module.handler !== "function") {
    throw new WorkerConfigError(`${handlerEntry} does not export a "handler" function`);
  }
  return module.handler as SqsHandler;
}

function summary(consumer: string, stats: EventSourceStats): string {
  return `${consumer}: processed ${stats.succeeded}, failed ${stats.failed}, batches ${stats.batches}, timeouts ${stats.timeouts}, in flight ${stats.inFlight}, released ${stats.released}`;
}

async function main(): Promise<void> {
  const spec = consumerSpec(required(ENV.consumer));
  const queueUrl = required(ENV.queueUrl);
  const concurrency = concurrencyOverride() ?? spec.maxConcurrency;
  startReadableOutput(
    process.env,
    process.send ? (outcome) => void send({ kind: "outcome", outcome }) : undefined,
  );
  const waitTimeSeconds = waitSecondsFromEnvironment(process.env) ?? MAX_WAIT_TIME_SECONDS;

  let source: LocalEventSource | undefined;
  let stopping: Promise<void> | undefined;
  let pauseWatch: PauseWatch | undefined;
  const stop = () => {
    stopping ??= (async () => {
      pauseWatch?.stop();
      if (!source) process.exit(0);
      const stats = await source.stop();
      await send({ kind: "stopped", stats });
      if (!process.send) process.stdout.write(`${summary(spec.name, stats)} (stopped)\n`);
      process.exit(0);
    })();
    return stopping;
  };
  let signals = 0;
  const onSignal = () => {
    signals += 1;
    // A second signal means "now": in-flight messages return after their visibility timeout.
    if (signals > 1) process.exit(130);
    void stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // A parent that dies without signalling must not leave an orphan polling forever.
  process.on("disconnect", () => void stop());
  // Signals are handled before the handler loads (which may take seconds): a SIGTERM while it loads
  // must end the worker cleanly (exit 0, nothing received yet), not kill it by the signal.
  // Imported after the environment is complete: handlers read their config at module scope (cold start).
  const handler = await loadHandler(spec.handlerEntry);
  if (stopping) return;

  const sqs = sqsClient();
  source = new LocalEventSource({
    sqs,
    queueUrl,
    handler,
    functionName: spec.name,
    batchSize: spec.batchSize,
    maxBatchingWindowSeconds: spec.maxBatchingWindowSeconds,
    timeoutSeconds: spec.timeoutSeconds,
    memoryMb: spec.memoryMb,
    concurrency,
    waitTimeSeconds,
  });
  // `courier pause` tags the queue; the first read happens before the pollers start, so a worker
  // started while its consumer is paused receives nothing.
  pauseWatch = watchPause({
    sqs,
    queueUrl,
    source,
    onChange: (paused) => {
      if (!paused) {
        process.stderr.write(`[${spec.name}] resumed (courier resume): receiving again\n`);
        void send({ kind: "paused", paused: false });
        return;
      }
      process.stderr.write(`[${spec.name}] pausing (courier pause): finishing what is in hand\n`);
      void source?.whenPaused().then((idle) => {
        if (!idle) return;
        process.stderr.write(`[${spec.name}] paused: not receiving; messages wait in the queue\n`);
        void send({ kind: "paused", paused: true });
      });
    },
    onError: (error) =>
      process.stderr.write(`[${spec.name}] reading the pause tag failed: ${(error as Error).message}\n`),
  });
  await pauseWatch.ready;
  await source.start();
  await send({
    kind: "started",
    consumer: spec.name,
    queueUrl,
    concurrency,
    batchSize: spec.batchSize,
    maxBatchingWindowSeconds: spec.maxBatchingWindowSeconds,
    timeoutSeconds: spec.timeoutSeconds,
    waitTimeSeconds,
  });
  if (!process.send) {
    process.stdout.write(`${spec.name}: polling ${queueUrl} with ${concurrency} pollers\n`);
  }

  const running = source;
  let last = "";
  const reportEvery = process.send ? PROGRESS_EVERY_MS : STANDALONE_PRINT_EVERY_MS;
  setInterval(() => {
    const now = JSON.stringify(running.stats);
    if (now === last) return;
    last = now;
    if (process.send) void send({ kind: "progress", stats: { ...running.stats } });
    else process.stdout.write(`${summary(spec.name, running.stats)}\n`);
  }, reportEvery).unref();
}

try {
  await main();
} catch (error) {
  const reason = error instanceof Error ? error.message : String(error);
  process.stderr.write(`courier worker: ${reason}\n`);
  await send({ kind: "failed", reason });
  // A handler module may have left timers or sockets open; a worker that failed to start must end.
  process.exit(1);
}
