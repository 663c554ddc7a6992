/**
 * Fair delivery per tenant, scheduled as SQS fair queues serve a standard queue's tenants: the
 * scheduler itself (exact orders, no clock), and the local event source on the test kit's
 * in-memory queue, with fairness on and off in the same test. Failure modes covered: a quiet
 * tenant's message served after a noisy tenant's whole backlog; a tenant judged noisy under SQS's
 * thresholds (a small burst reordered for nothing); a batch over its size; a tenant's running
 * messages forgotten (it turns quiet while it still holds the consumer); held messages lost by a
 * drain; the kit not forwarding the tenant from SNS to the queue.
 */
import type { Message } from "@aws-sdk/client-sqs";
import { defineConsumer, defineContract, defineTopology } from "@courier-queue/courier";
import { createTestKit, type TestKit } from "@courier-queue/courier/testing";
import { FairTenantScheduler } from "@courier-queue/courier/worker";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";

let ids = 0;
const msg = (tenant: string | undefined, label = `m${++ids}`): Message => ({
  MessageId: label,
  ReceiptHandle: `rh-${label}`,
  Body: label,
  Attributes: tenant === undefined ? {} : { MessageGroupId: tenant },
});
const labels = (batch: readonly Message[]) => batch.map((m) => m.MessageId);
const flood = (tenant: string, n: number) =>
  Array.from({ length: n }, (_, i) => msg(tenant, `${tenant}${i}`));

describe("GIVEN the fair tenant scheduler", () => {
  it("WHEN a flood of 100 from A is held and then 1 from B THEN B's message is in the first batch, before A's", () => {
    const s = new FairTenantScheduler({ batchSize: 10 });
    s.admit(flood("A", 100));
    s.admit([msg("B", "B0")]);
    expect(labels(s.take())).toEqual(["B0", "A0", "A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8"]);
  });

  it("WHEN no tenant reaches 30 in-flight messages THEN nobody is noisy and arrival order holds", () => {
    const s = new FairTenantScheduler({ batchSize: 5 });
    s.admit(flood("A", 20));
    s.admit([msg("B", "B0")]);
    expect(labels(s.take())).toEqual(["A0", "A1", "A2", "A3", "A4"]);
    expect(s.loads().every((l) => !l.noisy)).toBe(true);
  });

  it("WHEN two quiet tenants and a noisy one are held THEN the quiet ones go first, in arrival order", () => {
    const s = new FairTenantScheduler({ batchSize: 4 });
    s.admit(flood("A", 50));
    s.admit([msg("C", "C0"), msg("B", "B0"), msg("C", "C1")]);
    expect(labels(s.take())).toEqual(["C0", "B0", "C1", "A0"]);
  });

  it("WHEN a noisy tenant's messages are all running THEN it stays noisy until they settle", () => {
    const s = new FairTenantScheduler({ batchSize: 40, noisyMinimum: 30 });
    s.admit(flood("A", 40));
    const running = s.take();
    expect(running).toHaveLength(40);
    s.admit([msg("A", "A-late"), msg("B", "B0")]);
    // A holds 41 of 42 in flight (40 running + 1 held): still noisy, so B goes first.
    expect(labels(s.take())).toEqual(["B0", "A-late"]);
    s.settle(running);
    expect(s.loads().find((l) => l.tenant === "A")).toMatchObject({ inFlight: 1, running: 1, noisy: false });
  });

  it("WHEN messages without a tenant are held THEN they are one tenant of their own", () => {
    const s = new FairTenantScheduler({ batchSize: 2 });
    s.admit(flood("A", 40));
    s.admit([msg(undefined, "plain")]);
    expect(labels(s.take())).toEqual(["plain", "A0"]);
  });

  it("WHEN the same message is admitted twice (received again) THEN it is held once, with its newest receipt", () => {
    const s = new FairTenantScheduler({ batchSize: 10 });
    s.admit([msg("A", "x")]);
    s.admit([{ ...msg("A", "x"), ReceiptHandle: "newer" }]);
    expect(s.heldCount).toBe(1);
    expect(s.take()[0]?.ReceiptHandle).toBe("newer");
  });

  it("WHEN drained (a stop or a pause) THEN every held message is handed back and nothing more is taken", () => {
    const s = new FairTenantScheduler({ batchSize: 10 });
    s.admit(flood("A", 35));
    s.take();
    expect(s.drain()).toHaveLength(25);
    expect(s.take()).toEqual([]);
    expect(s.heldCount).toBe(0);
  });
});

const Upload = defineContract({
  type: "Upload",
  version: 1,
  data: z.object({ uploadId: z.string(), accountId: z.string() }),
});
const app = defineTopology({
  topics: { uploads: { current: Upload, tenant: { from: "accountId" } } },
  consumers: {
    renditions: {
      topic: "uploads",
      handlerEntry: "src/renditions.ts",
      batchSize: 5,
      maxConcurrency: 2,
      maxBatchingWindowSeconds: 0,
    },
  },
});
const order: string[] = [];
const renditions = defineConsumer(app, {
  name: "renditions",
  handle: async (message) => {
    order.push(message.data.uploadId);
  },
});

let kit: TestKit<typeof app> | undefined;
afterEach(async () => {
  await kit?.close();
  kit = undefined;
  order.length = 0;
});

async function floodThenQuiet(fairTenants: boolean): Promise<number> {
  kit = createTestKit(app, { handlers: { renditions }, fairTenants });
  await kit.publisher.publishBatch(
    "uploads",
    Array.from({ length: 200 }, (_, i) => ({ uploadId: `a-${i}`, accountId: "acct-a" })),
  );
  // The pollers run while the flood is published: count only what was processed after B came.
  const before = order.length;
  await kit.publisher.publish("uploads", { uploadId: "b-0", accountId: "acct-b" });
  await kit.drain();
  return order.indexOf("b-0") - before;
}

describe("GIVEN the test kit running a consumer of a topic with tenants", () => {
  it("WHEN account A floods 200 uploads and then B sends 1 THEN B's is processed within the next batches, and last without fairness", async () => {
    const fair = await floodThenQuiet(true);
    expect(kit?.published.at(-1)?.groupId).toBe("acct-b");
    await kit?.close();
    order.length = 0;
    const unfair = await floodThenQuiet(false);
    expect(order).toHaveLength(201);
    // Two pollers of 5: a batch or two of A's may already be running when B arrives.
    expect(fair).toBeLessThan(20);
    // Without fairness B waits for the rest of A's backlog (over a hundred messages here).
    expect(order.at(-1)).toBe("b-0");
    expect(unfair).toBeGreaterThan(100);
  });
});
