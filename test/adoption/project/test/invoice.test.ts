/**
 * Acme's own tests of its consumers, with courier's test kit from the installed package: the
 * handlers its modules export, under Lambda's SQS trigger semantics, in-process (no LocalStack).
 * Run with Node's built-in runner: node --test test/
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createTestKit } from "@courier-queue/courier/testing";

// The handlers read where to write their records at import: set it first.
process.env.ACME_RECORDS_DIR = mkdtempSync(join(tmpdir(), "acme-kit-"));
const { orders } = await import("../src/topology.ts");
const { handler: invoice } = await import("../src/handlers/invoice.ts");
const { handler: ledger } = await import("../src/handlers/ledger.ts");

const kit = createTestKit(orders, { handlers: { invoice, ledger } });
after(() => kit.close());

const order = { orderId: "A-1", customerEmail: "ada@example.com", totalCents: 4200, channel: "web" } as const;

test("GIVEN a web order WHEN published THEN invoice and ledger both process it", async () => {
  const { eventId } = await kit.publisher.publish("orders", order);
  await kit.waitFor("invoice", { eventId, outcome: "processed" });
  await kit.waitFor("ledger", { eventId, outcome: "processed" });
});

test("GIVEN a sandbox order WHEN published THEN the ledger's filter policy keeps it out", async () => {
  const { eventId } = await kit.publisher.publish("orders", { ...order, orderId: "S-1", channel: "sandbox" });
  await kit.waitFor("invoice", { eventId, outcome: "processed" });
  await kit.drain();
  assert.equal(
    kit.outcomes("ledger").some((o) => o.eventId === eventId),
    false,
  );
});

test("GIVEN a negative total WHEN invoiced THEN it is dead-lettered at once with its reason", async () => {
  const { eventId } = await kit.publisher.publish("orders", { ...order, orderId: "R-1", totalCents: -500 });
  const seen = await kit.waitFor("invoice", { eventId, outcome: "dead-lettered" });
  assert.equal(seen.outcome === "dead-lettered" && seen.kind, "permanent");
  const letter = kit.deadLetters("invoice").find((d) => d.eventId === eventId);
  assert.equal(letter?.reason?.message, "order R-1 has a negative total (-500 cents)");
});

test("GIVEN a message that breaks the contract WHEN delivered THEN it is dead-lettered naming the field", async () => {
  const { eventId } = await kit.poison("orders", { ...order, customerEmail: "not-an-address" });
  await kit.waitFor("invoice", { eventId, outcome: "dead-lettered", kind: "permanent" });
  const letter = kit.deadLetters("invoice").find((d) => d.eventId === eventId);
  assert.match(letter?.reason?.message ?? "", /customerEmail/);
});
