/**
 * An offloaded payload outlives every message that can point at it.
 * Failure mode covered: a payload expiring before its pointer. Payloads were kept 15 days (the
 * DLQ's 14 plus one), but the runtime's dead-letter copy and every redrive are new messages with
 * their own retention: a pointer dead-lettered on day 4 and redriven on day 13 was still being
 * read after day 15, when its payload was gone.
 */
import { describe, expect, it } from "vitest";
import {
  longestPointerLifeDays,
  payloadExpirationDays,
} from "../../packages/courier/src/topology/payload-lifetime.ts";

const DAY = 24 * 3600 * 1000;
const settings = { queueRetentionDays: 4, dlqRetentionDays: 14, maxRedrives: 3 };

/**
 * S3's lifecycle as it applies to one object: gone once `expirationDays` have passed since it was
 * written (the model the bucket's rule follows; the clock is injected, nothing waits for days).
 */
function payloadAt(writtenAt: number, expirationDays: number) {
  return { resolvesAt: (at: number) => at - writtenAt < expirationDays * DAY };
}

/**
 * A pointer's life, hop by hop, each hop a new message keeping its full retention: the read times
 * at which a consumer (or an operator) may still hold it.
 */
function latestReads(hops: readonly { readonly stayDays: number }[]): number[] {
  let at = 0;
  return hops.map((hop) => {
    at += hop.stayDays * DAY;
    return at;
  });
}

describe("payload lifetime", () => {
  it("GIVEN a pointer dead-lettered on its 4th day and redriven on its 13th WHEN read at the end of the redriven copy's retention THEN the payload still resolves", () => {
    const payload = payloadAt(0, payloadExpirationDays(settings));
    // In the queue 4 days, dead-lettered (a new message), redriven 9 days later (a new message
    // again), then read on the last day of the source queue's retention: day 17.
    const reads = latestReads([{ stayDays: 4 }, { stayDays: 9 }, { stayDays: 4 }]);
    for (const at of reads) expect(payload.resolvesAt(at)).toBe(true);
    // The old rule (DLQ retention + 1 = 15 days) had lost it by then.
    expect(payloadAt(0, 15).resolvesAt(reads.at(-1) ?? 0)).toBe(false);
  });

  it("GIVEN every allowed redrive taken at the last moment WHEN the last copy is read on its DLQ's last day THEN the payload still resolves", () => {
    const payload = payloadAt(0, payloadExpirationDays(settings));
    const stay = { stayDays: settings.queueRetentionDays + settings.dlqRetentionDays };
    const reads = latestReads(Array.from({ length: settings.maxRedrives + 1 }, () => stay));
    expect(reads.at(-1)).toBe(longestPointerLifeDays(settings) * DAY);
    for (const at of reads) expect(payload.resolvesAt(at)).toBe(true);
  });

  it("GIVEN an orphaned payload (its pointer never published, or long gone) WHEN the expiration has passed THEN it no longer resolves", () => {
    const days = payloadExpirationDays(settings);
    expect(payloadAt(0, days).resolvesAt(days * DAY)).toBe(false);
    expect(Number.isFinite(days)).toBe(true);
  });

  it("GIVEN more redrives allowed or longer retention WHEN the expiration is computed THEN it grows with them", () => {
    expect(payloadExpirationDays({ ...settings, maxRedrives: 5 })).toBeGreaterThan(
      payloadExpirationDays(settings),
    );
    expect(payloadExpirationDays({ ...settings, queueRetentionDays: 13 })).toBe(4 * 27 + 1);
  });
});
