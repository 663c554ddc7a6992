/**
 * The environment of one consumer's worker process: the function's environment as the deployed
 * stack's manifest records it (its queue, DLQ, secrets, tables and the team's own variables), plus
 * where AWS is (the command's target, src/deployment/aws-target.ts), plus what the worker process
 * itself reads: the handler module and the event source settings. Locally the target is LocalStack
 * with its dummy credentials; against AWS (container worker mode) only what the operator chose
 * (profile, region, endpoint) is set and the SDK's default chain finds the rest.
 */
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { CREDENTIAL_SOURCES } from "../deployment/aws-target.ts";
import type { DeployedConsumer } from "../deployment/deployed-topology.ts";
import { RUNTIME_ENV } from "../lib/runtime-env.ts";

/** Where the workers' AWS calls go. */
export interface WorkerTarget {
  /** AWS_* variables that name the target (from `targetEnvironment()`). */
  readonly env: Readonly<Record<string, string>>;
  /**
   * True for LocalStack: credential sources inherited from the parent (a profile, a container
   * role) are removed so nothing the worker does can reach a real account.
   */
  readonly isolated: boolean;
}

/** Optional override of the poller count, read by the worker process. */
export const WORKER_CONCURRENCY_ENV = "COURIER_WORKER_CONCURRENCY";
/**
 * Optional long-poll wait in seconds (0-20, default 20), read by the worker process. A stop waits
 * for the receives in flight, so this bounds the stop: lower it when the grace period is short.
 */
export const WORKER_WAIT_SECONDS_ENV = "COURIER_WORKER_WAIT_SECONDS";
/** The handler module the worker process imports: an absolute path. */
export const WORKER_HANDLER_ENV = "COURIER_WORKER_HANDLER";
/** The consumer's event source settings from the manifest, as JSON (`WorkerSettings`). */
export const WORKER_SETTINGS_ENV = "COURIER_WORKER_SETTINGS";
/** Set ("1") when the handler module is the consumer's deployed bundle, not its sources. */
export const WORKER_BUNDLE_ENV = "COURIER_WORKER_BUNDLE";

/** What the local event source takes from a consumer's deployed settings. */
export interface WorkerSettings {
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  /** Lambda's maximum concurrency: the worker's poller count unless overridden. */
  readonly maxConcurrency: number;
  readonly timeoutSeconds: number;
  readonly visibilityTimeoutSeconds?: number;
  readonly memoryMb?: number;
  /** Its topic names a tenant (a standard queue): serve tenants as SQS fair queues do. */
  readonly fairTenants?: boolean;
}

export function workerSettingsOf(consumer: DeployedConsumer): WorkerSettings {
  return {
    batchSize: consumer.batchSize,
    maxBatchingWindowSeconds: consumer.maxBatchingWindowSeconds,
    maxConcurrency: consumer.maxConcurrency,
    timeoutSeconds: consumer.timeoutSeconds,
    visibilityTimeoutSeconds: consumer.visibilityTimeoutSeconds,
    ...(consumer.tenant !== undefined && !consumer.fifo ? { fairTenants: true } : {}),
  };
}

/** A worker option (not a consumer's setting) that SQS or the worker cannot take. */
export class WorkerOptionError extends Error {
  override readonly name = "WorkerOptionError";
}

/** A long-poll wait as SQS takes it: whole seconds from 0 to 20. */
export function validWaitSeconds(value: number, source: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 20) {
    throw new WorkerOptionError(`${source} must be a whole number of seconds from 0 to 20, got ${value}`);
  }
  return value;
}

/** The wait from a worker's environment, or undefined for the default (20). */
export function waitSecondsFromEnvironment(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env[WORKER_WAIT_SECONDS_ENV];
  if (raw === undefined || raw.trim() === "") return undefined;
  return validWaitSeconds(Number(raw), WORKER_WAIT_SECONDS_ENV);
}

/** The poller count override from a worker's environment, or undefined for the consumer's own. */
export function concurrencyFromEnvironment(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env[WORKER_CONCURRENCY_ENV];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new WorkerOptionError(`${WORKER_CONCURRENCY_ENV} must be a positive integer, got "${raw}"`);
  return n;
}

