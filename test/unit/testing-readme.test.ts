// README "Testing your consumers" shows this file as it is: a team's consumers tested with the kit
// (success, retry with backoff, dead letter with its reason, a FIFO group stopping at a failure).
// Failure mode covered: a README example that no longer compiles or passes.
import { defineConsumer, defineContract, defineTopology, PermanentError } from "@courier-queue/courier";
import { createTestKit } from "@courier-queue/courier/testing";
import { afterAll, afterEach, expect, test } from "vitest";
import * as z from "zod";

// The team's topology (usually src/topology.ts) and handlers (usually src/handlers/*.ts).
const OrderPlaced = defineContract({
  type: "OrderPlaced",
  version: 1,
  data: z.object({ orderId: z.string(), totalCents: z.number().int() }),
});
const StepRecorded = defineContract({
  type: "StepRecorded",
  version: 1,
  data: z.object({ accountId: z.string(), step: z.number().int() }),
});
const shop = defineTopology({
  topics: {
    orders: { current: OrderPlaced },
    steps: { current: StepRecorded, ordering: { groupBy: "accountId" } }, // FIFO, one group per account
  },
  consumers: {
    invoice: { topic: "orders", handlerEntry: "src/handlers/invoice.ts" },
    journal: { topic: "steps", handlerEntry: "src/handlers/journal.ts" },
  },
});
const billing = { down: 0, invoiced: [] as string[] }; // a stand-in for the billing API
const journal: string[] = [];
const invoice = defineConsumer(shop, {
  name: "invoice",
  handle: ({ data }) => {
    if (data.totalCents < 0) throw new PermanentError(`order ${data.orderId} has a negative total`);
    if (billing.down-- > 0) throw new Error("billing timed out"); // anything else is retried
    billing.invoiced.push(data.orderId);
  },
});
const journalConsumer = defineConsumer(shop, {
  name: "journal",
  handle: ({ data }) => {
    if (data.accountId === "acct-1" && data.step === 1 && !journal.includes("failed-once")) {
      journal.push("failed-once");
      throw new Error("journal store busy");
    }
    journal.push(`${data.accountId}#${data.step}`);
  },
});

// The tests. random: jitter pinned to its ceiling, so the first retry comes after exactly 2 s.
const kit = createTestKit(shop, { handlers: { invoice, journal: journalConsumer }, random: () => 0.99 });
afterEach(() => kit.drain());
// Stops its event sources and its outcome subscription (a process-wide channel).
afterAll(() => kit.close());

test("an order is invoiced", async () => {
  const { eventId } = await kit.publisher.publish("orders", { orderId: "A-1", totalCents: 4200 });
  await kit.waitFor("invoice", { eventId, outcome: "processed" });
  expect(billing.invoiced).toContain("A-1");
});

test("a billing timeout is retried after the backoff, on the kit's clock", async () => {
  billing.down = 1;
  const started = performance.now();
  const { eventId } = await kit.publisher.publish("orders", { orderId: "A-2", totalCents: 900 });
  const retried = await kit.waitFor("invoice", { eventId, outcome: "retried" });
  const done = await kit.waitFor("invoice", { eventId, outcome: "processed", receiveCount: 2 });
  expect(done.at - retried.at).toBeGreaterThanOrEqual(2_000); // 2 s of queue time...
  expect(performance.now() - started).toBeLessThan(5_000); // ...not of wall time (bound only)
});

test("a negative total goes to the DLQ at once, with its reason; so does a broken message", async () => {
  const { eventId } = await kit.publisher.publish("orders", { orderId: "R-1", totalCents: -500 });
  await kit.waitFor("invoice", { eventId, outcome: "dead-lettered", kind: "permanent", receiveCount: 1 });
  const poison = await kit.poison("orders", { orderId: "X-1", totalCents: "lots" }); // no cast needed
  await kit.waitFor("invoice", { eventId: poison.eventId, outcome: "dead-lettered" });
  const reasons = kit.deadLetters("invoice").map((d) => d.reason?.message);
  expect(reasons[0]).toBe("order R-1 has a negative total");
  expect(reasons[1]).toContain("totalCents");
});

test("a FIFO group waits behind its failed record; other groups go on", async () => {
  for (const step of [1, 2, 3]) await kit.publisher.publish("steps", { accountId: "acct-1", step });
  await kit.publisher.publish("steps", { accountId: "acct-2", step: 1 });
  await kit.drain();
  expect(journal.filter((j) => j.startsWith("acct-1#"))).toEqual(["acct-1#1", "acct-1#2", "acct-1#3"]);
  expect(journal.indexOf("acct-2#1")).toBeLessThan(journal.indexOf("acct-1#1"));
});
