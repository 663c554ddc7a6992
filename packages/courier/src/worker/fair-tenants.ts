/**
 * Fair delivery per tenant on a standard queue, as SQS fair queues serve it (July 2025): a message's
 * tenant is its `MessageGroupId`; a tenant is noisy when it holds more than its share of the
 * in-flight messages (over `noisyShare` of them and at least `noisyMinimum`); quiet tenants'
 * messages go before a noisy tenant's backlog. SQS does this on its servers; LocalStack 4.14 does
 * not (it serves a standard queue in arrival order, MessageGroupId or not), so the local event
 * source receives ahead into this scheduler and runs batches in the order SQS would serve them.
 *
 * In flight here means what SQS counts: received and not yet deleted, that is held (received,
 * waiting for a batch) plus running. Deterministic: no clock, no randomness; arrival order breaks
 * ties, so tests state exact orders.
 */
import type { Message } from "@aws-sdk/client-sqs";

/** SQS's published thresholds for a noisy tenant: over 10 % of in-flight messages, and at least 30. */
export const FAIR_DEFAULTS = { noisyShare: 0.1, noisyMinimum: 30 } as const;

export interface FairTenantSettings {
  /** Records per invocation. */
  readonly batchSize: number;
  /** A tenant holding more than this fraction of the in-flight messages may be noisy. @default 0.1 */
  readonly noisyShare?: number;
  /** ... and only from this many in-flight messages on. @default 30 */
  readonly noisyMinimum?: number;
}

/** A tenant's share of the work, for figures (`stats`, `courier work`'s lines). */
export interface TenantLoad {
  readonly tenant: string;
  /** Received and not yet settled: held plus running. */
  readonly inFlight: number;
  readonly held: number;
  readonly running: number;
  readonly noisy: boolean;
}

interface Held {
  readonly message: Message;
  readonly arrival: number;
}

interface TenantState {
  pending: Held[];
  running: number;
}

/** The tenant of a received message: its MessageGroupId; "" for a message without one. */
export function tenantOfMessage(message: Message): string {
  return message.Attributes?.MessageGroupId ?? "";
}

export class FairTenantScheduler {
  private readonly batchSize: number;
  private readonly noisyShare: number;
  private readonly noisyMinimum: number;
  private readonly tenants = new Map<string, TenantState>();
  private arrivals = 0;
  private heldTotal = 0;
  private runningTotal = 0;

  constructor(settings: FairTenantSettings) {
    if (!Number.isInteger(settings.batchSize) || settings.batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${settings.batchSize}`);
    }
    this.batchSize = settings.batchSize;
    this.noisyShare = settings.noisyShare ?? FAIR_DEFAULTS.noisyShare;
    this.noisyMinimum = settings.noisyMinimum ?? FAIR_DEFAULTS.noisyMinimum;
  }

  private tenant(id: string): TenantState {
    let state = this.tenants.get(id);
    if (!state) {
      state = { pending: [], running: 0 };
      this.tenants.set(id, state);
    }
    return state;
  }

  /** Takes received messages in; one already held (received again) keeps only its newest receipt. */
  admit(messages: readonly Message[]): void {
    for (const message of messages) {
      const state = this.tenant(tenantOfMessage(message));
      const before = state.pending.length;
      state.pending = state.pending.filter((p) => p.message.MessageId !== message.MessageId);
      this.heldTotal -= before - state.pending.length;
      this.arrivals += 1;
      state.pending.push({ message, arrival: this.arrivals });
      this.heldTotal += 1;
    }
  }

  /** Whether a tenant with this many in-flight messages is noisy now. */
  private isNoisy(inFlight: number): boolean {
    const total = this.heldTotal + this.runningTotal;
    return inFlight >= this.noisyMinimum && inFlight > this.noisyShare * total;
  }

  /**
   * The next batch: quiet tenants' held messages first, then noisy tenants', each part in arrival
   * order; noisiness is judged once, on the in-flight counts before the batch (taking a message
   * moves it from held to running: in flight either way). Empty when nothing is held.
   */
  take(): Message[] {
    if (this.heldTotal === 0) return [];
    const quiet: TenantState[] = [];
    const noisy: TenantState[] = [];
    for (const state of this.tenants.values()) {
      if (state.pending.length === 0) continue;
      (this.isNoisy(state.pending.length + state.running) ? noisy : quiet).push(state);
    }
    const batch: Message[] = [];
    for (const group of [quiet, noisy]) {
      while (batch.length < this.batchSize) {
        // The tenant whose oldest held message arrived first (a merge of the tenants' queues).
        let next: TenantState | undefined;
        for (const state of group) {
          const head = state.pending[0];
          if (head && (!next || head.arrival < (next.pending[0]?.arrival ?? Number.POSITIVE_INFINITY))) {
            next = state;
          }
        }
        const head = next?.pending.shift();
        if (!next || !head) break;
        next.running += 1;
        this.heldTotal -= 1;
        this.runningTotal += 1;
        batch.push(head.message);
      }
    }
    return batch;
  }

  /** A batch from `take` is done (deleted or left to come back): its messages are no longer in flight. */
  settle(batch: readonly Message[]): void {
    for (const message of batch) {
      const id = tenantOfMessage(message);
      const state = this.tenants.get(id);
      if (!state || state.running === 0) continue;
      state.running -= 1;
      this.runningTotal -= 1;
      if (state.running === 0 && state.pending.length === 0) this.tenants.delete(id);
    }
  }

  /** Every message received and not yet run: to keep hidden while held, or to release. */
  held(): Message[] {
    return [...this.tenants.values()].flatMap((s) => s.pending.map((p) => p.message));
  }

  get heldCount(): number {
    return this.heldTotal;
  }

  /** Gives up every held message (a stop or a pause releases them). */
  drain(): Message[] {
    const messages = this.held();
    for (const [id, state] of this.tenants) {
      state.pending = [];
      if (state.running === 0) this.tenants.delete(id);
    }
    this.heldTotal = 0;
    return messages;
  }

  /** Each tenant's load now, noisiest first: for figures and `courier work`'s lines. */
  loads(): TenantLoad[] {
    return [...this.tenants.entries()]
      .map(([tenant, s]) => {
        const inFlight = s.pending.length + s.running;
        return {
          tenant,
          inFlight,
          held: s.pending.length,
          running: s.running,
          noisy: this.isNoisy(inFlight),
        };
      })
      .sort((a, b) => b.inFlight - a.inFlight || a.tenant.localeCompare(b.tenant));
  }
}
