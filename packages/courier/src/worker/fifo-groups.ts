/**
 * Lambda's FIFO SQS trigger, as the local event source schedules it: at most one batch in flight per
 * message group, each group's records in sequence order, other groups in parallel; after a record
 * fails (and the runtime reports its group's later records failed with it), the group's next batch
 * starts only once those records are back, in order.
 *
 * SQS FIFO itself hands out no message of a group while one of its messages is in flight, so on AWS
 * most of this never triggers. LocalStack's FIFO queue does not always hold the group: when one of
 * several in-flight messages of a group turns visible again (their visibility deadlines differ by
 * microseconds), it unlocks the group while the others are still in flight, so a later record can
 * reach a second poller before, or while, an earlier one runs; the reset emails of issue 12's test
 * went out of order that way. So the scheduler does not trust the queue: it keeps, per group, what
 * is running and which records it left to come back.
 *
 * - A record of a group whose batch is running is held (hidden) until that batch settles.
 * - A record that arrives before the failed records it follows is sent back, not held: the records
 *   it follows are recalled (made visible at once, ahead of it in the group's order) and it is made
 *   visible again a moment later, behind them. Holding it hidden for their whole backoff stalls
 *   LocalStack: its FIFO requeue stops at the first hidden message of the queue, so every record
 *   received after a held one, of every group, including the very records it waits for, stays
 *   hidden (seen: a queue stopped for minutes). This costs the record one more receive and cuts the
 *   failed records' backoff short, only where the queue had already let the group go early.
 * - A record sent back is awaited in its turn, as a failed one is, until it is back (or the return
 *   wait has passed): newer records of its group that arrive before it, typically with the recalled
 *   ones, are held or sent back behind it, never run ahead of it.
 *
 * Pure bookkeeping (no SQS, no clock of its own), so every rule is unit-tested without a queue.
 */
import type { Message } from "@aws-sdk/client-sqs";

/** A received message the scheduler holds until its group may run it. */
export interface HeldMessage {
  readonly message: Message;
  readonly group: string;
  /** SQS's SequenceNumber: the order of the group (and queue), as written. */
  readonly sequence: bigint;
}

interface Awaited {
  readonly messageId: string;
  /** Its receipt handle from the batch that left it: to recall it (make it visible) early. */
  readonly receiptHandle?: string;
  recalled: boolean;
  readonly sequence: bigint;
  /** After this the record is no longer waited for (moved to a DLQ, taken by another worker...). */
  readonly untilMs: number;
}

interface GroupState {
  running: boolean;
  /** Received, not yet run, by sequence. */
  pending: HeldMessage[];
  /** Records of a settled batch that were not deleted: they come back, and nothing after them runs first. */
  awaited: Awaited[];
}

export interface FifoSchedulerSettings {
  /** Records per invocation, across groups. */
  readonly batchSize: number;
  /**
   * How long a failed record is waited for before its group goes on without it: it comes back after
   * its visibility timeout (the runtime's backoff, or the queue's), unless SQS moved it to the DLQ or
   * another worker received it.
   */
  readonly returnWaitMs: number;
  readonly now: () => number;
}

export function messageGroup(message: Message): string {
  return message.Attributes?.MessageGroupId ?? "";
}

/** SequenceNumber as a number to compare; a message without one sorts by arrival after those with one. */
function sequenceOf(message: Message, arrival: bigint): bigint {
  const raw = message.Attributes?.SequenceNumber;
  return raw && /^\d+$/.test(raw) ? BigInt(raw) : 10n ** 30n + arrival;
}

/**
 * Drops what is no longer waited for: records past their return wait, and records already back
 * (received again, possibly while the batch that failed them was still running: the runtime hides
 * a failed record for its backoff before the rest of the batch is done).
 */
function forgetReturned(state: GroupState, now: number): void {
  const back = new Set(state.pending.map((p) => p.message.MessageId));
  state.awaited = state.awaited.filter((a) => a.untilMs > now && !back.has(a.messageId));
}

function minSequence(awaited: readonly Awaited[]): bigint | undefined {
  return awaited.reduce<bigint | undefined>(
    (min, a) => (min === undefined || a.sequence < min ? a.sequence : min),
    undefined,
  );
}

export class FifoScheduler {
  private readonly settings: FifoSchedulerSettings;
  private readonly groups = new Map<string, GroupState>();
  private arrivals = 0n;

  constructor(settings: FifoSchedulerSettings) {
    this.settings = settings;
  }

  private group(id: string): GroupState {
    let state = this.groups.get(id);
    if (!state) {
      state = { running: false, pending: [], awaited: [] };
      this.groups.set(id, state);
    }
    return state;
  }

