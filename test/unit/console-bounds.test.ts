/**
 * The console stays linear and bounded whatever a DLQ holds, and acts on a DLQ one job at a time.
 * Failure modes covered: two deletes arriving together both run (each confirmed 500; together
 * they deleted 801); the triage cache holding every body it read (500 messages of 1 MiB: 500
 * MiB); a message view sending a whole 1 MiB body; a job reported done that left selected
 * messages behind without saying which or why (FIFO groups it could not pass included).
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListQueueTagsCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  ConsoleError,
  ConsoleService,
  outcomeOf,
} from "../../packages/courier/src/console/console-service.ts";
import { topologyFromOutputs } from "../../packages/courier/src/deployment/deployed-topology.ts";
import type { PeekedMessage } from "../../packages/courier/src/lib/redrive/peek.ts";
import { manifestOutputs, REGION } from "./manifest-fixtures.ts";
import { dlqMessage } from "./redrive-fixtures.ts";

const sqsMock = mockClient(SQSClient);
const MiB = 1024 * 1024;

const topology = topologyFromOutputs(
  "acme-orders",
  manifestOutputs("acme-orders", {
    topics: [{ name: "orders", description: "an order", current: { type: "OrderPlaced", version: 1 } }],
    consumers: [{ name: "invoice", topic: "orders", maxReceiveCount: 4, description: "bills" }],
  }),
);

/** A DLQ as SQS keeps it: received messages hidden until released or deleted. */
function fakeDlq(messages: Message[]) {
  const inFlight = new Set<string>();
  const handleOf = (m: Message) => m.ReceiptHandle ?? "";
  sqsMock.on(GetQueueAttributesCommand).callsFake(() => ({
    Attributes: { ApproximateNumberOfMessages: String(messages.length) },
  }));
  sqsMock.on(ListQueueTagsCommand).resolves({ Tags: {} });
  sqsMock.on(ReceiveMessageCommand).callsFake((input: { MaxNumberOfMessages?: number }) => {
    const batch = messages.filter((m) => !inFlight.has(handleOf(m))).slice(0, input.MaxNumberOfMessages ?? 1);
    for (const m of batch) inFlight.add(handleOf(m));
    return { Messages: batch };
  });
  sqsMock
    .on(ChangeMessageVisibilityBatchCommand)
    .callsFake((input: { Entries?: { Id?: string; ReceiptHandle?: string }[] }) => {
      for (const e of input.Entries ?? []) inFlight.delete(e.ReceiptHandle ?? "");
      return { Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id })), Failed: [] };
    });
  sqsMock
    .on(DeleteMessageBatchCommand)
    .callsFake((input: { Entries?: { Id?: string; ReceiptHandle?: string }[] }) => {
      for (const e of input.Entries ?? []) {
        const at = messages.findIndex((m) => handleOf(m) === e.ReceiptHandle);
        if (at >= 0) messages.splice(at, 1);
        inFlight.delete(e.ReceiptHandle ?? "");
      }
      return { Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id })), Failed: [] };
    });
  return messages;
}

function service(options: { triageCacheBytes?: number } = {}) {
  return new ConsoleService({
    sqs: new SQSClient({ region: REGION }),
    topology,
    endpoint: "AWS (eu-west-1)",
    readOnly: false,
    oldestAge: async () => 0,
    ...options,
  });
}

const timeouts = (count: number, body?: (i: number) => string) =>
  Array.from({ length: count }, (_, i) =>
    dlqMessage({
      id: `m${i}`,
      failure: { errorClass: "TimeoutError", message: "timed out" },
      ...(body ? { body: body(i) } : {}),
    }),
  );

beforeEach(() => {
  sqsMock.reset();
});

describe("GIVEN two deletes of one group arriving at once", () => {
  it("WHEN both are started THEN one runs and the other is refused with 409", async () => {
    fakeDlq(timeouts(5));
    const console_ = service();
    const cause = (await console_.triage("invoice")).groups[0]?.cause ?? "";
    const request = { action: "delete", consumer: "invoice", selection: { cause }, confirmCount: 5 } as const;

    const results = await Promise.allSettled([console_.start(request), console_.start(request)]);

    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((r) => r.status === "rejected");
    expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(ConsoleError);
    expect(((refused as PromiseRejectedResult).reason as ConsoleError).status).toBe(409);
    await console_.close();
  });
});

describe("GIVEN a DLQ of large messages", () => {
  it("WHEN it is grouped THEN the bodies the console keeps stay within its byte budget, every message still grouped", async () => {
    fakeDlq(timeouts(6, (i) => JSON.stringify({ eventId: `e${i}`, data: { note: "x".repeat(MiB) } })));
    const console_ = service({ triageCacheBytes: 3 * MiB });

    const triage = await console_.triage("invoice");

    expect(triage.groups[0]?.count).toBe(6);
    expect(console_.triageCacheBytes).toBeLessThanOrEqual(3 * MiB);
    expect((await console_.message("invoice", "m5", false)).bodyOmitted).toBe(true);
  });

  it("WHEN a 1 MiB message is viewed THEN the view holds at most its limit and says how much it left out", async () => {
    fakeDlq(timeouts(1, () => JSON.stringify({ data: { note: "ada@example.com ".repeat(MiB / 16) } })));
    const console_ = service();

    const detail = await console_.message("invoice", "m0", false);

    expect(detail.body.length).toBeLessThan(65_536 + 100);
    expect(detail.truncated?.totalChars).toBeGreaterThan(MiB);
    expect(detail.body).not.toContain("ada@example.com");
  });
});

describe("GIVEN a finished redrive", () => {
  const selected = (id: string, groupId?: string) =>
    ({ messageId: id, ...(groupId ? { groupId } : {}) }) as unknown as PeekedMessage;

  it("WHEN some selected messages were not reached THEN the outcome says how many were left, why, and which FIFO groups", () => {
    const outcome = outcomeOf(
      [selected("a", "g1"), selected("b", "g1"), selected("c", "g2"), selected("d", "g3")],
      [
        { messageId: "a", action: "moved" },
        { messageId: "b", action: "quarantined" },
        { messageId: "x", action: "skipped" },
      ],
      false,
    );

    expect(outcome).toMatchObject({ selected: 4, done: 1, left: 3, quarantined: 1, notReached: 2 });
    expect(outcome.groupsNotReached).toEqual(["g2", "g3"]);
    expect(outcome.text).toBe("moved 1 of 4; 3 left: 1 quarantined, 2 not reached (FIFO groups g2, g3)");
  });

  it("WHEN every selected message moved THEN the outcome leaves nothing", () => {
    const outcome = outcomeOf([selected("a")], [{ messageId: "a", action: "moved" }], false);
    expect(outcome.text).toBe("moved 1 of 1");
    expect(outcome.left).toBe(0);
  });
});
