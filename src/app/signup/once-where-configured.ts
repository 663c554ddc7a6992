/**
 * Runs a sign-up side effect once per event where an idempotency table is configured (the deployed
 * stack always has one), and directly where it is not (a local run without a DynamoDB-API server).
 *
 * Without the table, a redelivered event repeats its effect, but harmlessly: the verification code
 * is derived from the event, so a duplicate email or SMS carries the same code as the first.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { idempotencyStoreFromEnv, oncePerEvent } from "@courier-queue/courier";
import type { Context } from "aws-lambda";
import { ENV } from "../deployment/example-env.ts";

export interface EffectContext {
  /** Milliseconds before the invocation times out (the runtime's ConsumerContext has it). */
  remainingTimeMs(): number;
}

export interface EffectOutcome<R> {
  readonly result: R;
  /** True when this call did not run the effect: an earlier delivery of the eventId did. */
  readonly deduplicated: boolean;
}

export type SideEffect<A extends { readonly eventId: string }, R> = (
  input: A,
  ctx: EffectContext,
) => Promise<EffectOutcome<R>>;

/** `effect`'s result must be JSON (it is stored and returned for repeats). */
export function onceWhereConfigured<A extends { readonly eventId: string }, R>(
  consumer: string,
  effect: (input: A) => Promise<R>,
  env: NodeJS.ProcessEnv = process.env,
): SideEffect<A, R> {
  if (!env[ENV.idempotencyTable]) {
    return async (input: A) => ({ result: await effect(input), deduplicated: false });
  }
  // Powertools answers a repeat from the table without calling the effect; whether the effect ran
  // in THIS call is marked in a store scoped to the call (concurrent records do not share it).
  const ran = new AsyncLocalStorage<{ ran: boolean }>();
  const once = oncePerEvent(
    (input: A) => {
      const mark = ran.getStore();
      if (mark) mark.ran = true;
      return effect(input);
    },
    { persistenceStore: idempotencyStoreFromEnv(env), consumer },
  );
  return (input: A, ctx: EffectContext) => {
    // Powertools reads only the remaining time, to let a crashed attempt's lock lapse at the deadline.
    once.registerLambdaContext({ getRemainingTimeInMillis: ctx.remainingTimeMs } as unknown as Context);
    const mark = { ran: false };
    return ran.run(mark, async () => {
      const result = (await once(input)) as R;
      return { result, deduplicated: !mark.ran };
    });
  };
}
