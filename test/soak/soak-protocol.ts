/** What the soak runner and its worker processes tell each other (IPC messages of `fork`). */
import type { ConsumerName } from "../../src/topology.ts";

export const SOAK_CONSUMERS = [
  "verification-email",
  "verification-sms",
  "team-notify",
] as const satisfies readonly ConsumerName[];
export type SoakConsumer = (typeof SOAK_CONSUMERS)[number];

/** Sign-ups whose accountId starts with this are poison pills: every consumer rejects them for good. */
export const POISON_PREFIX = "poison-";

/** The env variable that carries a worker's configuration (JSON). */
export const WORKER_CONFIG_ENV = "COURIER_SOAK_WORKER";

export interface WorkerConfig {
  readonly workerId: number;
  readonly consumers: ReadonlyArray<{ name: SoakConsumer; queueUrl: string; dlqUrl: string }>;
  readonly dynamoEndpoint: string;
  readonly idempotencyTable: string;
  /** One item per execution of a side effect, so repeats are visible. */
  readonly effectsTable: string;
  /** Share of deliveries that fail with a transient error (half before the effect, half after). */
  readonly transientRate: number;
  /** Share of deliveries that overrun the function timeout (half before the effect, half after). */
  readonly timeoutRate: number;
  readonly timeoutSeconds: number;
  /** Pollers per consumer in this process. */
  readonly concurrency: number;
}

export type FaultKind =
  | "transient-before"
  | "transient-after"
  | "timeout-before"
  | "timeout-after"
  | "poison";

export type WorkerEvent =
  | { readonly k: "ready"; readonly pid: number }
  | { readonly k: "delivery"; readonly c: SoakConsumer; readonly e: string; readonly r: number }
  | { readonly k: "fault"; readonly c: SoakConsumer; readonly kind: FaultKind }
  | { readonly k: "effect"; readonly c: SoakConsumer; readonly e: string }
  | { readonly k: "batch"; readonly c: SoakConsumer; readonly timedOut: boolean; readonly failed: number }
  | { readonly k: "error"; readonly during: string; readonly message: string }
  | { readonly k: "stopped" };

/** Effects table: partition key, and the attributes each execution records. */
export const EFFECT_KEY = "effectId";
