/**
 * The publisher's trace stamping (SNS mocked): the caller's trace context, or a new one, goes into
 * the envelope of every message; X-Ray's header where tracing is active; nothing in the message
 * attributes. Failure modes: a request's context lost on the way to SNS, a bad caller context sent
 * on, a trace crowding out filter attributes.
 */
import { PublishBatchCommand, PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import type { NewAccountV1 } from "../../src/app/contracts/index.ts";
import type { TopicName } from "../../src/topology.ts";
import { type CourierPublisherOptions, createPublisher } from "../helpers/example-publisher.ts";

const sns = mockClient(SNSClient);
const topicArns = {
  "account-signups": "arn:aws:sns:us-east-1:000000000000:account-signups",
} as Record<TopicName, string>;
const signup: NewAccountV1 = {
  accountId: "acc_1",
  email: "ada@example.com",
  displayName: "Ada",
  phone: "+14155550123",
  locale: "en-GB",
  createdAt: "2025-06-01T11:59:59.000Z",
};
const REQUEST_TRACE = {
  traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  correlationId: "req-7",
};
const XRAY = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

function publisher(overrides: Partial<CourierPublisherOptions> = {}) {
  return createPublisher({
    sns: new SNSClient({ region: "us-east-1" }),
    topicArns,
    producer: "api",
    env: {},
    ...overrides,
  });
}

function sent(): Array<{ body: Record<string, unknown>; attributes: Record<string, unknown> }> {
  const single = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
  const batched = sns
    .commandCalls(PublishBatchCommand)
    .flatMap((c) => c.args[0].input.PublishBatchRequestEntries ?? []);
  return [...single, ...batched].map((m) => ({
    body: JSON.parse(m.Message ?? "{}"),
    attributes: m.MessageAttributes ?? {},
  }));
}

beforeEach(() => {
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: "m-1" });
  sns.on(PublishBatchCommand).callsFake((input) => ({
    Successful: input.PublishBatchRequestEntries.map((e: { Id: string }) => ({
      Id: e.Id,
      MessageId: `m-${e.Id}`,
    })),
  }));
});

describe("trace stamping", () => {
  it("GIVEN the request's trace context WHEN published THEN the envelope carries exactly it (failure mode: the request's trace lost at the publisher)", async () => {
    await publisher().publish("account-signups", signup, { trace: REQUEST_TRACE });
    expect(sent()[0]?.body.trace).toEqual(REQUEST_TRACE);
  });

  it("GIVEN a republish with a fixed identity and a stored trace (the outbox) WHEN published THEN both travel", async () => {
    const identity = {
      eventId: "00000000-0000-4000-8000-000000000009",
      occurredAt: "2025-06-01T12:00:00.000Z",
    };
    await publisher().publish("account-signups", signup, { ...identity, trace: REQUEST_TRACE });
    expect(sent()[0]?.body).toMatchObject({ ...identity, trace: REQUEST_TRACE });
  });

  it("GIVEN no context WHEN published twice THEN each publish starts its own trace with its own correlation id", async () => {
    const p = publisher();
    await p.publish("account-signups", signup);
    await p.publish("account-signups", signup);
    const [a, b] = sent().map((m) => m.body.trace as { traceparent: string; correlationId: string });
    expect(a?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(a?.traceparent.slice(3, 35)).not.toBe(b?.traceparent.slice(3, 35));
    expect(a?.correlationId).not.toBe(b?.correlationId);
  });

  it("GIVEN X-Ray tracing active in the producer (_X_AMZN_TRACE_ID) WHEN published without a context THEN the trace continues X-Ray's and carries its header", async () => {
    await publisher({ env: { _X_AMZN_TRACE_ID: XRAY } }).publish("account-signups", signup);
    expect(sent()[0]?.body.trace).toMatchObject({
      traceparent: "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01",
      xrayTraceHeader: XRAY,
    });
  });

  it("GIVEN the request's context and X-Ray active WHEN published THEN the request's ids are kept and X-Ray's header is added", async () => {
    await publisher({ env: { _X_AMZN_TRACE_ID: XRAY } }).publish("account-signups", signup, {
      trace: REQUEST_TRACE,
    });
    expect(sent()[0]?.body.trace).toEqual({ ...REQUEST_TRACE, xrayTraceHeader: XRAY });
  });

  it("GIVEN a malformed caller context WHEN published THEN a TypeError is thrown before any SNS call", async () => {
    const bad = { traceparent: "not-a-traceparent", correlationId: "req-7" };
    await expect(publisher().publish("account-signups", signup, { trace: bad })).rejects.toThrow(TypeError);
    expect(sns.calls()).toHaveLength(0);
  });

  it("GIVEN a batch with the request's context WHEN published THEN every message carries it", async () => {
    const results = await publisher().publishBatch("account-signups", [signup, signup, signup], {
      trace: REQUEST_TRACE,
    });
    expect(results.every((r) => r.ok)).toBe(true);
    expect(sent().map((m) => m.body.trace)).toEqual([REQUEST_TRACE, REQUEST_TRACE, REQUEST_TRACE]);
  });

  it("GIVEN stamping off WHEN published THEN the envelope has no trace (the benchmark's baseline)", async () => {
    await publisher({ stampTrace: false }).publish("account-signups", signup, { trace: REQUEST_TRACE });
    expect(sent()[0]?.body).not.toHaveProperty("trace");
  });

  it("GIVEN the same message stamped and unstamped WHEN published THEN the message attributes are identical: the trace uses none of the 10", async () => {
    await publisher({ stampTrace: false }).publish("account-signups", signup);
    await publisher().publish("account-signups", signup, { trace: REQUEST_TRACE });
    const [plain, stamped] = sent();
    expect(stamped?.attributes).toEqual(plain?.attributes);
  });
});
