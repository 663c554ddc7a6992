/**
 * Finding a message (`courier trace`, the console's "Find a message"): its journey from spans and
 * log lines, locally from the receiver's spans file and on AWS from X-Ray and Logs Insights
 * (recorded requests, aws-sdk-client-mock). Failure modes covered: a journey that loses an attempt
 * or its outcome; a DLQ stay reported after a redrive (or a redrive unseen); a consumer that never
 * got the message left unnamed; a guess where data is missing; an id pasted into a filter
 * expression or a Logs Insights query unchecked (injection); X-Ray asked for more than its window;
 * log lines of another message shown.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CloudWatchLogsClient,
  GetQueryResultsCommand,
  StartQueryCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { GetFunctionConfigurationCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { BatchGetTracesCommand, GetTraceSummariesCommand, XRayClient } from "@aws-sdk/client-xray";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  formatJourney,
  InvalidTraceQueryError,
  type SpanRecord,
  spanRecordsFromOtlp,
  traceMessage,
} from "../../packages/courier/src/cli/index.ts";
import type { DeployedTopology } from "../../packages/courier/src/deployment/deployed-topology.ts";

const EVENT = "5f0c1a52-8d0e-4a8c-9a53-2b1f5c9d7e11";
const OTHER = "0b6d7b1e-3c1a-4f55-8f2e-6f1a2b3c4d5e";
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

function span(overrides: Partial<SpanRecord> & { name: string; spanId: string }): SpanRecord {
  return {
    traceId: TRACE,
    kind: "internal",
    start: "2026-12-06T18:00:00.000Z",
    durationMs: 5,
    attributes: {},
    status: "unset",
    links: [],
    ...overrides,
  };
}

/** One sign-up: published, a failed attempt, dead-lettered, redriven, then processed with an email sent. */
const journeySpans: SpanRecord[] = [
  span({
    name: "send account-signups",
    spanId: "a1",
    kind: "producer",
    service: "example-api",
    attributes: {
      "messaging.operation.name": "publish",
      "messaging.destination.name": "account-signups",
      "messaging.message.id": "sns-1",
      "courier.event_id": EVENT,
      "courier.correlation_id": "req-7",
      "courier.message_type": "NewAccount",
    },
  }),
  span({
    name: "handle verification-email",
    spanId: "b1",
    kind: "consumer",
    start: "2026-12-06T18:00:01.000Z",
    durationMs: 40,
    status: "error",
    attributes: {
      "messaging.operation.type": "process",
      "messaging.destination.name": "verification-email",
      "messaging.message.id": "sqs-1",
      "courier.consumer": "verification-email",
      "courier.event_id": EVENT,
      "courier.receive_count": 1,
      "courier.outcome": "dead-lettered",
      "courier.dead_letter.reason": "permanent",
      "courier.error.class": "PermanentError",
      "courier.error.message": "template missing",
    },
  }),
  span({
    name: "send verification-email",
    spanId: "c1",
    kind: "producer",
    start: "2026-12-06T18:05:00.000Z",
    attributes: {
      "messaging.operation.name": "redrive",
      "messaging.destination.name": "verification-email",
      "messaging.message.id": "sqs-2",
      "courier.event_id": EVENT,
      "courier.redrive.count": 1,
      "courier.redrive.source": "dlq",
    },
  }),
  span({
    name: "handle verification-email",
    spanId: "d1",
    kind: "consumer",
    start: "2026-12-06T18:05:02.000Z",
    durationMs: 30,
    attributes: {
      "messaging.operation.type": "process",
      "messaging.destination.name": "verification-email",
      "messaging.message.id": "sqs-2",
      "courier.consumer": "verification-email",
      "courier.event_id": EVENT,
      "courier.receive_count": 1,
      "courier.outcome": "processed",
    },
  }),
  span({ name: "SES.SendEmail", spanId: "e1", parentSpanId: "d1", kind: "client", durationMs: 12 }),
  span({
    name: "handle team-notify",
    spanId: "f1",
    kind: "consumer",
    start: "2026-12-06T18:00:01.500Z",
    attributes: {
      "messaging.operation.type": "process",
      "messaging.destination.name": "team-notify",
      "courier.consumer": "team-notify",
      "courier.event_id": EVENT,
      "courier.outcome": "retried",
      "courier.retry.delay_seconds": 8,
      "courier.error.class": "Error",
      "courier.error.message": "webhook 503",
    },
  }),
  span({
    name: "send account-signups",
    spanId: "z1",
    kind: "producer",
    attributes: {
      "messaging.operation.name": "publish",
      "courier.event_id": OTHER,
      "courier.correlation_id": "req-7",
    },
  }),
];

