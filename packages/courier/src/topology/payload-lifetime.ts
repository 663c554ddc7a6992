/**
 * How long an offloaded payload must live: as long as the longest chain of messages that can point
 * at it. Every hop is a new message with a new enqueue time (the runtime's dead-letter copy is a
 * SendMessage, a redrive too), so a DLQ's 14 days count from the dead-lettering, not the publish:
 * a pointer dead-lettered on day 4 and redriven on day 13 is read on day 17 or later, after a
 * payload kept "DLQ retention + 1 day" (15) is gone.
 *
 * A bound rather than a refresh: a bulk redrive (SQS's StartMessageMoveTask) moves messages courier
 * never sees, so nothing could renew a payload on that path. The chain is finite because a message
 * redriven `maxRedrives` times stays in its DLQ (quarantined), and publishers cannot set the
 * lineage that counts redrives (the publisher refuses `courier.*` attributes).
 */
export interface PayloadLifetimeInput {
  /** The longest retention of a queue whose consumer may read a pointer. */
  readonly queueRetentionDays: number;
  /** The DLQ's (and the subscription DLQ's) retention. */
  readonly dlqRetentionDays: number;
  /** Redrives before a message is quarantined. */
  readonly maxRedrives: number;
}

/**
 * The last day a pointer can still be read, counted from the publish: the first stay (in the queue
 * until its retention, then a dead-letter copy kept a whole DLQ retention; or a subscription DLQ's
 * stay, which is shorter) and one such stay after each allowed redrive.
 */
export function longestPointerLifeDays(input: PayloadLifetimeInput): number {
  return (input.maxRedrives + 1) * (input.queueRetentionDays + input.dlqRetentionDays);
}

/** Days the payload bucket keeps an object: a day past the longest chain. An orphan expires then too. */
export function payloadExpirationDays(input: PayloadLifetimeInput): number {
  return longestPointerLifeDays(input) + 1;
}
