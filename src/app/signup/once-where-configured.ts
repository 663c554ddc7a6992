/**
 * Runs a sign-up side effect once per event where an idempotency table is configured (the deployed
 * stack always has one), and directly where it is not (a local run without a DynamoDB-API server).
 *
 * Without the table, a redelivered event repeats its effect, but harmlessly: the verification code
 * is derived from the event, so a duplicate email or SMS carries the same code as the first.
 */
import type { Context } from "aws-lambda";
import { ENV } from "../../deployment/consumer-environment.ts";
import { idempotencyStoreFromEnv, oncePerEvent } from "../../lib/idempotency/once-per-event.ts";

export interface EffectContext {
  /** Milliseconds before the invocation times out (the runtime's ConsumerContext has it). */
  remainingTimeMs(): number;
}

export interface SideEffect<A extends { readonly eventId: string }, R> {
  (input: A, ctx: EffectContext): Promise<R>;
  /** True when a repeat of the same eventId is answered from the idempotency table. */
  readonly deduplicated: boolean;
}

/** `effect`'s result must be JSON (it is stored and returned for repeats). */
export function onceWhereConfigured<A extends { readonly eventId: string }, R>(
  consumer: string,
  effect: (input: A) => Promise<R>,
  env: NodeJS.ProcessEnv = process.env,
): SideEffect<A, R> {
  if (!env[ENV.idempotencyTable]) {
    return Object.assign((input: A) => effect(input), { deduplicated: false });
  }
  const once = oncePerEvent(effect, { persistenceStore: idempotencyStoreFromEnv(env), consumer });
  return Object.assign(
    (input: A, ctx: EffectContext) => {
      // Powertools reads only the remaining time, to let a crashed attempt's lock lapse at the deadline.
      once.registerLambdaContext({ getRemainingTimeInMillis: ctx.remainingTimeMs } as unknown as Context);
      return once(input);
    },
    { deduplicated: true },
  );
}
