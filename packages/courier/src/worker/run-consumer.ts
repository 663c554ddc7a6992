/**
 * One consumer run in this process: its handler through the local event source with the deployed
 * settings, honouring `courier pause`. The worker process (worker-process.ts) is this plus an IPC
 * channel; a team's own container entry point may call it directly with a handler it imported.
 */
import { pathToFileURL } from "node:url";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { sqsClient } from "../lib/sqs-client.ts";
import { BundleImportError } from "./bundles.ts";
import { type EventSourceStats, LocalEventSource, type SqsHandler } from "./event-source.ts";
import { MAX_WAIT_TIME_SECONDS } from "./event-source-batching.ts";
import { type PauseWatch, watchPause } from "./pause-watch.ts";
import type { WorkerSettings } from "./worker-environment.ts";

export class WorkerConfigError extends Error {
  override readonly name = "WorkerConfigError";
}

export interface LoadHandlerOptions {
  /**
   * The module is a deployed bundle of this consumer (`bundledHandlerModules`): an import that
   * fails becomes a BundleImportError naming the consumer and the cause. @default a source module
   */
  readonly bundleOf?: string;
}

/** The module's `handler` export (a Lambda SQS handler, as `defineConsumer` makes). */
export async function loadHandler(modulePath: string, options: LoadHandlerOptions = {}): Promise<SqsHandler> {
  let module: { handler?: unknown };
  try {
    module = (await import(pathToFileURL(modulePath).href)) as { handler?: unknown };
  } catch (error) {
    if (options.bundleOf !== undefined) throw new BundleImportError(options.bundleOf, modulePath, error);
    throw error;
  }
  if (typeof module.handler !== "function") {
    throw new WorkerConfigError(`${modulePath} does not export a "handler" function`);
  }
  return module.handler as SqsHandler;
}

export interface RunConsumerOptions {
  /** The consumer's name: the function name on the Lambda context and in log lines. */
  readonly consumer: string;
  readonly queueUrl: string;
  readonly handler: SqsHandler;
  readonly settings: WorkerSettings;
  /** Pollers. @default settings.maxConcurrency */
  readonly concurrency?: number;
  /** Long-poll wait in seconds (0-20); bounds how long a stop waits for receives. @default 20 */
  readonly waitTimeSeconds?: number;
  /** @default an SQS client from the environment's configuration chain */
  readonly sqs?: SQSClient;
  /** Follow the queue's `courier:paused` tag (`courier pause` / `courier resume`). @default true */
  readonly watchPause?: boolean;
  /** A pause took effect (every poller idle) or a resume did. */
  readonly onPaused?: (paused: boolean) => void;
  /** Where pause and resume notices go. @default process.stderr */
  readonly log?: (line: string) => void;
}

export interface RunningConsumer {
  readonly consumer: string;
  readonly queueUrl: string;
  readonly concurrency: number;
  readonly waitTimeSeconds: number;
  readonly settings: WorkerSettings;
  /** Live counts. */
  readonly stats: Readonly<EventSourceStats>;
  /**
   * Stops receiving; receives in flight return (their messages are released, not processed) and
   * in-flight batches finish. Resolves with the final counts.
   */
  stop(): Promise<EventSourceStats>;
}

/** Starts the consumer's pollers; resolves once they run (after a first read of the pause tag). */
export async function runConsumer(options: RunConsumerOptions): Promise<RunningConsumer> {
  const { consumer, queueUrl, settings } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const concurrency = options.concurrency ?? settings.maxConcurrency;
  const waitTimeSeconds = options.waitTimeSeconds ?? MAX_WAIT_TIME_SECONDS;
  const sqs = options.sqs ?? sqsClient();
  const source = new LocalEventSource({
    sqs,
    queueUrl,
    handler: options.handler,
    functionName: consumer,
    batchSize: settings.batchSize,
    maxBatchingWindowSeconds: settings.maxBatchingWindowSeconds,
    timeoutSeconds: settings.timeoutSeconds,
    ...(settings.memoryMb !== undefined ? { memoryMb: settings.memoryMb } : {}),
    ...(settings.visibilityTimeoutSeconds !== undefined
      ? { visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds }
      : {}),
    concurrency,
    waitTimeSeconds,
    // A topic with tenants: its standard queue is a fair queue on AWS; served the same way here.
    ...(settings.fairTenants ? { fairTenants: true } : {}),
  });
  let pauseWatch: PauseWatch | undefined;
  if (options.watchPause ?? true) {
    // The first read happens before the pollers start: a worker started while its consumer is
    // paused receives nothing.
    pauseWatch = watchPause({
      sqs,
      queueUrl,
      source,
      onChange: (paused) => {
        if (!paused) {
          log(`[${consumer}] resumed (courier resume): receiving again`);
          options.onPaused?.(false);
          return;
        }
        log(`[${consumer}] pausing (courier pause): finishing what is in hand`);
        void source.whenPaused().then((idle) => {
          if (!idle) return;
          log(`[${consumer}] paused: not receiving; messages wait in the queue`);
          options.onPaused?.(true);
        });
      },
      onError: (error) => log(`[${consumer}] reading the pause tag failed: ${(error as Error).message}`),
    });
    await pauseWatch.ready;
  }
  await source.start();
  return {
    consumer,
    queueUrl,
    concurrency,
    waitTimeSeconds,
    settings,
    get stats() {
      return source.stats;
    },
    stop: () => {
      pauseWatch?.stop();
      return source.stop();
    },
  };
}
