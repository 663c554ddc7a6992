import type { NewAccountV1 } from "../../lib/contracts/index.ts";

/**
 * What the sign-up consumers need of a message: the producer's eventId (the idempotency key) and
 * the account. The runtime's validated NewAccount envelope satisfies it.
 */
export interface SignupEvent {
  readonly eventId: string;
  readonly data: NewAccountV1;
}