export function workerSettingsFromEnvironment(env: NodeJS.ProcessEnv): WorkerSettings {
  const raw = env[WORKER_SETTINGS_ENV];
  if (!raw)
    throw new WorkerOptionError(`${WORKER_SETTINGS_ENV} is not set; the worker reads its settings from it`);
  let parsed: Partial<Record<keyof WorkerSettings, unknown>>;
  try {
    parsed = JSON.parse(raw) as typeof parsed;
  } catch {
    throw new WorkerOptionError(`${WORKER_SETTINGS_ENV} is not JSON`);
  }
  const number = (key: keyof WorkerSettings, optional = false): number | undefined => {
    const value = parsed[key];
    if (value === undefined && optional) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
      throw new WorkerOptionError(
        `${WORKER_SETTINGS_ENV}.${key} must be a number, got ${JSON.stringify(value)}`,
      );
    return value;
  };
  const visibility = number("visibilityTimeoutSeconds", true);
  const memory = number("memoryMb", true);
  return {
    batchSize: number("batchSize") as number,
    maxBatchingWindowSeconds: number("maxBatchingWindowSeconds") as number,
    maxConcurrency: number("maxConcurrency") as number,
    timeoutSeconds: number("timeoutSeconds") as number,
    ...(visibility !== undefined ? { visibilityTimeoutSeconds: visibility } : {}),
    ...(memory !== undefined ? { memoryMb: memory } : {}),
    ...(parsed.fairTenants === true ? { fairTenants: true } : {}),
  };
}

export class HandlerModuleNotFoundError extends Error {
  override readonly name = "HandlerModuleNotFoundError";
}

/**
 * The handler module of a consumer: `<projectRoot>/<handlerEntry>` as it is (Node.js 22.18+ strips
 * TypeScript types; tsx does too), else a compiled `.js`/`.mjs` beside it (a build that emits next
 * to its sources, or a project root pointed at the build's output).
 */
export function resolveHandlerModule(projectRoot: string, handlerEntry: string): string {
  const entry = isAbsolute(handlerEntry) ? handlerEntry : resolve(projectRoot, handlerEntry);
  const base = entry.replace(/\.(?:[cm]?ts|tsx)$/, "");
  const candidates = [entry, ...(base === entry ? [] : [`${base}.js`, `${base}.mjs`])];
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new HandlerModuleNotFoundError(
      `handler module ${handlerEntry} not found under ${projectRoot} (looked for ${candidates.join(", ")}); pass the project root that holds it (--project-root)`,
    );
  }
  return found;
}

export interface WorkerEnvironmentOptions {
  readonly consumer: DeployedConsumer;
  /** The handler module, absolute (`resolveHandlerModule`). */
  readonly handlerModule: string;
  /** The handler module is the consumer's deployed bundle (`bundledHandlerModules`). @default false */
  readonly bundle?: boolean;
  readonly target: WorkerTarget;
  /** The parent's environment (PATH, NODE_OPTIONS, AWS settings in AWS mode, ...). */
  readonly baseEnv: NodeJS.ProcessEnv;
  /**
   * Variables laid over the function's deployed environment: a value this run needs that differs
   * from the deployment's (a local webhook); an empty value unsets the variable. @default none
   */
  readonly environment?: Readonly<Record<string, string>>;
  readonly concurrency?: number;
  /** Long-poll wait in seconds (0-20); a stop takes at most about this long to collect its receives. */
  readonly waitTimeSeconds?: number;
}

export function workerEnvironment(options: WorkerEnvironmentOptions): Record<string, string> {
  const { consumer, target, baseEnv } = options;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(baseEnv)) if (value !== undefined) env[key] = value;
  if (target.isolated) for (const key of CREDENTIAL_SOURCES) delete env[key];
  // The handlers build their own SDK clients from the environment, as on Lambda.
  Object.assign(env, target.env);
  // The function's own variables as deployed; a value the operator's environment sets for one of
  // them wins (a container's configuration), as do this run's overrides. An empty value unsets.
  for (const [key, value] of Object.entries(consumer.environment)) env[key] = baseEnv[key] ?? value;
  // Courier's own: the consumer this worker is, whatever the operator's environment holds.
  Object.assign(env, {
    [RUNTIME_ENV.consumer]: consumer.name,
    [RUNTIME_ENV.queueUrl]: consumer.queueUrl,
    [RUNTIME_ENV.dlqUrl]: consumer.dlqUrl,
    POWERTOOLS_SERVICE_NAME: consumer.environment.POWERTOOLS_SERVICE_NAME ?? consumer.name,
  });
  Object.assign(env, options.environment);
  for (const key of [...Object.keys(consumer.environment), ...Object.keys(options.environment ?? {})]) {
    if (env[key] === "") delete env[key];
  }
  // The AWS SDK's Node.js version support notice is printed once by the parent, not once per worker.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  env[WORKER_HANDLER_ENV] = options.handlerModule;
  if (options.bundle) env[WORKER_BUNDLE_ENV] = "1";
  else delete env[WORKER_BUNDLE_ENV];
  env[WORKER_SETTINGS_ENV] = JSON.stringify(workerSettingsOf(consumer));
  if (options.concurrency !== undefined) env[WORKER_CONCURRENCY_ENV] = String(options.concurrency);
  else delete env[WORKER_CONCURRENCY_ENV];
  if (options.waitTimeSeconds !== undefined) {
    env[WORKER_WAIT_SECONDS_ENV] = String(validWaitSeconds(options.waitTimeSeconds, "waitTimeSeconds"));
  }
  return env;
}
