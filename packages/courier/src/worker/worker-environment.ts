/**
 * The environment of one consumer's worker process: what its Lambda function would get
 * (`consumerEnvironment()` with the deployed stack's addresses), plus where AWS is: the variables of
 * the command's target (src/deployment/aws-target.ts). Locally that is LocalStack with its dummy
 * credentials; against AWS (container worker mode) only what the operator chose (profile, region,
 * endpoint) is set and the SDK's default chain finds the rest.
 */
import { CREDENTIAL_SOURCES } from "../deployment/aws-target.ts";
import { consumerEnvironment, type DeploySettings, ENV } from "../deployment/consumer-environment.ts";
import { needsOf } from "../deployment/consumer-needs.ts";
import { DEPLOY_SETTINGS } from "../../../../src/app/deployment/deploy-settings.ts";
import { consumerResources, type DeployedTopology } from "../deployment/deployed-topology.ts";
import { type ConsumerName, consumerSpec } from "../../../../src/topology.ts";

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

/** Deploy settings a worker reads from its own environment; locally they have defaults. */
export const SETTINGS_ENV: Record<keyof DeploySettings, string> = {
  mailFrom: DEPLOY_SETTINGS.mailFrom.env,
  verifyUrlBase: DEPLOY_SETTINGS.verifyUrlBase.env,
  teamWebhookUrl: DEPLOY_SETTINGS.teamWebhookUrl.env,
  teamWebhookSecretArn: DEPLOY_SETTINGS.teamWebhookUrl.secretAlternative.env,
};

/** A consumer's required setting has no value: the consumer must not be started half-configured. */
export class WorkerSettingError extends Error {
  override readonly name = "WorkerSettingError";
  readonly consumer: ConsumerName;
  /** Each missing setting, as the variable to set (with its alternative, if any). */
  readonly missing: readonly string[];

  constructor(consumer: ConsumerName, missing: readonly string[]) {
    super(`${consumer} needs ${missing.join(", ")}: set it in the environment`);
    this.consumer = consumer;
    this.missing = missing;
  }
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

/** Marks a setting nobody supplied, so only the consumers that need it fail, naming it. */
const UNSET = "\u0000unset";

/** Settings from the environment, falling back to `defaults` (the local run's) where given. */
export function settingsFromEnvironment(
  env: NodeJS.ProcessEnv,
  defaults?: Partial<DeploySettings>,
): DeploySettings {
  const pick = (key: keyof DeploySettings) => env[SETTINGS_ENV[key]] || defaults?.[key] || UNSET;
  // Optional: when present it replaces teamWebhookUrl, so it must not default to UNSET.
  const secretArn = env[SETTINGS_ENV.teamWebhookSecretArn] || defaults?.teamWebhookSecretArn;
  return {
    mailFrom: pick("mailFrom"),
    verifyUrlBase: pick("verifyUrlBase"),
    teamWebhookUrl: pick("teamWebhookUrl"),
    ...(secretArn ? { teamWebhookSecretArn: secretArn } : {}),
  };
}

export interface WorkerEnvironmentOptions {
  readonly consumer: ConsumerName;
  readonly topology: DeployedTopology;
  readonly settings: DeploySettings;
  readonly target: WorkerTarget;
  /** The parent's environment (PATH, NODE_OPTIONS, AWS settings in AWS mode, ...). */
  readonly baseEnv: NodeJS.ProcessEnv;
  readonly concurrency?: number;
  /** Long-poll wait in seconds (0-20); a stop takes at most about this long to collect its receives. */
  readonly waitTimeSeconds?: number;
  /** Set where no table is deployed but a local DynamoDB-API server has one. */
  readonly idempotencyTable?: string;
  /** Likewise for the audit trail table. */
  readonly auditTable?: string;
}

export function workerEnvironment(options: WorkerEnvironmentOptions): Record<string, string> {
  const { consumer, topology, target } = options;
  const resources = consumerResources(
    topology,
    consumer,
    topology.idempotencyTable ?? options.idempotencyTable,
    topology.auditTable ?? options.auditTable,
  );
  // The same derivation as the stack's: a consumer gets the variables its topology entry needs.
  const functionEnv = consumerEnvironment(consumer, resources, options.settings);
  const missing = Object.entries(functionEnv)
    .filter(([, value]) => value === UNSET)
    .map(([key]) => key);
  // The audit trail has no stand-in: without its table every record would fail at cold start.
  if (needsOf(consumerSpec(consumer)).appendsAuditTrail && !functionEnv[ENV.auditTable]) {
    missing.push(ENV.auditTable);
  }
  if (missing.length > 0) {
    // The webhook may also come from a secret, which keeps the URL out of the environment.
    const described = missing.map((key) =>
      key === SETTINGS_ENV.teamWebhookUrl ? `${key} (or ${SETTINGS_ENV.teamWebhookSecretArn})` : key,
    );
    throw new WorkerSettingError(consumer, described);
  }

  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.baseEnv)) if (value !== undefined) env[key] = value;
  if (target.isolated) for (const key of CREDENTIAL_SOURCES) delete env[key];
  // The handlers build their own SDK clients from the environment, as on Lambda.
  Object.assign(env, target.env);
  Object.assign(env, functionEnv);
  // The AWS SDK's Node.js 20 support notice is printed once by the parent, not once per worker.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  if (options.concurrency !== undefined) env[WORKER_CONCURRENCY_ENV] = String(options.concurrency);
  if (options.waitTimeSeconds !== undefined) {
    env[WORKER_WAIT_SECONDS_ENV] = String(validWaitSeconds(options.waitTimeSeconds, "waitTimeSeconds"));
  }
  return env;
}
