import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  FAILURE_ATTRIBUTE,
  LINEAGE_ATTRIBUTE,
} from "../../packages/courier/src/lib/consumer/failure-attributes.ts";
import {
  redriveSelectively,
  type SelectiveRedriveOptions,
} from "../../packages/courier/src/lib/redrive/selective.ts";
import { DLQ_URL, dlqMessage, NOW, QUEUE_URL } from "./redrive-fixtures.ts";

const sqsMock = mockClient(SQSClient);
const sqs = new SQSClient({ region: "us-east-1" });

function dlqHolds(...batches: Message[][]) {
  let receive = sqsMock.on(ReceiveMessageCommand);
  for (const batch of batches) receive = receive.resolvesOnce({ Messages: batch });
  receive.resolves({ Messages: [] });
}

/** Every send succeeds, echoing each entry as successful. */
function sendsSucceed() {
  sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => ({
    Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `new-${e.Id}`, MD5OfMessageBody: "x" })),
    Failed: [],
  }));
}

function deletesSucceed() {
  sqsMock.on(DeleteMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
    Successful: input.Entries.map((e) => ({ Id: e.Id })),
    Failed: [],
  }));
}

function run(options: Partial<SelectiveRedriveOptions> = {}) {
  return redriveSelectively({
    sqs,
    dlqUrl: DLQ_URL,
    queueUrl: QUEUE_URL,
    maxRedrives: 3,
    waitTimeSeconds: 0,
    // One worker keeps the mocked receive sequence in order; the concurrency tests set their own.
    concurrency: 1,
    now: () => NOW,
    ...options,
  });
}

const sentEntries = () =>
  sqsMock.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? []);
const deletedHandles = () =>
  sqsMock
    .commandCalls(DeleteMessageBatchCommand)
    .flatMap((c) => (c.args[0].input.Entries ?? []).map((e) => e.ReceiptHandle));
const releasedHandles = () =>
  sqsMock
    .commandCalls(ChangeMessageVisibilityBatchCommand)
    .flatMap((c) =>
      (c.args[0].input.Entries ?? []).map((e) => [e.ReceiptHandle, e.VisibilityTimeout] as const),
    );

beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: "3" } });
  sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
});

describe("selective redrive: partial batch failures", () => {
  it("GIVEN a send batch where one entry is refused WHEN redriving THEN only the sent entries are deleted from the DLQ", async () => {
    dlqHolds([dlqMessage({ id: "a" }), dlqMessage({ id: "b" }), dlqMessage({ id: "c" })]);
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => ({
      Successful: input.Entries.filter((e) => e.Id !== "m1").map((e) => ({
        Id: e.Id,
        MessageId: "n",
        MD5OfMessageBody: "x",
      })),
      Failed: [{ Id: "m1", Code: "InternalError", SenderFault: false, Message: "try again" }],
    }));
    deletesSucceed();

    const summary = await run();

    expect(deletedHandles()).toEqual(["handle-a", "handle-c"]);
    expect(summary).toMatchObject({ moved: 2, failed: 1, skipped: 0, quarantined: 0 });
  });

  it("GIVEN a refused send WHEN the run ends THEN the refused message is made visible again in the DLQ", async () => {
    dlqHolds([dlqMessage({ id: "a" }), dlqMessage({ id: "b" })]);
    sqsMock.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: "m0", MessageId: "n", MD5OfMessageBody: "x" }],
      Failed: [{ Id: "m1", Code: "KMS.AccessDenied", SenderFault: true }],
    });
    deletesSucceed();

    await run();

    expect(releasedHandles()).toContainEqual(["handle-b", 0]);
    expect(releasedHandles().map(([h]) => h)).not.toContain("handle-a");
  });

  it("GIVEN a DLQ delete that fails for a sent entry WHEN redriving THEN it counts as moved and as a duplicate left in the DLQ", async () => {
    dlqHolds([dlqMessage({ id: "a" })]);
    sendsSucceed();
    sqsMock.on(DeleteMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: "m0", Code: "ReceiptHandleIsInvalid", SenderFault: true }],
    });

    const summary = await run();

    expect(summary).toMatchObject({ moved: 1, duplicates: 1, failed: 0 });
  });
});

