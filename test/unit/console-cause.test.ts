/**
 * Causes: the error message with what varies per message masked, so one bug reads as one group,
 * and the selective mover's filter by cause or by hand-picked ids.
 * Failure modes: one cause split into a group per message (ids, numbers, addresses left in);
 * two different causes merged; a cause or id filter that moves messages outside the selection.
 */
import type { Message } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { causeOf, maskVariableParts } from "../../packages/courier/src/lib/redrive/cause.ts";
import { describeDlqMessage } from "../../packages/courier/src/lib/redrive/dlq-message.ts";
import { classify } from "../../packages/courier/src/lib/redrive/filter.ts";

function dlqMessage(id: string, errorClass: string, message: string): Message {
  return {
    MessageId: id,
    ReceiptHandle: `rh-${id}`,
    Body: "{}",
    MessageAttributes: {
      "courier.failure": {
        DataType: "String",
        StringValue: JSON.stringify({
          errorClass,
          message,
          consumer: "verification-email",
          receiveCount: 1,
          failedAt: "2026-01-01T00:00:00.000Z",
          kind: "permanent",
          messageId: id,
        }),
      },
    },
  };
}

describe("maskVariableParts", () => {
  it("GIVEN messages differing only in ids, numbers and addresses WHEN masked THEN they read the same", () => {
    const a = maskVariableParts(
      "send to ada@example.com failed for acct-1234 (request 6e004414-e01a-46a5-a70c-590707c5d440) after 3000 ms",
    );
    const b = maskVariableParts(
      "send to bob@example.org failed for acct-98 (request 0a63c48d-92c1-447f-b98b-bae3b9fdbbae) after 17 ms",
    );
    expect(a).toBe(b);
    expect(a).toBe("send to <email> failed for <id> (request <id>) after <n> ms");
  });

  it("GIVEN words without digits WHEN masked THEN they stay, so different causes stay apart", () => {
    expect(maskVariableParts("template verification-email/de-DE is missing")).toBe(
      "template verification-email/de-DE is missing",
    );
  });
});

describe("causeOf", () => {
  it("GIVEN a recorded failure WHEN described THEN the cause is its class and masked message", () => {
    const m = describeDlqMessage(dlqMessage("m1", "TimeoutError", "timed out after 3000 ms"));
    expect(causeOf(m)).toBe("TimeoutError: timed out after <n> ms");
  });

  it("GIVEN no recorded failure WHEN described THEN the cause is the unknown class alone", () => {
    expect(causeOf(describeDlqMessage({ MessageId: "m2", ReceiptHandle: "r", Body: "{}" }))).toBe("unknown");
  });
});

describe("classify by cause and by ids", () => {
  const context = { maxRedrives: 3, now: new Date("2026-01-02T00:00:00.000Z") };
  const timeout = describeDlqMessage(dlqMessage("m1", "TimeoutError", "timed out after 3000 ms"));
  const template = describeDlqMessage(dlqMessage("m2", "TemplateMissingError", "template x is missing"));

  it("GIVEN a cause filter WHEN a message of another cause is classified THEN it is skipped", () => {
    const filter = { cause: "TimeoutError: timed out after <n> ms" };
    expect(classify(timeout, filter, context).action).toBe("move");
    expect(classify(template, filter, context).action).toBe("skip");
  });

  it("GIVEN hand-picked ids WHEN a message not among them is classified THEN it is skipped", () => {
    const filter = { messageIds: ["m2"] };
    expect(classify(template, filter, context).action).toBe("move");
    expect(classify(timeout, filter, context)).toEqual({
      action: "skip",
      reason: "not among the chosen messages",
    });
  });
});