  /** Takes received messages in. A message already held (received again) keeps only its newest receipt. */
  admit(messages: readonly Message[]): void {
    for (const message of messages) {
      this.arrivals += 1n;
      const held: HeldMessage = {
        message,
        group: messageGroup(message),
        sequence: sequenceOf(message, this.arrivals),
      };
      const state = this.group(held.group);
      state.pending = state.pending.filter((p) => p.message.MessageId !== message.MessageId);
      state.awaited = state.awaited.filter((a) => a.messageId !== message.MessageId);
      state.pending.push(held);
      state.pending.sort((a, b) => (a.sequence < b.sequence ? -1 : a.sequence > b.sequence ? 1 : 0));
    }
  }

  /**
   * Records that arrived before the failed records they follow, taken out to be sent back (made
   * visible again shortly), and the receipt handles of those failed records, to recall (make
   * visible now) so they come first. Call after `admit` and `settle`.
   */
  early(): { sendBack: Message[]; recall: string[] } {
    const now = this.settings.now();
    const sendBack: Message[] = [];
    const recall: string[] = [];
    for (const state of this.groups.values()) {
      if (state.running || state.pending.length === 0) continue;
      forgetReturned(state, now);
      const firstAwaited = minSequence(state.awaited);
      if (firstAwaited === undefined) continue;
      const early = state.pending.filter((p) => p.sequence > firstAwaited);
      if (early.length === 0) continue;
      state.pending = state.pending.filter((p) => !early.includes(p));
      sendBack.push(...early.map((e) => e.message));
      const last = early.at(-1)?.sequence ?? firstAwaited;
      for (const awaited of state.awaited) {
        if (awaited.recalled || !awaited.receiptHandle || awaited.sequence > last) continue;
        awaited.recalled = true;
        recall.push(awaited.receiptHandle);
      }
      // What is sent back is awaited in its turn: admit() took the awaited entries of these records
      // when they arrived, and without them newer records of the group that arrive with the
      // recalled ones would run before these come back (reset emails out of order under load).
      // Not recalled: they come back on their own, behind the recalled ones.
      const untilMs = now + this.settings.returnWaitMs;
      for (const e of early) {
        if (!e.message.MessageId) continue;
        state.awaited.push({
          messageId: e.message.MessageId,
          sequence: e.sequence,
          untilMs,
          recalled: true,
        });
      }
    }
    return { sendBack, recall };
  }

  /**
   * The next batch to invoke: from each group not running, its pending records in sequence order up
   * to the first record it still waits for; groups in the order their oldest record was written.
   * Every group in the batch is marked running until `settle`. Empty when nothing may run.
   */
  take(): Message[] {
    const now = this.settings.now();
    const ready: { state: GroupState; records: HeldMessage[] }[] = [];
    for (const state of this.groups.values()) {
      if (state.running || state.pending.length === 0) continue;
      forgetReturned(state, now);
      const firstAwaited = minSequence(state.awaited);
      const records = state.pending.filter((p) => firstAwaited === undefined || p.sequence < firstAwaited);
      if (records.length > 0) ready.push({ state, records });
    }
    ready.sort((a, b) => {
      const x = a.records[0]?.sequence ?? 0n;
      const y = b.records[0]?.sequence ?? 0n;
      return x < y ? -1 : x > y ? 1 : 0;
    });
    const batch: Message[] = [];
    for (const { state, records } of ready) {
      const room = this.settings.batchSize - batch.length;
      if (room <= 0) break;
      const taken = records.slice(0, room);
      state.running = true;
      state.pending = state.pending.filter((p) => !taken.includes(p));
      batch.push(...taken.map((t) => t.message));
    }
    return batch;
  }

  /**
   * A batch from `take` is settled: its groups may run again; the records it did not delete
   * (`failedMessageIds`) are waited for before anything later in their group runs.
   */
  settle(batch: readonly Message[], failedMessageIds: ReadonlySet<string>): void {
    const untilMs = this.settings.now() + this.settings.returnWaitMs;
    for (const message of batch) {
      const state = this.group(messageGroup(message));
      state.running = false;
      const id = message.MessageId;
      if (id && failedMessageIds.has(id)) {
        this.arrivals += 1n;
        state.awaited.push({
          messageId: id,
          sequence: sequenceOf(message, this.arrivals),
          untilMs,
          recalled: false,
          ...(message.ReceiptHandle ? { receiptHandle: message.ReceiptHandle } : {}),
        });
      }
    }
    for (const [id, state] of this.groups) {
      if (!state.running && state.pending.length === 0 && state.awaited.length === 0) this.groups.delete(id);
    }
  }

  /** Every message received and not yet run: to keep hidden while held, or to release. */
  held(): Message[] {
    return [...this.groups.values()].flatMap((s) => s.pending.map((p) => p.message));
  }

  /**
   * Gives up every held message (a stop or a pause releases them). What is awaited stays awaited: the
   * released messages come back, and must still not run before the records they follow.
   */
  drain(): Message[] {
    const messages = this.held();
    for (const state of this.groups.values()) state.pending = [];
    return messages;
  }

  /** True while some group has records running or held: for tests and figures. */
  get busyGroups(): number {
    return [...this.groups.values()].filter((s) => s.running || s.pending.length > 0).length;
  }
}