describe("selective redrive: send before delete", () => {
  it("GIVEN messages to move WHEN redriving THEN every DLQ delete comes after the send that carried the message", async () => {
    dlqHolds([dlqMessage({ id: "a" }), dlqMessage({ id: "b" })], [dlqMessage({ id: "c" })]);
    sendsSucceed();
    deletesSucceed();

    await run();

    const order = sqsMock
      .calls()
      .map((c) => c.args[0])
      .filter((cmd) => cmd instanceof SendMessageBatchCommand || cmd instanceof DeleteMessageBatchCommand)
      .map((cmd) => (cmd instanceof SendMessageBatchCommand ? "send" : "delete"));
    expect(order).toEqual(["send", "delete", "send", "delete"]);
  });

  it("GIVEN a SendMessageBatch call that throws WHEN redriving THEN nothing is deleted and the error surfaces", async () => {
    dlqHolds([dlqMessage({ id: "a" })]);
    sqsMock.on(SendMessageBatchCommand).rejects(new Error("connection reset"));
    deletesSucceed();

    await expect(run()).rejects.toThrow("connection reset");

    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
  });

  it("GIVEN a crash injected between send and delete WHEN redriving THEN no delete happens and the message is released for a rerun", async () => {
    dlqHolds([dlqMessage({ id: "a" })]);
    sendsSucceed();
    deletesSucceed();

    await expect(
      run({
        hooks: {
          afterSendBeforeDelete: () => {
            throw new Error("crash");
          },
        },
      }),
    ).rejects.toThrow("crash");

    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
    expect(releasedHandles()).toContainEqual(["handle-a", 0]);
  });
});

describe("selective redrive: what is sent", () => {
  it("GIVEN a message never redriven WHEN redriving THEN its lineage starts at the DLQ MessageId with count 1", async () => {
    dlqHolds([dlqMessage({ id: "dlq-id-1" })]);
    sendsSucceed();
    deletesSucceed();

    await run();

    const lineage = JSON.parse(sentEntries()[0]?.MessageAttributes?.[LINEAGE_ATTRIBUTE]?.StringValue ?? "{}");
    expect(lineage).toEqual({
      originalMessageId: "dlq-id-1",
      redriveCount: 1,
      lastRedriveAt: NOW.toISOString(),
    });
  });

  it("GIVEN a message redriven before WHEN redriving THEN the original MessageId is kept and the count goes up by one", async () => {
    const lineage = {
      originalMessageId: "first-id",
      redriveCount: 1,
      lastRedriveAt: "2026-02-01T00:00:00.000Z",
    };
    dlqHolds([dlqMessage({ id: "second-id", lineage })]);
    sendsSucceed();
    deletesSucceed();

    await run();

    const sent = JSON.parse(sentEntries()[0]?.MessageAttributes?.[LINEAGE_ATTRIBUTE]?.StringValue ?? "{}");
    expect(sent).toEqual({
      originalMessageId: "first-id",
      redriveCount: 2,
      lastRedriveAt: NOW.toISOString(),
    });
  });

  it("GIVEN a message with string, number and binary attributes WHEN redriving THEN the body and every attribute travel unchanged", async () => {
    const body = '{"eventId":"e-1","type":"NewAccount",  "data":{"name":"Zoë ✓"}}';
    const message = dlqMessage({
      id: "a",
      body,
      failure: {},
      extraAttributes: {
        blob: { DataType: "Binary", BinaryValue: new Uint8Array([0, 1, 254]), StringListValues: [] },
      },
    });
    dlqHolds([message]);
    sendsSucceed();
    deletesSucceed();

    await run();

    const entry = sentEntries()[0];
    expect(entry?.MessageBody).toBe(body);
    const { [LINEAGE_ATTRIBUTE]: _lineage, ...copied } = entry?.MessageAttributes ?? {};
    expect(copied).toEqual({
      type: { DataType: "String", StringValue: "NewAccount" },
      version: { DataType: "Number", StringValue: "1" },
      [FAILURE_ATTRIBUTE]: message.MessageAttributes?.[FAILURE_ATTRIBUTE],
      blob: { DataType: "Binary", BinaryValue: new Uint8Array([0, 1, 254]) },
    });
  });

  it("GIVEN a message whose attributes fill the limit of 10 WHEN redriving THEN the failure reason gives way to the lineage", async () => {
    const extra = Object.fromEntries(
      Array.from({ length: 7 }, (_, i) => [`attr${i}`, { DataType: "String", StringValue: String(i) }]),
    );
    dlqHolds([dlqMessage({ id: "a", failure: {}, extraAttributes: extra })]);
    sendsSucceed();
    deletesSucceed();

    await run();

    const names = Object.keys(sentEntries()[0]?.MessageAttributes ?? {});
    expect(names).toHaveLength(10);
    expect(names).toContain(LINEAGE_ATTRIBUTE);
    expect(names).not.toContain(FAILURE_ATTRIBUTE);
  });

  it("GIVEN a message with 10 attributes of its own WHEN redriving THEN it is not sent without lineage but left in the DLQ as failed", async () => {
    const extra = Object.fromEntries(
      Array.from({ length: 8 }, (_, i) => [`attr${i}`, { DataType: "String", StringValue: String(i) }]),
    );
    dlqHolds([dlqMessage({ id: "a", extraAttributes: extra })]);
    sendsSucceed();
    deletesSucceed();

    const summary = await run();

    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect(summary).toMatchObject({ moved: 0, failed: 1 });
  });
});

