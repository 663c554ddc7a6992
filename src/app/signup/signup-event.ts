import type { NewAccountV1 } from "../contracts/index.ts";

/**
 * What the sign-up consumers need of a message: the producer's eventId (the idempotency key) and
 * the account. The runtime's validated NewAccount envelope satisfies it.
 */
export interface SignupEvent {
  readonly eventId: string;
  readonly data: NewAccountV1;
}

/** When the message's codes were issued: a re-send's own time, else the account's creation. */
export function codeIssuedAt(data: NewAccountV1): string {
  return data.codeIssuedAt ?? data.createdAt;
}

/** Whether this message asks `channel`'s consumer to act: every sign-up, and re-sends for it. */
export function wantsChannel(data: NewAccountV1, channel: "email" | "sms"): boolean {
  return data.resendChannel === undefined || data.resendChannel === channel;
}