const topology = {
  stackName: "courier",
  manifest: { redrive: { functionName: "courier-redrive", maxRedrives: 3 } },
  topics: {},
  consumers: {
    "verification-email": {
      name: "verification-email",
      topic: "account-signups",
      functionName: "courier-ve",
    },
    "team-notify": { name: "team-notify", topic: "account-signups", functionName: "courier-tn" },
    "verification-sms": { name: "verification-sms", topic: "account-signups", functionName: "courier-sms" },
  },
  secretArns: {},
  outputs: {},
} as unknown as DeployedTopology;

const dir = mkdtempSync(join(tmpdir(), "courier-trace-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const spansFile = join(dir, "spans.jsonl");
const logFile = join(dir, "worker-logs.jsonl");
writeFileSync(spansFile, `${journeySpans.map((s) => JSON.stringify(s)).join("\n")}\n{"cut short`);
writeFileSync(
  logFile,
  [
    {
      level: "ERROR",
      message: "record dead-lettered",
      timestamp: "2026-12-06T18:00:01.040Z",
      service: "verification-email",
      eventId: EVENT,
      correlationId: "req-7",
    },
    {
      level: "INFO",
      message: "verification email sent",
      timestamp: "2026-12-06T18:05:02.030Z",
      service: "verification-email",
      eventId: EVENT,
    },
    {
      level: "INFO",
      message: "someone else's",
      timestamp: "2026-12-06T18:05:03.000Z",
      service: "verification-email",
      eventId: OTHER,
    },
  ]
    .map((l) => JSON.stringify(l))
    .join("\n"),
);

const local = { kind: "local" as const, spansFile, logFiles: [logFile] };

describe("a message's journey from the local spans file", () => {
  it("GIVEN its eventId WHEN traced THEN publish, each attempt with outcome and duration, the DLQ stay, the redrive and the side effect are told in order", async () => {
    const journey = await traceMessage({ id: EVENT, source: local, topology });
    expect(journey.matchedBy).toBe("eventId");
    const [message] = journey.messages;
    expect(message?.published).toEqual([
      expect.objectContaining({ topic: "account-signups", service: "example-api", snsMessageId: "sns-1" }),
    ]);
    const email = message?.deliveries.find((d) => d.consumer === "verification-email");
    expect(email?.attempts.map((a) => a.outcome)).toEqual(["dead-lettered", "processed"]);
    expect(email?.attempts[0]).toMatchObject({
      deadLetterReason: "permanent",
      errorClass: "PermanentError",
      durationMs: 40,
    });
    expect(email?.attempts[1]?.sideEffects).toEqual([
      expect.objectContaining({ name: "SES.SendEmail", durationMs: 12 }),
    ]);
    expect(email?.redrives).toEqual([
      expect.objectContaining({ queue: "verification-email", newMessageId: "sqs-2", redriveCount: 1 }),
    ]);
    expect(email?.state).toBe("processed");
    const notify = message?.deliveries.find((d) => d.consumer === "team-notify");
    expect(notify?.state).toBe("retrying (next attempt after 8 s)");
  });

  it("GIVEN a replay of the message to one consumer WHEN traced THEN it is told as replayed from the archive, beside the redrive", async () => {
    const replayed = span({
      name: "send verification-email",
      spanId: "r9",
      kind: "producer",
      start: "2026-12-06T19:00:00.000Z",
      attributes: {
        "messaging.operation.name": "replay",
        "messaging.destination.name": "verification-email",
        "messaging.message.id": "sqs-9",
        "courier.event_id": EVENT,
        "courier.replay.run_id": "run-1",
      },
    });
    const file = join(dir, "replay.jsonl");
    writeFileSync(file, [...journeySpans, replayed].map((s) => JSON.stringify(s)).join("\n"));
    const journey = await traceMessage({ id: EVENT, source: { kind: "local", spansFile: file } });
    const email = journey.messages[0]?.deliveries.find((d) => d.consumer === "verification-email");
    expect(email?.redrives.map((r) => r.source)).toEqual(["dlq", "archive"]);
    expect(formatJourney(journey).join("\n")).toMatch(
      /replayed from the archive to verification-email as sqs-9/,
    );
  });

  it("GIVEN a consumer of the topic with no recorded attempt WHEN traced THEN it is named as missing, not guessed", async () => {
    const journey = await traceMessage({ id: EVENT, source: local, topology });
    const [message] = journey.messages;
    expect(message?.deliveries.find((d) => d.consumer === "verification-sms")?.state).toBe(
      "no attempt recorded",
    );
    expect(message?.gaps.join("\n")).toMatch(/verification-sms: no attempt recorded/);
  });

  it("GIVEN the worker log file WHEN traced THEN only this message's log lines are shown, in time order", async () => {
    const [message] = (await traceMessage({ id: EVENT, source: local })).messages;
    expect(message?.logLines.map((l) => l.message)).toEqual([
      "record dead-lettered",
      "verification email sent",
    ]);
  });

  it("GIVEN a correlation id WHEN traced THEN every message of that request is found", async () => {
    const journey = await traceMessage({ id: "req-7", source: local });
    expect(journey.matchedBy).toBe("correlationId");
    expect(journey.messages.map((m) => m.eventId).sort()).toEqual([EVENT, OTHER].sort());
  });

  it("GIVEN a message still in the DLQ WHEN traced THEN it says so with the reason", async () => {
    const onlyDeadLettered = journeySpans.filter((s) => s.spanId !== "c1" && s.spanId !== "d1");
    const file = join(dir, "dlq.jsonl");
    writeFileSync(file, onlyDeadLettered.map((s) => JSON.stringify(s)).join("\n"));
    const [message] = (await traceMessage({ id: EVENT, source: { kind: "local", spansFile: file } }))
      .messages;
    expect(message?.deliveries.find((d) => d.consumer === "verification-email")?.state).toBe(
      "in the dead-letter queue (permanent: PermanentError: template missing)",
    );
  });

  it("GIVEN an id nothing names WHEN traced THEN the answer says plainly where it looked and finds nothing", async () => {
    const journey = await traceMessage({ id: "nobody-knows", source: local });
    expect(journey.messages).toEqual([]);
    expect(journey.notes[0]).toMatch(/No span names "nobody-knows".*spans file/);
  });

  it("GIVEN no spans file WHEN traced THEN it says the receiver may not be running", async () => {
    const journey = await traceMessage({
      id: EVENT,
      source: { kind: "local", spansFile: join(dir, "none.jsonl") },
    });
    expect(journey.notes.join(" ")).toMatch(/No spans file at .*none\.jsonl/);
  });

  it("GIVEN an id with a quote WHEN traced THEN it is refused before any query (failure mode: a filter expression injected)", async () => {
    await expect(traceMessage({ id: 'x" OR 1=1', source: local })).rejects.toThrow(InvalidTraceQueryError);
  });

  it("GIVEN a journey WHEN formatted THEN a person reads each step on its own line", async () => {
    const text = formatJourney(await traceMessage({ id: EVENT, source: local, topology })).join("\n");
    expect(text).toMatch(
      /published 2026-12-06T18:00:00.000Z to account-signups by example-api \(SNS sns-1\)/,
    );
    expect(text).toMatch(
      /attempt 1 on verification-email: dead-lettered \(permanent: PermanentError: template missing\), 40 ms/,
    );
    expect(text).toMatch(/redriven from the DLQ to verification-email as sqs-2 \(redrive 1\)/);
    expect(text).toMatch(/SES.SendEmail 12 ms/);
  });
});

describe("OTLP/JSON to span records", () => {
  it("GIVEN an exporter's request WHEN read THEN ids, kind, times, attributes, status and links come through", () => {
    const [record] = spanRecordsFromOtlp({
      resourceSpans: [
        {
          resource: { attributes: [{ key: "service.name", value: { stringValue: "verification-email" } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: TRACE,
                  spanId: "00f067aa0ba902b7",
                  parentSpanId: "",
                  name: "handle verification-email",
                  kind: 5,
                  startTimeUnixNano: "1765044000000000000",
                  endTimeUnixNano: "1765044000012500000",
                  attributes: [
                    { key: "courier.event_id", value: { stringValue: EVENT } },
                    { key: "courier.receive_count", value: { intValue: "2" } },
                    {
                      key: "aws.xray.annotations",
                      value: { arrayValue: { values: [{ stringValue: "courier.event_id" }] } },
                    },
                  ],
                  status: { code: 2, message: "Error: SES is down" },
                  links: [{ traceId: TRACE, spanId: "53995c3f42cd8ad8" }],
                },
              ],
            },
          ],
        },
      ],
    });
    expect(record).toEqual({
      traceId: TRACE,
      spanId: "00f067aa0ba902b7",
      name: "handle verification-email",
      kind: "consumer",
      service: "verification-email",
      start: "2025-12-06T18:00:00.000Z",
      durationMs: 12.5,
      attributes: {
        "courier.event_id": EVENT,
        "courier.receive_count": 2,
        "aws.xray.annotations": ["courier.event_id"],
      },
      status: "error",
      statusMessage: "Error: SES is down",
      links: [{ traceId: TRACE, spanId: "53995c3f42cd8ad8" }],
    });
  });
});

describe("a message's journey on AWS (X-Ray and Logs Insights, recorded requests)", () => {
  const xray = mockClient(XRayClient);
  const logs = mockClient(CloudWatchLogsClient);
  const lambda = mockClient(LambdaClient);
  const NOW = new Date("2026-12-06T18:30:00.000Z");
  const segment = (doc: Record<string, unknown>) => ({ Id: String(doc.id), Document: JSON.stringify(doc) });

  beforeEach(() => {
    xray.reset();
    logs.reset();
    lambda.reset();
    xray.on(GetTraceSummariesCommand).resolves({ TraceSummaries: [] });
    xray
      .on(GetTraceSummariesCommand, { EndTime: NOW })
      .resolves({ TraceSummaries: [{ Id: "1-4bf92f35-77b34da6a3ce929d0e0e4736" }] });
    xray.on(BatchGetTracesCommand).resolves({
      Traces: [
        {
          Id: "1-4bf92f35-77b34da6a3ce929d0e0e4736",
          Segments: [
            segment({
              id: "a1a1a1a1a1a1a1a1",
              trace_id: "1-4bf92f35-77b34da6a3ce929d0e0e4736",
              name: "verification-email",
              start_time: 1765044001,
              end_time: 1765044001.04,
              fault: true,
              cause: { exceptions: [{ type: "PermanentError", message: "template missing" }] },
              annotations: {
                courier_event_id: EVENT,
                courier_consumer: "verification-email",
                courier_outcome: "dead-lettered",
              },
              metadata: {
                default: {
                  "messaging.operation.type": "process",
                  "messaging.destination.name": "verification-email",
                  "courier.dead_letter.reason": "permanent",
                  "courier.error.class": "PermanentError",
                },
              },
              subsegments: [
                {
                  id: "b2b2b2b2b2b2b2b2",
                  name: "SES",
                  namespace: "aws",
                  start_time: 1765044001.01,
                  end_time: 1765044001.02,
                },
              ],
            }),
          ],
        },
      ],
    });
    lambda.on(GetFunctionConfigurationCommand).callsFake((input: { FunctionName: string }) => ({
      LoggingConfig: { LogGroup: `/courier/${input.FunctionName}` },
    }));
    logs.on(StartQueryCommand).resolves({ queryId: "q-1" });
    logs
      .on(GetQueryResultsCommand)
      .resolvesOnce({ status: "Running" })
      .resolves({
        status: "Complete",
        results: [
          [
            { field: "@timestamp", value: "2026-12-06 18:00:01.041" },
            { field: "@log", value: "123456789012:/courier/courier-ve" },
            { field: "level", value: "ERROR" },
            { field: "message", value: "record dead-lettered" },
            { field: "eventId", value: EVENT },
          ],
        ],
      });
  });

  const aws = () => ({
    kind: "aws" as const,
    xray: new XRayClient({ region: "eu-west-1" }),
    logs: new CloudWatchLogsClient({ region: "eu-west-1" }),
    lambda: new LambdaClient({ region: "eu-west-1" }),
    lookbackHours: 24,
  });

  it("GIVEN an eventId WHEN traced on AWS THEN X-Ray is asked by annotation in 6-hour windows over the look-back, and the trace is read", async () => {
    const journey = await traceMessage({ id: EVENT, source: aws(), topology, now: () => NOW });
    const asked = xray.commandCalls(GetTraceSummariesCommand).map((c) => c.args[0].input);
    expect(asked).toHaveLength(4);
    for (const input of asked) {
      expect(input.FilterExpression).toBe(
        `annotation.courier_event_id = "${EVENT}" OR annotation.courier_correlation_id = "${EVENT}"`,
      );
      expect((input.EndTime as Date).getTime() - (input.StartTime as Date).getTime()).toBeLessThanOrEqual(
        6 * 3_600_000,
      );
    }
    expect(xray.commandCalls(BatchGetTracesCommand)[0]?.args[0].input.TraceIds).toEqual([
      "1-4bf92f35-77b34da6a3ce929d0e0e4736",
    ]);
    const email = journey.messages[0]?.deliveries.find((d) => d.consumer === "verification-email");
    expect(email?.attempts[0]).toMatchObject({
      outcome: "dead-lettered",
      deadLetterReason: "permanent",
    });
    expect(email?.attempts[0]?.durationMs).toBeCloseTo(40, 3);
    expect(email?.attempts[0]?.sideEffects.map((s) => s.name)).toEqual(["SES"]);
    expect(journey.messages[0]?.traceIds).toEqual([TRACE]);
  });

  it("GIVEN the stack's functions WHEN traced on AWS THEN Logs Insights searches their log groups for the id and its lines are shown", async () => {
    const journey = await traceMessage({ id: EVENT, source: aws(), topology, now: () => NOW });
    const query = logs.commandCalls(StartQueryCommand)[0]?.args[0].input;
    expect(query?.logGroupNames?.sort()).toEqual(
      [
        "/courier/courier-redrive",
        "/courier/courier-sms",
        "/courier/courier-tn",
        "/courier/courier-ve",
      ].sort(),
    );
    expect(query?.queryString).toContain(`filter eventId = "${EVENT}" or correlationId = "${EVENT}"`);
    expect(query?.endTime).toBe(NOW.getTime() / 1000);
    expect(journey.messages[0]?.logLines).toEqual([
      expect.objectContaining({
        at: "2026-12-06T18:00:01.041Z",
        source: "/courier/courier-ve",
        level: "ERROR",
        message: "record dead-lettered",
      }),
    ]);
  });

  it("GIVEN no CloudWatch Logs client WHEN traced on AWS THEN it says the log lines were not looked for", async () => {
    const { logs: _logs, ...withoutLogs } = aws();
    const journey = await traceMessage({ id: EVENT, source: withoutLogs, topology, now: () => NOW });
    expect(journey.notes).toContain("Log lines were not looked for (no CloudWatch Logs client).");
  });
});