describe("selective redrive: quarantine", () => {
  it("GIVEN a message redriven as often as the limit allows WHEN redriving THEN it stays in the DLQ, reported as quarantined", async () => {
    const lineage = { originalMessageId: "x", redriveCount: 3, lastRedriveAt: "2026-02-01T00:00:00.000Z" };
    dlqHolds([dlqMessage({ id: "poison", lineage }), dlqMessage({ id: "fine" })]);
    sendsSucceed();
    deletesSucceed();

    const summary = await run({ maxRedrives: 3, includeItems: true });

    expect(summary).toMatchObject({ moved: 1, quarantined: 1 });
    expect(deletedHandles()).toEqual(["handle-fine"]);
    expect(releasedHandles()).toContainEqual(["handle-poison", 0]);
    expect(summary.items?.find((i) => i.messageId === "poison")?.action).toBe("quarantined");
  });

  it("GIVEN a message redriven fewer times than the limit WHEN redriving THEN it moves", async () => {
    const lineage = { originalMessageId: "x", redriveCount: 2, lastRedriveAt: "2026-02-01T00:00:00.000Z" };
    dlqHolds([dlqMessage({ id: "a", lineage })]);
    sendsSucceed();
    deletesSucceed();

    const summary = await run({ maxRedrives: 3 });

    expect(summary).toMatchObject({ moved: 1, quarantined: 0 });
  });
});

describe("selective redrive: filters", () => {
  it("GIVEN messages of two types WHEN redriving by type THEN only that type is sent and the rest is skipped and released", async () => {
    dlqHolds([dlqMessage({ id: "a", type: "NewAccount" }), dlqMessage({ id: "b", type: "ImageUploaded" })]);
    sendsSucceed();
    deletesSucceed();

    const summary = await run({ filter: { type: "ImageUploaded" } });

    expect(sentEntries().map((e) => JSON.parse(e.MessageBody ?? "{}").type)).toEqual(["ImageUploaded"]);
    expect(summary).toMatchObject({ moved: 1, skipped: 1 });
    expect(releasedHandles()).toContainEqual(["handle-a", 0]);
  });

  it("GIVEN a message without a type attribute WHEN redriving by type THEN the envelope's type in the body decides", async () => {
    const message = dlqMessage({ id: "a", type: "ImageUploaded" });
    delete message.MessageAttributes?.type;
    dlqHolds([message]);
    sendsSucceed();
    deletesSucceed();

    const summary = await run({ filter: { type: "ImageUploaded" } });

    expect(summary.moved).toBe(1);
  });

  it("GIVEN messages failed with two error classes WHEN redriving by error class THEN only that class moves", async () => {
    dlqHolds([
      dlqMessage({ id: "a", failure: { errorClass: "TimeoutError" } }),
      dlqMessage({ id: "b", failure: { errorClass: "ZodError" } }),
      dlqMessage({ id: "c" }),
    ]);
    sendsSucceed();
    deletesSucceed();

    const summary = await run({ filter: { errorClass: "TimeoutError" } });

    expect(deletedHandles()).toEqual(["handle-a"]);
    expect(summary).toMatchObject({ moved: 1, skipped: 2 });
  });

  it("GIVEN a message SQS moved by itself WHEN redriving with error class unknown THEN it moves", async () => {
    dlqHolds([dlqMessage({ id: "a" }), dlqMessage({ id: "b", failure: {} })]);
    sendsSucceed();
    deletesSucceed();

    await run({ filter: { errorClass: "unknown" } });

    expect(deletedHandles()).toEqual(["handle-a"]);
  });

  it("GIVEN an old and a recent message WHEN redriving those older than 30 minutes THEN only the old one moves", async () => {
    dlqHolds([
      dlqMessage({ id: "old", sentAt: new Date(NOW.getTime() - 3_600_000) }),
      dlqMessage({ id: "new", sentAt: new Date(NOW.getTime() - 60_000) }),
    ]);
    sendsSucceed();
    deletesSucceed();

    const summary = await run({ filter: { olderThanSeconds: 1800 } });

    expect(deletedHandles()).toEqual(["handle-old"]);
    expect(summary.skipped).toBe(1);
  });

  it("GIVEN more messages than the maximum WHEN redriving with max 2 THEN exactly 2 move and no more are received", async () => {
    dlqHolds([dlqMessage({ id: "a" }), dlqMessage({ id: "b" })], [dlqMessage({ id: "c" })]);
    sendsSucceed();
    deletesSucceed();

    const summary = await run({ max: 2 });

    expect(summary.moved).toBe(2);
    expect(sqsMock.commandCalls(ReceiveMessageCommand)[0]?.args[0].input.MaxNumberOfMessages).toBe(2);
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(1);
  });
});

