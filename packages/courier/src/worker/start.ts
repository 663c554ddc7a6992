/**
 * Worker mode from a deployed stack: everything a worker needs (queue URLs, event source settings,
 * the function's environment, the handler module's path) comes from the stack's manifest, so any
 * courier stack's consumers run here as their Lambda functions run in AWS.
 *
 * - `startWorkers`: one child process per consumer (each with its own function environment, as each
 *   function has its own); what `courier work` and the example's `npm start` run.
 * - `startWorker`: one consumer in this process, for a container whose entry point is the team's
 *   own (with a handler it imported, or the module the manifest names).
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DeployedTopology } from "../deployment/deployed-topology.ts";
import { RUNTIME_ENV } from "../lib/runtime-env.ts";
import { undeployedArchiverNames, workerConsumer } from "./archive-worker.ts";
import { BundleNotFoundError } from "./bundles.ts";
import type { SqsHandler } from "./event-source.ts";
import { loadHandler, type RunningConsumer, runConsumer } from "./run-consumer.ts";
import { type WorkerPlan, WorkerPool, type WorkerPoolEvents } from "./worker.ts";
import {
  resolveHandlerModule,
  type WorkerTarget,
  workerEnvironment,
  workerSettingsOf,
} from "./worker-environment.ts";

/** Variables laid over a consumer's deployed environment: the same for all, or per consumer. */
export type EnvironmentOverrides =
  | Readonly<Record<string, string>>
  | ((consumer: string) => Readonly<Record<string, string>> | undefined);

export interface WorkerPlanOptions {
  /** The deployed stack, from `readDeployedTopology()` or `topologyFromOutputs()`. */
  readonly topology: DeployedTopology;
  /**
   * Consumer names, and `archive:<topic>` for a topic's archiver.
   * @default every consumer of the stack, and each archiver not deployed as a function
   */
  readonly consumers?: readonly string[];
  /** Where the manifest's `handlerEntry` paths start. @default process.cwd() */
  readonly projectRoot?: string;
  /**
   * Run the deployed bundles instead of the handler sources: each consumer's bundle by name, as
   * `bundledHandlerModules` reads them from a synthesized assembly. A consumer missing from it is
   * an error, not a silent fall back to its sources. @default the sources under projectRoot
   */
  readonly bundles?: Readonly<Record<string, string>>;
  /** Where the workers' AWS calls go. @default the environment's own configuration chain */
  readonly target?: WorkerTarget;
  /** The environment the children start from. @default process.env */
  readonly baseEnv?: NodeJS.ProcessEnv;
  /** @default none */
  readonly environment?: EnvironmentOverrides;
  /** Pollers per consumer. @default each consumer's maxConcurrency */
  readonly concurrency?: number;
  /** Long-poll wait in seconds (0-20); bounds how long a stop waits for receives. @default 20 */
  readonly waitTimeSeconds?: number;
}

function overridesFor(overrides: EnvironmentOverrides | undefined, consumer: string) {
  return typeof overrides === "function" ? overrides(consumer) : overrides;
}

/**
 * One plan per consumer: its name and its process's environment. Throws when a consumer is not in
 * the stack or its handler module is not under the project root.
 */
export function workerPlans(options: WorkerPlanOptions): WorkerPlan[] {
  const { topology } = options;
  // By default every consumer, and every archiver the deployment does not run as a function.
  const names = options.consumers?.length
    ? options.consumers
    : [...Object.keys(topology.consumers), ...undeployedArchiverNames(topology)];
  const projectRoot = options.projectRoot ?? process.cwd();
  const baseEnv = options.baseEnv ?? process.env;
  const withoutTable = idempotencyTableUnreachable(topology, options.target, baseEnv);
  return [...new Set(names)].map((name) => {
    // A consumer, or a topic's archiver (`archive:<topic>`).
    const consumer = workerConsumer(topology, name);
    const environment = {
      ...(withoutTable ? { [RUNTIME_ENV.idempotencyTable]: "" } : {}),
      ...overridesFor(options.environment, name),
    };
    const bundle = options.bundles ? bundleOf(options.bundles, name) : undefined;
    return {
      consumer: name,
      env: workerEnvironment({
        consumer,
        handlerModule: bundle ?? resolveHandlerModule(projectRoot, consumer.handlerEntry),
        bundle: bundle !== undefined,
        target: options.target ?? { env: {}, isolated: false },
        baseEnv,
        environment,
        ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
        ...(options.waitTimeSeconds !== undefined ? { waitTimeSeconds: options.waitTimeSeconds } : {}),
      }),
    };
  });
}

