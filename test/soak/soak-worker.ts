/**
 * A soak worker process: the three sign-up consumers, each built with `defineConsumer` on its real
 * queue and DLQ and run through the local event source, with instrumented handlers that fail at
 * random (transient errors, overrunning the function timeout), reject poison pills for good, and
 * record their side effect through `oncePerEvent` in a DynamoDB-API server (one item per execution,
 * so a repeated effect is visible). The runner SIGKILLs these processes at random.
 *
 * Started by soak.ts with `fork` (IPC channel); configuration in COURIER_SOAK_WORKER.
 */

import { randomUUID } from "node:crypto";
import { appendFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Context } from "aws-lambda";
import {
  IDEMPOTENCY_PARTITION_KEY,
  IDEMPOTENCY_TTL_ATTRIBUTE,
  oncePerEvent,
} from "../../packages/courier/src/lib/idempotency/once-per-event.ts";
import { consumerSpecOf } from "../../packages/courier/src/topology/topology.ts";
import { type LocalEventSource, startEventSource } from "../../packages/courier/src/worker/event-source.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { courierTopology } from "../../src/topology.ts";
import {
  type ConsumerMetrics,
  defineConsumer,
  PermanentError,
  RetryableError,
} from "../helpers/example-consumer.ts";
import {
  EFFECT_KEY,
  type FaultKind,
  POISON_PREFIX,
  type SoakConsumer,
  WORKER_CONFIG_ENV,
  type WorkerConfig,
  type WorkerEvent,
} from "./soak-protocol.ts";

/** A poison pill: valid by the contract, rejected by every consumer's business rules. */
export class PoisonPillError extends PermanentError {
  override readonly name = "PoisonPillError";
}

/** An injected transient failure (a downstream 5xx, a throttle). */
export class InjectedTransientError extends RetryableError {
  override readonly name = "InjectedTransientError";
}

/** Thrown by a handler that overran its timeout: on Lambda the invocation would have been stopped. */
export class InjectedOverrunError extends RetryableError {
  override readonly name = "InjectedOverrunError";
}

const raw = process.env[WORKER_CONFIG_ENV];
if (!raw || !process.send)
  throw new Error(`soak-worker runs only under soak.ts (fork, ${WORKER_CONFIG_ENV})`);
const config = JSON.parse(raw) as WorkerConfig;

/** COURIER_SOAK_TRACE=<dir>: one JSON line per step of every record, for diagnosing a failed soak. */
const traceDir = process.env.COURIER_SOAK_TRACE;
function trace(fields: Record<string, unknown>): void {
  if (traceDir)
    appendFileSync(
      `${traceDir}/worker-${process.pid}.jsonl`,
      `${JSON.stringify({ t: Date.now(), ...fields })}\n`,
    );
}

function tell(event: WorkerEvent): void {
  // The runner may be gone (or the channel closing while this process is killed): nothing to do.
  try {
    process.send?.(event);
  } catch {}
}

const sqs = new SQSClient(localClientConfig());
const { region, credentials } = localClientConfig();
const dynamo = new DynamoDBClient({ endpoint: config.dynamoEndpoint, region, credentials, maxAttempts: 6 });
/**
 * One persistence layer per consumer, as each Lambda function has its own. Powertools re-sets the
 * key prefix on the layer at every invocation, so one layer shared by consumers running
 * concurrently in one process would key one consumer's effects under another's prefix.
 */
const persistenceStoreFor = () =>
  new DynamoDBPersistenceLayer({
    tableName: config.idempotencyTable,
    keyAttr: IDEMPOTENCY_PARTITION_KEY,
    expiryAttr: IDEMPOTENCY_TTL_ATTRIBUTE,
    awsSdkV3Client: dynamo,
  });
const quiet = (name: string) => new Logger({ serviceName: name, logLevel: "SILENT" });
// Metrics are not what the soak measures; an EMF line per batch would only flood the pipe.
const noMetrics = {
  addMetric: () => undefined,
  publishStoredMetrics: () => undefined,
} as unknown as ConsumerMetrics;

function pickFault(): FaultKind | undefined {
  const r = Math.random();
  const half = Math.random() < 0.5;
  if (r < config.transientRate) return half ? "transient-before" : "transient-after";
  if (r < config.transientRate + config.timeoutRate) return half ? "timeout-before" : "timeout-after";
  return undefined;
}

