/**
 * The test kit (`@courier-queue/courier/testing`) driving a team's consumers: the outcomes a team
 * tests (processed, retried with backoff, dead-lettered with a reason, a FIFO group held), on the
 * kit's clock. Failure modes covered: a backoff that costs wall time, a retry that comes back before
 * its delay, a dead letter without its reason, a FIFO group that runs past its failed record, a
 * waitFor that times out without saying what it saw, a publisher that lets an invalid message
 * through, a filter policy the kit ignores.
 */
import {
  defineConsumer,
  defineContract,
  defineTopology,
  InvalidMessageError,
  PermanentError,
} from "@courier-queue/courier";
import { createTestKit, type TestKit, WaitForTimeoutError } from "@courier-queue/courier/testing";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";

const OrderPlaced = defineContract({
  type: "OrderPlaced",
  version: 1,
  data: z.object({ orderId: z.string(), totalCents: z.number().int(), channel: z.enum(["web", "sandbox"]) }),
  filterAttributes: (data) => ({ channel: data.channel }),
  filterAttributeNames: ["channel"],
});
const StepRecorded = defineContract({
  type: "StepRecorded",
  version: 1,
  data: z.object({ accountId: z.string(), step: z.number().int() }),
});

const shop = defineTopology({
  topics: {
    orders: { current: OrderPlaced },
    steps: { current: StepRecorded, ordering: { groupBy: "accountId" } },
  },
  consumers: {
    invoice: { topic: "orders", handlerEntry: "src/invoice.ts", maxReceiveCount: 3 },
    ledger: { topic: "orders", handlerEntry: "src/ledger.ts", filterPolicy: { channel: ["web"] } },
    journal: { topic: "steps", handlerEntry: "src/journal.ts", maxReceiveCount: 4 },
  },
});

/** Orders whose handling fails, by orderId: how many more times, or forever. */
const failing = new Map<string, number | "always" | "permanent">();
const invoiced: string[] = [];
const booked: string[] = [];
const journal: string[] = [];

const invoice = defineConsumer(shop, {
  name: "invoice",
  handle: (message) => {
    const rule = failing.get(message.data.orderId);
    if (rule === "permanent") throw new PermanentError(`order ${message.data.orderId} cannot be invoiced`);
    if (rule === "always") throw new Error("billing is down");
    if (typeof rule === "number" && rule > 0) {
      failing.set(message.data.orderId, rule - 1);
      throw new Error("billing timed out");
    }
    invoiced.push(message.data.orderId);
  },
});
const ledger = defineConsumer(shop, { name: "ledger", handle: (m) => void booked.push(m.data.orderId) });
const journalHandler = defineConsumer(shop, {
  name: "journal",
  handle: (message) => {
    const key = `${message.data.accountId}#${message.data.step}`;
    const rule = failing.get(key);
    if (typeof rule === "number" && rule > 0) {
      failing.set(key, rule - 1);
      throw new Error(`step ${key} failed`);
    }
    journal.push(key);
  },
});

let kit: TestKit<typeof shop> | undefined;
function start(handlers: Parameters<typeof createTestKit<typeof shop>>[1]["handlers"]) {
  kit = createTestKit(shop, { handlers, random: () => 0.99 });
  return kit;
}

afterEach(async () => {
  await kit?.close();
  kit = undefined;
  failing.clear();
  invoiced.length = 0;
  booked.length = 0;
  journal.length = 0;
});

const order = (orderId: string, channel: "web" | "sandbox" = "web") => ({
  orderId,
  totalCents: 4200,
  channel,
});

