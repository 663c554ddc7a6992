/**
 * Per-tenant controls and figures in the consumer runtime, driven through the test kit (the
 * runtime, the local event source, an in-memory queue with tags), plus the pieces alone. Failure
 * modes covered: a paused tenant's messages processed anyway, or lost, or dead-lettered by their
 * receive count during a long pause; other tenants stopped with it; a quarantined tenant's
 * messages processed, or dead-lettered without the `tenant-quarantined` reason; a release that does
 * not let them flow; an unreachable tag store that releases a held tenant; a tag key SQS refuses;
 * dwell time with a dimension per tenant (cardinality unbounded), or quiet tenants not counted, or
 * values past Powertools' 100 per document losing their tenant.
 */
import { defineConsumer, defineContract, defineTopology } from "@courier-queue/courier";
import { createTestKit, type TestKit } from "@courier-queue/courier/testing";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  PAUSED_TENANT_DELAY_SECONDS,
  TENANT_TAG_PREFIX,
  type TenantControl,
  TenantControlCache,
  tenantControlsOf,
  tenantTagKey,
} from "../../packages/courier/src/lib/consumer/tenant-controls.ts";
import {
  OTHER_TENANTS,
  TENANT_DWELL_METRIC,
  TenantDwell,
} from "../../packages/courier/src/lib/consumer/tenant-dwell.ts";

const Upload = defineContract({
  type: "Upload",
  version: 1,
  data: z.object({ uploadId: z.string(), accountId: z.string() }),
});
const app = defineTopology({
  topics: { uploads: { current: Upload, tenant: { from: "accountId" } } },
  consumers: { renditions: { topic: "uploads", handlerEntry: "src/renditions.ts", maxReceiveCount: 3 } },
});
const handled: string[] = [];
const renditions = defineConsumer(app, {
  name: "renditions",
  handle: (message) => {
    handled.push(message.data.uploadId);
  },
});

let kit: TestKit<typeof app> | undefined;
afterEach(async () => {
  await kit?.close();
  kit = undefined;
  handled.length = 0;
});

describe("GIVEN a consumer of a topic with tenants, run by the test kit", () => {
  it("WHEN tenant A is paused THEN B's messages flow, A's wait (past maxReceiveCount's worth of time) and flow once released", async () => {
    kit = createTestKit(app, { handlers: { renditions } });
    await kit.setTenant("renditions", "acct-a", "paused");
    const a = await kit.publisher.publish("uploads", { uploadId: "a-1", accountId: "acct-a" });
    await kit.publisher.publish("uploads", { uploadId: "b-1", accountId: "acct-b" });
    await kit.waitFor("renditions", { type: "Upload", outcome: "processed" });
    // Ten park cycles: far more receives than maxReceiveCount (3) allows, yet nothing is dead-lettered.
    await kit.advance(10 * PAUSED_TENANT_DELAY_SECONDS);
    expect(handled).toEqual(["b-1"]);
    expect(kit.deadLetters("renditions")).toEqual([]);
    expect(kit.queueState("renditions").visible + kit.queueState("renditions").inFlight).toBe(1);
    await kit.setTenant("renditions", "acct-a", undefined);
    await kit.waitFor("renditions", { eventId: a.eventId, outcome: "processed" });
    expect(handled).toEqual(["b-1", "a-1"]);
  });

  it("WHEN tenant A is quarantined THEN its message is dead-lettered with reason tenant-quarantined and B's is processed", async () => {
    kit = createTestKit(app, { handlers: { renditions } });
    await kit.setTenant("renditions", "acct-a", "quarantined");
    const a = await kit.publisher.publish("uploads", { uploadId: "a-1", accountId: "acct-a" });
    const b = await kit.publisher.publish("uploads", { uploadId: "b-1", accountId: "acct-b" });
    const dead = await kit.waitFor("renditions", { eventId: a.eventId, outcome: "dead-lettered" });
    await kit.waitFor("renditions", { eventId: b.eventId, outcome: "processed" });
    expect(dead).toMatchObject({ kind: "tenant-quarantined", errorClass: "TenantQuarantined" });
    expect(handled).toEqual(["b-1"]);
    const [letter] = kit.deadLetters("renditions");
    expect(letter?.reason).toMatchObject({ kind: "tenant-quarantined", consumer: "renditions" });
    expect(letter?.reason?.message).toContain('tenant "acct-a" is quarantined');
  });
});