function consumerHandler(name: SoakConsumer, queueUrl: string, dlqUrl: string) {
  // The side effect: one item per execution, keyed by a fresh id, so a repeat shows as two items.
  const effect = oncePerEvent(
    async (input: { eventId: string }) => {
      const effectId = `${name}#${input.eventId}#${randomUUID()}`;
      await dynamo.send(
        new PutItemCommand({
          TableName: config.effectsTable,
          Item: {
            [EFFECT_KEY]: { S: effectId },
            consumer: { S: name },
            eventId: { S: input.eventId },
            pid: { N: String(process.pid) },
            at: { N: String(Date.now()) },
          },
        }),
      );
      tell({ k: "effect", c: name, e: input.eventId });
      trace({ c: name, e: input.eventId, step: "effect", effectId });
      return { effectId };
    },
    { persistenceStore: persistenceStoreFor(), consumer: name },
  );
  const overrun = () => sleep(config.timeoutSeconds * 1000 + 500);

  return defineConsumer({
    name,
    sqs,
    queueUrl,
    dlqUrl,
    logger: quiet(name),
    metrics: noMetrics,
    handle: async (message, ctx) => {
      tell({ k: "delivery", c: name, e: ctx.eventId, r: ctx.receiveCount });
      trace({
        c: name,
        e: ctx.eventId,
        step: "delivery",
        r: ctx.receiveCount,
        m: ctx.messageId,
        left: ctx.remainingTimeMs(),
      });
      if (message.data.accountId.startsWith(POISON_PREFIX)) {
        tell({ k: "fault", c: name, kind: "poison" });
        throw new PoisonPillError(`account ${message.data.accountId} is a designated poison pill`);
      }
      const fault = pickFault();
      if (fault) tell({ k: "fault", c: name, kind: fault });
      if (fault === "transient-before")
        throw new InjectedTransientError("injected: downstream 503 before the effect");
      if (fault === "timeout-before") {
        await overrun();
        throw new InjectedOverrunError("injected: overran the function timeout before the effect");
      }
      // The in-progress lock of a crashed attempt expires with this invocation's deadline.
      effect.registerLambdaContext({ getRemainingTimeInMillis: () => ctx.remainingTimeMs() } as Context);
      try {
        await effect({ eventId: ctx.eventId });
        trace({ c: name, e: ctx.eventId, step: "once-done", left: ctx.remainingTimeMs() });
      } catch (error) {
        trace({
          c: name,
          e: ctx.eventId,
          step: "once-threw",
          error: String(error),
          left: ctx.remainingTimeMs(),
        });
        throw error;
      }
      if (fault === "transient-after")
        throw new InjectedTransientError("injected: downstream 503 after the effect");
      if (fault === "timeout-after") await overrun();
    },
  });
}

const sources: LocalEventSource[] = [];
for (const { name, queueUrl, dlqUrl } of config.consumers) {
  const spec = consumerSpecOf(courierTopology, name);
  sources.push(
    await startEventSource({
      sqs,
      queueUrl,
      handler: consumerHandler(name, queueUrl, dlqUrl),
      functionName: `${name}-soak-${config.workerId}`,
      batchSize: spec.batchSize,
      maxBatchingWindowSeconds: spec.maxBatchingWindowSeconds,
      timeoutSeconds: config.timeoutSeconds,
      concurrency: config.concurrency,
      waitTimeSeconds: 2,
      onBatch: (result) => {
        tell({ k: "batch", c: name, timedOut: result.timedOut, failed: result.failed });
        trace({ c: name, step: "batch", ...result });
      },
      onError: (error, during) =>
        tell({
          k: "error",
          during,
          message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        }),
    }),
  );
}
tell({ k: "ready", pid: process.pid });

process.on("message", (message: unknown) => {
  if (message !== "stop") return;
  void Promise.all(sources.map((s) => s.stop())).then(() => {
    tell({ k: "stopped" });
    process.disconnect?.();
    process.exit(0);
  });
});
// The runner went away without a stop: do not linger as an orphan.
process.on("disconnect", () => process.exit(0));