describe("test kit", () => {
  it("GIVEN a published order WHEN the consumer handles it THEN waitFor resolves with processed", async () => {
    const k = start({ invoice });
    const { eventId } = await k.publisher.publish("orders", order("A-1"));
    const seen = await k.waitFor("invoice", { eventId, outcome: "processed" });
    expect(seen).toMatchObject({ type: "OrderPlaced", receiveCount: 1 });
    expect(invoiced).toEqual(["A-1"]);
  });

  it("GIVEN a handler that fails once WHEN it runs THEN it is retried after the runtime's backoff, on the kit's clock", async () => {
    const k = start({ invoice });
    failing.set("A-2", 1);
    const wallStart = performance.now();
    const { eventId } = await k.publisher.publish("orders", order("A-2"));
    const retried = await k.waitFor("invoice", { eventId, outcome: "retried" });
    const processed = await k.waitFor("invoice", { eventId, outcome: "processed" });
    // Full jitter over [0, 2 s] (base 2 s, first receive) with random 0.99: 2 s.
    expect(retried.outcome === "retried" && retried.retryInSeconds).toBe(2);
    expect(processed.receiveCount).toBe(2);
    expect(processed.at - retried.at).toBeGreaterThanOrEqual(2000);
    expect(performance.now() - wallStart).toBeLessThan(1000);
  });

  it("GIVEN a long backoff WHEN the kit waits it out THEN it takes no wall time", async () => {
    const k = start({ invoice });
    failing.set("A-3", 2);
    const wallStart = performance.now();
    const { eventId } = await k.publisher.publish("orders", order("A-3"));
    await k.waitFor("invoice", { eventId, outcome: "processed" });
    expect(k.elapsedSeconds).toBeGreaterThanOrEqual(6); // 2 s then 4 s of backoff
    expect(performance.now() - wallStart).toBeLessThan(1000);
  });

  it("GIVEN a PermanentError WHEN thrown THEN the record is dead-lettered at once with its reason", async () => {
    const k = start({ invoice });
    failing.set("A-4", "permanent");
    const { eventId } = await k.publisher.publish("orders", order("A-4"));
    const seen = await k.waitFor("invoice", { eventId, outcome: "dead-lettered" });
    expect(seen).toMatchObject({ kind: "permanent", receiveCount: 1, errorClass: "PermanentError" });
    expect(k.deadLetters("invoice")).toMatchObject([
      {
        eventId,
        type: "OrderPlaced",
        reason: { kind: "permanent", message: "order A-4 cannot be invoiced" },
      },
    ]);
  });

  it("GIVEN a handler that always fails WHEN maxReceiveCount is reached THEN the runtime dead-letters it as exhausted", async () => {
    const k = start({ invoice });
    failing.set("A-5", "always");
    const { eventId } = await k.publisher.publish("orders", order("A-5"));
    const seen = await k.waitFor("invoice", { eventId, outcome: "dead-lettered" });
    expect(seen).toMatchObject({ kind: "exhausted", receiveCount: 3 });
    expect(k.outcomes("invoice").map((o) => o.outcome)).toEqual(["retried", "retried", "dead-lettered"]);
  });

  it("GIVEN a contract-breaking message WHEN poisoned THEN it is dead-lettered with the failing field", async () => {
    const k = start({ invoice });
    const { eventId } = await k.poison("orders", { orderId: "A-6", totalCents: "lots" });
    await k.waitFor("invoice", { eventId, outcome: "dead-lettered", kind: "permanent" });
    expect(k.deadLetters("invoice")[0]?.reason?.message).toContain("totalCents");
  });

  it("GIVEN invalid data WHEN published through kit.publisher THEN it is refused as the real publisher refuses it", async () => {
    const k = start({ invoice });
    // @ts-expect-error: the publisher is typed from the contract; at run time it validates too.
    await expect(k.publisher.publish("orders", { orderId: "A-7" })).rejects.toBeInstanceOf(
      InvalidMessageError,
    );
    expect(k.published).toEqual([]);
  });

  it("GIVEN a filter policy WHEN a message does not match THEN that consumer never receives it", async () => {
    const k = start({ invoice, ledger });
    await k.publisher.publish("orders", order("A-8", "sandbox"));
    await k.publisher.publish("orders", order("A-9", "web"));
    await k.drain();
    expect(invoiced.sort()).toEqual(["A-8", "A-9"]);
    expect(booked).toEqual(["A-9"]);
    expect(k.published.map((p) => p.attributes.channel)).toEqual(["sandbox", "web"]);
  });

  it("GIVEN a FIFO group whose first record fails WHEN it runs THEN the group's later records wait, other groups go on", async () => {
    const k = start({ journal: journalHandler });
    failing.set("acct-1#1", 1);
    for (const step of [1, 2, 3]) await k.publisher.publish("steps", { accountId: "acct-1", step });
    await k.publisher.publish("steps", { accountId: "acct-2", step: 1 });
    await k.drain();
    expect(journal.filter((j) => j.startsWith("acct-1"))).toEqual(["acct-1#1", "acct-1#2", "acct-1#3"]);
    expect(journal.indexOf("acct-2#1")).toBeLessThan(journal.indexOf("acct-1#1"));
  });

  it("GIVEN an outcome that never comes WHEN waited for THEN the error names what was seen instead", async () => {
    const k = start({ invoice });
    failing.set("A-10", "permanent");
    const { eventId } = await k.publisher.publish("orders", order("A-10"));
    const waiting = k.waitFor("invoice", { eventId, outcome: "processed" }, { timeoutSeconds: 60 });
    await expect(waiting).rejects.toBeInstanceOf(WaitForTimeoutError);
    await expect(waiting).rejects.toThrow(
      /Seen for invoice instead: OrderPlaced .* dead-lettered on receive 1 \(permanent; PermanentError: order A-10/,
    );
  });
});