function bundleOf(bundles: Readonly<Record<string, string>>, consumer: string): string {
  const path = bundles[consumer];
  if (!path) {
    throw new BundleNotFoundError(
      `no bundle for consumer "${consumer}" (bundles for: ${Object.keys(bundles).join(", ") || "none"})`,
    );
  }
  return path;
}

/**
 * On LocalStack the stack's DynamoDB table is not deployed (the local template drops it): without a
 * DynamoDB-API server to hold it (AWS_ENDPOINT_URL_DYNAMODB) its name leads nowhere, so workers run
 * without it (idempotency off) rather than failing every record on a call LocalStack cannot serve.
 */
export function idempotencyTableUnreachable(
  topology: DeployedTopology,
  target: WorkerTarget | undefined,
  baseEnv: NodeJS.ProcessEnv = process.env,
): boolean {
  return Boolean(target?.isolated && topology.idempotencyTable && !baseEnv.AWS_ENDPOINT_URL_DYNAMODB);
}

export interface StartWorkersOptions extends WorkerPlanOptions, WorkerPoolEvents {}

/**
 * Starts a worker process per consumer. `stop()` on the pool stops them gracefully (a second call
 * at once); `done()` resolves when all have exited.
 */
export function startWorkers(options: StartWorkersOptions): WorkerPool {
  return new WorkerPool(workerPlans(options), options);
}

export interface StartWorkerOptions {
  readonly topology: DeployedTopology;
  readonly consumer: string;
  /**
   * The consumer's handler. @default the module at `<projectRoot>/<handlerEntry>` (or a `.js`
   * beside it), imported after the consumer's deployed environment is applied to `process.env`
   */
  readonly handler?: SqsHandler;
  /** @default process.cwd() */
  readonly projectRoot?: string;
  /** The consumer's deployed bundles (`bundledHandlerModules`), loaded instead of its sources. */
  readonly bundles?: Readonly<Record<string, string>>;
  /** Laid over the deployed environment (only when the handler is loaded from the manifest). */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default the consumer's maxConcurrency */
  readonly concurrency?: number;
  /** @default 20 */
  readonly waitTimeSeconds?: number;
  /** @default an SQS client from the environment's configuration chain */
  readonly sqs?: SQSClient;
  readonly onPaused?: (paused: boolean) => void;
  /** @default process.stderr */
  readonly log?: (line: string) => void;
}

/**
 * Runs one consumer in this process: a container's entry point. Without a `handler`, the deployed
 * function environment fills what `process.env` does not already set (the container's own
 * variables win), then the handler module loads, as a Lambda cold start would.
 */
export async function startWorker(options: StartWorkerOptions): Promise<RunningConsumer> {
  const consumer = workerConsumer(options.topology, options.consumer);
  let handler = options.handler;
  if (!handler) {
    const deployed: Record<string, string> = {
      [RUNTIME_ENV.consumer]: consumer.name,
      [RUNTIME_ENV.queueUrl]: consumer.queueUrl,
      [RUNTIME_ENV.dlqUrl]: consumer.dlqUrl,
      POWERTOOLS_SERVICE_NAME: consumer.name,
      ...consumer.environment,
    };
    for (const [key, value] of Object.entries(deployed)) process.env[key] ??= value;
    Object.assign(process.env, options.environment);
    handler = options.bundles
      ? await loadHandler(bundleOf(options.bundles, consumer.name), { bundleOf: consumer.name })
      : await loadHandler(resolveHandlerModule(options.projectRoot ?? process.cwd(), consumer.handlerEntry));
  }
  return runConsumer({
    consumer: consumer.name,
    queueUrl: consumer.queueUrl,
    handler,
    settings: workerSettingsOf(consumer),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.waitTimeSeconds !== undefined ? { waitTimeSeconds: options.waitTimeSeconds } : {}),
    ...(options.sqs ? { sqs: options.sqs } : {}),
    ...(options.onPaused ? { onPaused: options.onPaused } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
}
