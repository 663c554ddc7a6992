/**
 * Runs one consumer's real Lambda handler module through the local event source, in a worker
 * thread whose environment is that consumer's own (`consumerEnvironment()`), as each Lambda
 * function has its own: the handlers read their settings at cold start and the runtime reads its
 * queue URLs from the same environment, so three consumers cannot share one process.env.
 *
 * Protocol with the test: the worker posts { kind: "started" }, then { kind: "batch" } after each
 * settled batch and { kind: "error" } for each failure; on "stop" it stops the event source
 * (in-flight batches finish) and posts { kind: "stopped", stats }.
 */
import { parentPort, workerData } from "node:worker_threads";
import { SQSClient } from "@aws-sdk/client-sqs";
import { ENV } from "../../packages/courier/src/deployment/consumer-environment.ts";
import { consumerSpecOf } from "../../packages/courier/src/topology/topology.ts";
import { type SqsHandler, startEventSource } from "../../packages/courier/src/worker/event-source.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { courierTopology } from "../../src/topology.ts";

export interface BroadcastWorkerInput {
  readonly consumer: string;
}

export type BroadcastWorkerMessage =
  | { readonly kind: "started" }
  /** Before each invocation: the eventIds in the batch, so the test can tell which event arrived where. */
  | { readonly kind: "invoked"; readonly eventIds: readonly string[] }
  | {
      readonly kind: "batch";
      readonly records: number;
      readonly succeeded: number;
      readonly failed: number;
      readonly batchFailure?: string;
    }
  | { readonly kind: "error"; readonly during: string; readonly message: string }
  | { readonly kind: "stopped"; readonly stats: unknown };

const port = parentPort;
if (!port) throw new Error("broadcast-worker.ts runs only as a worker thread");
const { consumer } = workerData as BroadcastWorkerInput;
const post = (message: BroadcastWorkerMessage) => port.postMessage(message);

const spec = consumerSpecOf(courierTopology, consumer);
const queueUrl = process.env[ENV.queueUrl];
if (!queueUrl) throw new Error(`${ENV.queueUrl} is not set in the ${consumer} worker`);

// The module the Lambda function deploys, imported after this thread's environment is in place.
const { handler } = (await import(new URL(`../../${spec.handlerEntry}`, import.meta.url).href)) as {
  handler: SqsHandler;
};

function eventIdOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { eventId?: unknown; Message?: unknown };
    // Raw delivery carries the envelope; without it, SNS wraps the envelope in Message.
    const envelope = typeof parsed.Message === "string" ? JSON.parse(parsed.Message) : parsed;
    return typeof envelope.eventId === "string" ? envelope.eventId : "(no eventId)";
  } catch {
    return "(not JSON)";
  }
}

const observedHandler: SqsHandler = (event, context) => {
  post({ kind: "invoked", eventIds: event.Records.map((r) => eventIdOf(r.body)) });
  return handler(event, context);
};

const source = await startEventSource({
  sqs: new SQSClient(localClientConfig()),
  queueUrl,
  handler: observedHandler,
  functionName: consumer,
  batchSize: spec.batchSize,
  maxBatchingWindowSeconds: spec.maxBatchingWindowSeconds,
  timeoutSeconds: spec.timeoutSeconds,
  concurrency: spec.maxConcurrency,
  memoryMb: spec.memoryMb,
  onBatch: (result) =>
    post({
      kind: "batch",
      records: result.records,
      succeeded: result.succeeded,
      failed: result.failed,
      ...(result.batchFailure ? { batchFailure: result.batchFailure } : {}),
    }),
  onError: (error, during) =>
    post({
      kind: "error",
      during,
      message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    }),
});
post({ kind: "started" });

port.on("message", (message: unknown) => {
  if (message !== "stop") return;
  void source.stop().then((stats) => {
    post({ kind: "stopped", stats });
    port.close();
  });
});