describe("selective redrive: dry run", () => {
  it("GIVEN a dry run WHEN redriving THEN nothing is sent or deleted and every received message is released", async () => {
    const lineage = { originalMessageId: "x", redriveCount: 3, lastRedriveAt: "2026-02-01T00:00:00.000Z" };
    dlqHolds([
      dlqMessage({ id: "a" }),
      dlqMessage({ id: "b", type: "Other" }),
      dlqMessage({ id: "c", lineage }),
    ]);

    const summary = await run({ dryRun: true, filter: { type: "NewAccount" } });

    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
    expect(
      releasedHandles()
        .map(([h]) => h)
        .sort(),
    ).toEqual(["handle-a", "handle-b", "handle-c"]);
    expect(summary).toMatchObject({ dryRun: true, moved: 1, skipped: 1, quarantined: 1 });
    expect(summary.items?.map((i) => [i.messageId, i.action])).toEqual([
      ["a", "moved"],
      ["b", "skipped"],
      ["c", "quarantined"],
    ]);
  });
});

describe("selective redrive: when to stop", () => {
  it("GIVEN a skipped message that becomes visible again WHEN redriving THEN it is counted once and the run still ends", async () => {
    const skipped = dlqMessage({ id: "b", type: "Other" });
    dlqHolds([skipped], [skipped], [skipped]);

    const summary = await run({ filter: { type: "NewAccount" } });

    expect(summary.skipped).toBe(1);
  });

  it("GIVEN an empty DLQ WHEN redriving THEN the run ends after two empty receives with nothing moved", async () => {
    dlqHolds();

    const summary = await run();

    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(2);
    expect(summary).toMatchObject({ moved: 0, skipped: 0, quarantined: 0, failed: 0 });
  });

  it("GIVEN an aborted signal WHEN redriving THEN nothing is received and the summary says cancelled", async () => {
    dlqHolds([dlqMessage({ id: "a" })]);
    const controller = new AbortController();
    controller.abort();

    const summary = await run({ signal: controller.signal });

    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
    expect(summary.cancelled).toBe(true);
  });

  it("GIVEN a progress callback WHEN redriving THEN it reports the running counts against the DLQ depth", async () => {
    dlqHolds([dlqMessage({ id: "a" }), dlqMessage({ id: "b", type: "Other" })]);
    sendsSucceed();
    deletesSucceed();
    const seen: unknown[] = [];

    await run({ filter: { type: "NewAccount" }, onProgress: (p) => seen.push(p) });

    expect(seen.at(-1)).toMatchObject({ received: 2, moved: 1, skipped: 1, total: 3 });
  });
});

