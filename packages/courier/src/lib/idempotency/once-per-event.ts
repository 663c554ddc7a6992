/**
 * Side effects at most once per event. SQS delivers at least once and a redrive gives a message a
 * new MessageId, so the key is the producer's `eventId`, prefixed by the consumer: the email, the
 * SMS and the webhook are three separate effects of one event. Powertools idempotency does the
 * record keeping (in-progress lock, stored result, expiry) in DynamoDB.
 */

import { IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { BasePersistenceLayer } from "@aws-lambda-powertools/idempotency/persistence";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Context } from "aws-lambda";
import * as z from "zod/mini";
import { idempotencyScope } from "../consumer/replay-lineage.ts";
import "../zod-locale.ts";
import { RUNTIME_ENV as ENV } from "../runtime-env.ts";
import {
  IDEMPOTENCY_PARTITION_KEY,
  IDEMPOTENCY_TTL_ATTRIBUTE,
  idempotencyKeyPrefix,
} from "./table-schema.ts";

export { IDEMPOTENCY_PARTITION_KEY, IDEMPOTENCY_TTL_ATTRIBUTE };

/** How long a completed effect is remembered: past the DLQ's 14 days, so a redrive stays deduplicated. */
export const IDEMPOTENCY_RECORD_SECONDS = 15 * 24 * 60 * 60;

export class IdempotencyConfigError extends Error {
  override readonly name = "IdempotencyConfigError";
}

/** The persistence layer the deployed functions use, from `IDEMPOTENCY_TABLE`. */
export function idempotencyStoreFromEnv(env: NodeJS.ProcessEnv = process.env): BasePersistenceLayer {
  const parsed = z.safeParse(z.string().check(z.minLength(1)), env[ENV.idempotencyTable]);
  if (!parsed.success) {
    throw new IdempotencyConfigError(
      `${ENV.idempotencyTable} is not set: it names the DynamoDB table that keeps side effects once per event`,
    );
  }
  // AWS_ENDPOINT_URL_DYNAMODB (honoured by the SDK) points a local run at its DynamoDB-API server.
  return new DynamoDBPersistenceLayer({
    tableName: parsed.data,
    keyAttr: IDEMPOTENCY_PARTITION_KEY,
    expiryAttr: IDEMPOTENCY_TTL_ATTRIBUTE,
    awsSdkV3Client: new DynamoDBClient({}),
  });
}

export interface OncePerEventOptions {
  readonly persistenceStore: BasePersistenceLayer;
  readonly consumer: string;
  /** @default IDEMPOTENCY_RECORD_SECONDS */
  readonly expiresAfterSeconds?: number;
}

export interface EventScoped {
  readonly eventId: string;
}

export interface OncePerEvent<A extends EventScoped, R> {
  (input: A): Promise<R>;
  /** Lets a crashed attempt's in-progress lock expire with the Lambda invocation's deadline. */
  registerLambdaContext(context: Context): void;
}

/**
 * Wraps an effect so that it runs at most once per `input.eventId` for this consumer. A throw
 * releases the key (the retry runs the effect again); a success stores the result, and a repeat
 * returns it without running the effect.
 */
export function oncePerEvent<A extends EventScoped, R>(
  effect: (input: A) => Promise<R>,
  options: OncePerEventOptions,
): OncePerEvent<A, R> {
  const config = new IdempotencyConfig({
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: options.expiresAfterSeconds ?? IDEMPOTENCY_RECORD_SECONDS,
  });
  // The key is the eventId, or "<eventId>#replay:<runId>" while a reprocessing replay's record runs
  // (consumer/replay-lineage.ts), passed as the argument Powertools hashes (dataIndexArgument)
  // rather than picked out of an object by a JMESPath expression: the hash is of the same string, so
  // stored keys are unchanged, and a cold start's first record does not pay for compiling JMESPath's
  // parser (11 ms of verification-email's first batch, bench/cold-start.bench.ts --profile).
  // (The input typed unknown: Powertools types a second argument that may be a Lambda Context apart.)
  const wrapped = makeIdempotent((_key: string, input: unknown) => effect(input as A), {
    persistenceStore: options.persistenceStore,
    config,
    keyPrefix: idempotencyKeyPrefix(options.consumer),
    dataIndexArgument: 0,
  });
  return Object.assign(
    (input: A) => {
      const scope = idempotencyScope.getStore();
      const key = scope ? `${input.eventId}#${scope}` : input.eventId;
      return wrapped(key, input) as Promise<R>;
    },
    {
      registerLambdaContext: (context: Context) => config.registerLambdaContext(context),
    },
  );
}
