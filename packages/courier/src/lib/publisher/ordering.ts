/**
 * The FIFO parameters of a message on an ordered topic: the message group from the contract's
 * `groupBy` field, the deduplication id from the eventId (so a republish of the same event, the
 * outbox's retry or `courier publish --event-id`, is dropped by SNS within its 5-minute window).
 */
import { createHash } from "node:crypto";
import type { TopicSpec } from "../contracts/index.ts";

/** SNS and SQS accept 1-128 characters of printable ASCII, no space, as a group or dedup id. */
const FIFO_ID = /^[\x21-\x7E]{1,128}$/;

export interface FifoParameters {
  readonly MessageGroupId: string;
  readonly MessageDeduplicationId: string;
}

/**
 * A value SNS would refuse as a group id (spaces, non-ASCII, over 128 characters) is replaced by
 * its SHA-256: still one group per value, so order per value holds.
 */
export function messageGroupIdFor(value: string): string {
  return FIFO_ID.test(value) ? value : createHash("sha256").update(value, "utf8").digest("hex");
}

/** Refuses, when a publisher is created, an ordering whose field is not a field of the contract's data. */
export function assertOrdering(topic: string, spec: TopicSpec): void {
  if (!spec.ordering) return;
  const { groupBy } = spec.ordering;
  for (const contract of spec.accepts) {
    const shape = (contract.data as { shape?: Record<string, unknown> }).shape;
    if (!shape || !Object.hasOwn(shape, groupBy)) {
      throw new TypeError(
        `topic "${topic}" orders by "${groupBy}", which is not a field of ${contract.type} v${contract.version}`,
      );
    }
  }
}

export function fifoParameters(spec: TopicSpec, data: unknown, eventId: string): FifoParameters | undefined {
  if (!spec.ordering) return undefined;
  const value = (data as Record<string, unknown>)[spec.ordering.groupBy];
  // Validation ran first, and the contract makes the field a required string; anything else is a bug.
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`ordering field "${spec.ordering.groupBy}" is not a non-empty string`);
  }
  return { MessageGroupId: messageGroupIdFor(value), MessageDeduplicationId: eventId };
}
