/**
 * Redrive and a message's trace context: peek names the request's correlation id beside the
 * lineage, and the selective mover sends the body (with its trace) back byte for byte. Failure
 * mode: a redriven message that can no longer be tied to the request that caused it.
 */
import { describe, expect, it } from "vitest";
import { describeDlqMessage } from "../../packages/courier/src/lib/redrive/dlq-message.ts";
import { nextLineage, outgoingEntry } from "../../packages/courier/src/lib/redrive/outgoing.ts";
import { dlqMessage, NOW } from "./redrive-fixtures.ts";

const trace = {
  traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  correlationId: "req-7",
};
const body = JSON.stringify({ eventId: "event-1", type: "NewAccount", version: 1, trace, data: {} });

describe("redrive keeps the trace context", () => {
  it("GIVEN a dead-lettered traced message WHEN described (peek) THEN its correlation id is named beside its lineage", () => {
    const lineage = { originalMessageId: "first", redriveCount: 1, lastRedriveAt: NOW.toISOString() };
    const described = describeDlqMessage(dlqMessage({ id: "m-1", body, failure: {}, lineage }));
    expect(described).toMatchObject({ correlationId: "req-7", lineage });
  });

  it("GIVEN a traced message inside an SNS notification (raw delivery off) WHEN described THEN its correlation id is read from the wrapped envelope", () => {
    const wrapped = JSON.stringify({ Type: "Notification", Message: body });
    expect(describeDlqMessage(dlqMessage({ id: "m-2", body: wrapped })).correlationId).toBe("req-7");
  });

  it("GIVEN a traced message WHEN the selective mover builds its send THEN the body is byte for byte the same and lineage is added", () => {
    const described = describeDlqMessage(dlqMessage({ id: "m-3", body, failure: {} }));
    const outgoing = outgoingEntry(described, nextLineage(described, NOW), "e0");
    if (!outgoing.ok) throw new Error(outgoing.reason);
    expect(outgoing.entry.MessageBody).toBe(body);
    expect(outgoing.entry.MessageAttributes?.["courier.lineage"]).toBeDefined();
  });

  it("GIVEN an unsafe correlation id in a body WHEN described THEN it is left out rather than shown", () => {
    const unsafe = JSON.stringify({ eventId: "e", type: "NewAccount", trace: { correlationId: "a\nb" } });
    expect(describeDlqMessage(dlqMessage({ id: "m-4", body: unsafe }))).not.toHaveProperty("correlationId");
  });
});