describe("selective redrive: concurrent workers", () => {
  /** A DLQ of `count` messages that hands each out once, as many as each receive asks for. */
  function dlqPool(count: number) {
    const pool = Array.from({ length: count }, (_, i) => dlqMessage({ id: `p${i}` }));
    sqsMock.on(ReceiveMessageCommand).callsFake((input: { MaxNumberOfMessages: number }) => ({
      Messages: pool.splice(0, input.MaxNumberOfMessages),
    }));
  }

  it("GIVEN 4 workers and 35 messages WHEN redriving with max 25 THEN exactly 25 are sent and deleted", async () => {
    dlqPool(35);
    sendsSucceed();
    deletesSucceed();

    const summary = await run({ concurrency: 4, max: 25 });

    expect(summary.moved).toBe(25);
    expect(sentEntries()).toHaveLength(25);
    expect(deletedHandles()).toHaveLength(25);
  });

  it("GIVEN 4 workers and 95 messages WHEN redriving THEN each message is sent once and deleted once", async () => {
    dlqPool(95);
    sendsSucceed();
    deletesSucceed();

    const summary = await run({ concurrency: 4 });

    expect(summary.moved).toBe(95);
    expect(new Set(deletedHandles()).size).toBe(95);
    expect(deletedHandles()).toHaveLength(95);
  });

  it("GIVEN 4 workers WHEN one batch crashes between send and delete THEN only that batch stays undeleted and is released", async () => {
    dlqPool(40);
    sendsSucceed();
    deletesSucceed();
    let calls = 0;
    let crashed: string[] = [];

    const redrive = run({
      concurrency: 4,
      hooks: {
        afterSendBeforeDelete: (sent) => {
          calls += 1;
          if (calls === 2) {
            crashed = sent.map((m) => m.receiptHandle);
            throw new Error("crash");
          }
        },
      },
    });

    await expect(redrive).rejects.toThrow("crash");
    expect(crashed).toHaveLength(10);
    expect(deletedHandles().filter((h) => h !== undefined && crashed.includes(h))).toEqual([]);
    expect(releasedHandles().map(([h]) => h)).toEqual(expect.arrayContaining(crashed));
  });
});

describe("selective redrive: messages that return during the run", () => {
  const returnedCopy = (id: string, originalMessageId: string) =>
    dlqMessage({
      id,
      lineage: { originalMessageId, redriveCount: 1, lastRedriveAt: NOW.toISOString() },
      failure: {
        errorClass: "TemplateError",
        message: "template still missing",
        failedAt: new Date(NOW.getTime() + 1_000).toISOString(),
      },
    });

  it("GIVEN a moved message that the consumer dead-letters again during the run WHEN the run receives it THEN it is reported as returned with its new reason and not moved again", async () => {
    dlqHolds([dlqMessage({ id: "a", failure: {} })], [returnedCopy("a-again", "a")]);
    sendsSucceed();
    deletesSucceed();

    const summary = await run({ includeItems: true });

    expect(sentEntries()).toHaveLength(1);
    expect(summary).toMatchObject({ moved: 1, returned: 1, failed: 0 });
    const item = summary.items?.find((i) => i.action === "returned");
    expect(item).toMatchObject({ messageId: "a-again", errorClass: "TemplateError" });
    expect(item?.reason).toContain("template still missing");
    expect(releasedHandles()).toContainEqual(["handle-a-again", 0]);
  });

  it("GIVEN a returned message WHEN the run reports progress THEN the returned count is in it", async () => {
    dlqHolds([dlqMessage({ id: "a", failure: {} })], [returnedCopy("a-again", "a")]);
    sendsSucceed();
    deletesSucceed();
    const seen: number[] = [];

    await run({ onProgress: (p) => seen.push(p.returned) });

    expect(seen.at(-1)).toBe(1);
  });

  it("GIVEN a redriven message whose DLQ delete failed WHEN its old copy is received again THEN it is held, not reported as returned", async () => {
    const old = dlqMessage({
      id: "b",
      lineage: { originalMessageId: "first-b", redriveCount: 1, lastRedriveAt: "2026-02-01T00:00:00.000Z" },
    });
    dlqHolds([old], [old]);
    sendsSucceed();
    sqsMock.on(DeleteMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: [],
      Failed: input.Entries.map((e) => ({ Id: e.Id, Code: "ReceiptHandleIsInvalid", SenderFault: true })),
    }));

    const summary = await run();

    expect(summary).toMatchObject({ moved: 1, returned: 0, duplicates: 1 });
    expect(sentEntries()).toHaveLength(1);
  });
});
