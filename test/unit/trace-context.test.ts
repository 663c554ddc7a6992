import { describe, expect, it } from "vitest";
import { anyEnvelopeSchema } from "../../packages/courier/src/lib/contracts/index.ts";
import {
  newTraceId,
  parseCorrelationId,
  parseTraceparent,
  startTrace,
  traceparentFromXray,
  xrayTraceIdOf,
} from "../../packages/courier/src/lib/trace/trace-context.ts";

// The specification's own example.
const VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/;
const XRAY = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

/** Headers a client or a proxy may send that are not a usable traceparent. */
const INVALID_HEADERS: ReadonlyArray<[string, unknown]> = [
  ["empty", ""],
  ["garbage", "hello"],
  ["upper-case hex", VALID.toUpperCase()],
  ["all-zero trace id", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"],
  ["all-zero parent id", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"],
  ["version ff", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
  ["version 00 with a fifth field", `${VALID}-extra`],
  ["short trace id", "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"],
  ["non-hex", "00-4bf92f3577b34da6a3ce929d0e0e473z-00f067aa0ba902b7-01"],
  ["repeated header (Node gives a list)", [VALID, VALID]],
  ["a number", 42],
  ["undefined", undefined],
  ["8 KiB of header", `${VALID}${"-".repeat(8192)}`],
  ["a log-injection attempt", `${VALID}\n{"level":"ERROR"}`],
];

describe("traceparent parsing", () => {
  it("GIVEN the specification's example WHEN parsed THEN its trace id, parent id and sampled flag are read", () => {
    expect(parseTraceparent(VALID)).toEqual({
      version: "00",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      parentId: "00f067aa0ba902b7",
      flags: "01",
      sampled: true,
    });
  });

  it("GIVEN a header of a later version with more fields WHEN parsed THEN its known prefix is read (forward compatibility)", () => {
    expect(parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-future")).toMatchObject({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      sampled: false,
    });
  });

  it.each(INVALID_HEADERS)(
    "GIVEN an invalid header (%s) WHEN parsed THEN it is undefined, not a throw",
    (_name, header) => {
      expect(parseTraceparent(header)).toBeUndefined();
    },
  );
});

describe("starting a trace for a request", () => {
  it.each(INVALID_HEADERS)(
    "GIVEN an invalid incoming traceparent (%s) WHEN a trace starts THEN it is a new valid trace (failure mode: crash on a bad header)",
    (_name, header) => {
      const trace = startTrace({ traceparent: header, env: {} });
      expect(trace.traceparent).toMatch(TRACEPARENT);
      expect(trace.traceparent).not.toContain("4bf92f3577b34da6a3ce929d0e0e4736");
    },
  );

  it("GIVEN a valid incoming traceparent WHEN a trace starts THEN it keeps the trace id and sampled flag with a new span id of its own", () => {
    const parsed = parseTraceparent(startTrace({ traceparent: VALID, env: {} }).traceparent);
    expect(parsed).toMatchObject({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", sampled: true });
    expect(parsed?.parentId).not.toBe("00f067aa0ba902b7");
  });

  it("GIVEN no incoming header WHEN a trace starts THEN the trace id begins with the epoch seconds, as X-Ray's do", () => {
    const now = Date.parse("2026-11-28T12:00:00Z");
    const parsed = parseTraceparent(startTrace({ env: {}, now: () => now }).traceparent);
    expect(parsed?.traceId.slice(0, 8)).toBe((now / 1000).toString(16));
    expect(newTraceId(now)).toMatch(/^[0-9a-f]{32}$/);
  });

  it("GIVEN a safe incoming correlation id WHEN a trace starts THEN it is kept; an unsafe one is replaced by a new UUID", () => {
    expect(startTrace({ correlationId: "order-42.retry:1", env: {} }).correlationId).toBe("order-42.retry:1");
    for (const unsafe of ["", "has space", "x".repeat(129), 'quote"d', "new\nline", ["a", "b"]]) {
      expect(parseCorrelationId(unsafe)).toBeUndefined();
      expect(startTrace({ correlationId: unsafe, env: {} }).correlationId).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("GIVEN X-Ray tracing active (_X_AMZN_TRACE_ID set) and no incoming header WHEN a trace starts THEN it continues X-Ray's trace and keeps its header", () => {
    const trace = startTrace({ env: { _X_AMZN_TRACE_ID: XRAY } });
    expect(trace.traceparent).toBe("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01");
    expect(trace.xrayTraceHeader).toBe(XRAY);
    expect(xrayTraceIdOf(trace.traceparent)).toBe("1-5759e988-bd862e3fe1be46a994272793");
  });

  it("GIVEN a malformed _X_AMZN_TRACE_ID WHEN a trace starts THEN it is ignored and a new trace starts", () => {
    const trace = startTrace({ env: { _X_AMZN_TRACE_ID: "Root=nonsense; rm -rf" } });
    expect(trace.traceparent).toMatch(TRACEPARENT);
    expect(trace.xrayTraceHeader).toBeUndefined();
  });

  it("GIVEN an X-Ray header without a Parent WHEN converted THEN a span id is made up rather than failing", () => {
    expect(traceparentFromXray("Root=1-5759e988-bd862e3fe1be46a994272793")).toMatch(
      /^00-5759e988bd862e3fe1be46a994272793-[0-9a-f]{16}-00$/,
    );
  });
});

describe("the envelope's trace field", () => {
  const envelope = {
    eventId: "7f1c2e4a-3b5d-4c6e-8f90-123456789abc",
    type: "NewAccount",
    version: 1,
    occurredAt: "2026-11-28T12:00:00.000Z",
    producer: "api",
    data: {},
  };

  it("GIVEN a well-formed trace WHEN the envelope is parsed THEN the trace is kept", () => {
    const trace = { traceparent: VALID, correlationId: "c-1", xrayTraceHeader: XRAY };
    expect(anyEnvelopeSchema.parse({ ...envelope, trace }).trace).toEqual(trace);
  });

  it("GIVEN a malformed trace WHEN the envelope is parsed THEN the message is still valid, without a trace (failure mode: a bad trace dead-letters a good message)", () => {
    for (const trace of [
      { traceparent: "bad", correlationId: "c-1" },
      "a string",
      { correlationId: "has space" },
    ]) {
      const parsed = anyEnvelopeSchema.safeParse({ ...envelope, trace });
      expect(parsed.success).toBe(true);
      expect(parsed.data?.trace).toBeUndefined();
    }
  });
});