describe("GIVEN the tenant controls' store (queue tags)", () => {
  it("WHEN a tenant is a valid tag THEN its key names it; WHEN it has characters tags refuse THEN its key is a hash", () => {
    expect(tenantTagKey("acct-7")).toBe(`${TENANT_TAG_PREFIX}acct-7`);
    expect(tenantTagKey("a#b")).toMatch(/^courier:tenant:sha256-[0-9a-f]{64}$/);
    expect(tenantTagKey("x".repeat(200)).length).toBeLessThanOrEqual(128);
  });

  it("WHEN tags are read THEN only well-formed tenant tags count", () => {
    const controls = tenantControlsOf({
      "courier:paused": "2026-12-06T10:00:00.000Z",
      "courier:tenant:acct-1": "paused@2026-12-06T10:00:00.000Z",
      "courier:tenant:acct-2": "quarantined@2026-12-06T11:00:00.000Z",
      "courier:tenant:acct-3": "whatever",
    });
    expect([...controls.values()].map((c) => [c.tenant, c.state])).toEqual([
      ["acct-1", "paused"],
      ["acct-2", "quarantined"],
    ]);
  });

  it("WHEN a read fails THEN what was known stays (a held tenant is not released), and reads are cached", async () => {
    let now = 0;
    let reads = 0;
    const known = new Map<string, TenantControl>([["k", { tenant: "acct-1", state: "paused", since: "t" }]]);
    let fail = false;
    const cache = new TenantControlCache({
      now: () => now,
      ttlMs: 1000,
      read: async () => {
        reads += 1;
        if (fail) throw new Error("unreachable");
        return known;
      },
    });
    expect((await cache.get()).size).toBe(1);
    await cache.get();
    expect(reads).toBe(1);
    fail = true;
    now = 5000;
    expect((await cache.get()).get("k")?.state).toBe("paused");
    expect(reads).toBe(2);
  });
});

function recorder() {
  const documents: Array<{ tenant: string; values: number[] }> = [];
  let tenant = "";
  let values: number[] = [];
  return {
    documents,
    metrics: {
      addDimension: (name: string, value: string) => {
        if (name === "tenant") tenant = value;
      },
      addMetric: (name: string, _unit: string, value: number) => {
        if (name === TENANT_DWELL_METRIC) values.push(value);
        // Powertools publishes by itself at 100 values, clearing dimensions: a test of that bound.
        if (values.length > 100) throw new Error("more than 100 values in one document");
      },
      publishStoredMetrics: () => {
        documents.push({ tenant, values });
        tenant = "";
        values = [];
      },
    },
  };
}

describe("GIVEN dwell time per tenant", () => {
  it("WHEN one tenant floods and others are quiet THEN only the noisy one is a dimension; the quiet ones are 'other'", () => {
    const { documents, metrics } = recorder();
    const dwell = new TenantDwell({ metrics, now: () => 0 });
    for (let i = 0; i < 60; i++) dwell.record("acct-a", 1000);
    for (const t of ["acct-b", "acct-c", "acct-d"]) dwell.record(t, 50);
    dwell.flush();
    expect(documents.map((d) => [d.tenant, d.values.length])).toEqual([
      ["acct-a", 60],
      [OTHER_TENANTS, 3],
    ]);
    expect(documents[1]?.values).toEqual([50, 50, 50]);
  });

  it("WHEN 50 tenants are each noisy THEN at most 5 are named (bounded cardinality)", () => {
    const { documents, metrics } = recorder();
    const dwell = new TenantDwell({ metrics, now: () => 0, noisyShare: 0 });
    for (let t = 0; t < 50; t++) for (let i = 0; i < 30 + t; i++) dwell.record(`t${t}`, 1);
    dwell.flush();
    const names = new Set(documents.map((d) => d.tenant));
    expect(names.size).toBe(6);
    expect([...names]).toEqual(expect.arrayContaining(["t49", "t48", "t47", "t46", "t45", OTHER_TENANTS]));
  });

  it("WHEN 250 values of one tenant are flushed THEN they go in documents of at most 99, each under the tenant", () => {
    const { documents, metrics } = recorder();
    const dwell = new TenantDwell({ metrics, now: () => 0 });
    for (let i = 0; i < 250; i++) dwell.record("acct-a", i);
    dwell.flush();
    expect(documents.map((d) => [d.tenant, d.values.length])).toEqual([
      ["acct-a", 99],
      ["acct-a", 99],
      ["acct-a", 52],
    ]);
  });

  it("WHEN the flood was two minutes ago THEN the tenant is quiet again", () => {
    const { documents, metrics } = recorder();
    let now = 0;
    const dwell = new TenantDwell({ metrics, now: () => now });
    for (let i = 0; i < 60; i++) dwell.record("acct-a", 1);
    dwell.flush();
    now = 130_000;
    dwell.record("acct-a", 1);
    dwell.flush();
    expect(documents.at(-1)).toEqual({ tenant: OTHER_TENANTS, values: [1] });
  });
});
