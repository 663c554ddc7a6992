/**
 * One consumer's worker process: imports the consumer's handler module and runs it through the
 * local event source (run-consumer.ts) with the deployed batch size, batching window, timeout and
 * concurrency. It reads everything from its environment, as the Lambda function would (the parent
 * builds it with worker-environment.ts from the stack's manifest), so it also runs alone:
 *
 *   COURIER_CONSUMER=team-notify COURIER_QUEUE_URL=... COURIER_WORKER_HANDLER=/app/handler.js \
 *   COURIER_WORKER_SETTINGS='{"batchSize":10,...}' node .../worker/worker-process.js
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
import type { RecordOutcome } from "../lib/consumer/outcomes.ts";
import { RUNTIME_ENV } from "../lib/runtime-env.ts";
import type { EventSourceStats } from "./event-source.ts";
import { startReadableOutput } from "./readable-output.ts";
import { loadHandler, type RunningConsumer, runConsumer, WorkerConfigError } from "./run-consumer.ts";
import { startWorkerTracing } from "./tracing.ts";
import {
  concurrencyFromEnvironment,
  WORKER_BUNDLE_ENV,
  WORKER_HANDLER_ENV,
  waitSecondsFromEnvironment,
  workerSettingsFromEnvironment,
} from "./worker-environment.ts";

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

function summary(consumer: string, stats: EventSourceStats): string {
  return `${consumer}: processed ${stats.succeeded}, failed ${stats.failed}, batches ${stats.batches}, timeouts ${stats.timeouts}, in flight ${stats.inFlight}, released ${stats.released}`;
}

async function main(): Promise<void> {
  const consumer = required(RUNTIME_ENV.consumer);
  const queueUrl = required(RUNTIME_ENV.queueUrl);
  const handlerModule = required(WORKER_HANDLER_ENV);
  const settings = workerSettingsFromEnvironment(process.env);
  const concurrency = concurrencyFromEnvironment(process.env);
  const waitTimeSeconds = waitSecondsFromEnvironment(process.env);
  startReadableOutput(
    process.env,
    process.send ? (outcome) => void send({ kind: "outcome", outcome }) : undefined,
  );

  // Before the handler loads, so its clients' calls and the runtime's spans are recorded.
  const tracing = await startWorkerTracing(process.env, consumer);

  let running: RunningConsumer | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (!running) process.exit(0);
      const stats = await running.stop();
      // The last batches' spans go out before the process ends.
      await tracing?.shutdown().catch(() => {});
      await send({ kind: "stopped", stats });
      if (!process.send) process.stdout.write(`${summary(consumer, stats)} (stopped)\n`);
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
  const handler = await loadHandler(
    handlerModule,
    process.env[WORKER_BUNDLE_ENV] === "1" ? { bundleOf: consumer } : {},
  );
  if (stopping) return;

  running = await runConsumer({
    consumer,
    queueUrl,
    handler,
    settings,
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(waitTimeSeconds !== undefined ? { waitTimeSeconds } : {}),
    onPaused: (paused) => void send({ kind: "paused", paused }),
  });
  if (stopping) return;
  await send({
    kind: "started",
    consumer,
    queueUrl,
    concurrency: running.concurrency,
    batchSize: settings.batchSize,
    maxBatchingWindowSeconds: settings.maxBatchingWindowSeconds,
    timeoutSeconds: settings.timeoutSeconds,
    waitTimeSeconds: running.waitTimeSeconds,
  });
  if (!process.send) {
    process.stdout.write(`${consumer}: polling ${queueUrl} with ${running.concurrency} pollers\n`);
  }

  const source = running;
  let last = "";
  const reportEvery = process.send ? PROGRESS_EVERY_MS : STANDALONE_PRINT_EVERY_MS;
  setInterval(() => {
    const now = JSON.stringify(source.stats);
    if (now === last) return;
    last = now;
    if (process.send) void send({ kind: "progress", stats: { ...source.stats } });
    else process.stdout.write(`${summary(consumer, source.stats)}\n`);
  }, reportEvery).unref();
}

try {
  await main();
} catch (error) {
  // The error's class leads (BundleImportError, WorkerConfigError, ...): what failed, then why.
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(`courier worker: ${reason}\n`);
  await send({ kind: "failed", reason });
  // A handler module may have left timers or sockets open; a worker that failed to start must end.
  process.exit(1);
}
