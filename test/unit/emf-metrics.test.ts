/**
 * The runtime's own EMF writer against its peer: for the same calls it must write the document
 * Powertools Metrics writes (CloudWatch reads either the same way), and keep EMF's limits.
 */
import { Console } from "node:console";
import { Writable } from "node:stream";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { describe, expect, it } from "vitest";
import {
  EMF_MAX_VALUES_PER_METRIC,
  EmfMetrics,
} from "../../packages/courier/src/lib/consumer/emf-metrics.ts";

function powertoolsLines(calls: (m: Metrics) => void): unknown[] {
  const lines: string[] = [];
  const metrics = new Metrics({ namespace: "courier", serviceName: "verification-email" });
  const sink = new Writable({
    write: (chunk, _encoding, done) => {
      lines.push(String(chunk));
      done();
    },
  });
  (metrics as unknown as { console: Console }).console = new Console({ stdout: sink, stderr: sink });
  calls(metrics);
  return lines.filter((l) => l.startsWith("{")).map((l) => withoutTimestamp(JSON.parse(l)));
}

function emfLines(calls: (m: EmfMetrics) => void, env: NodeJS.ProcessEnv = {}): unknown[] {
  const lines: string[] = [];
  const metrics = new EmfMetrics({
    namespace: "courier",
    serviceName: "verification-email",
    write: (line) => lines.push(line),
    env,
    now: () => 1_764_000_000_000,
  });
  calls(metrics);
  return lines.map((l) => JSON.parse(l));
}

function withoutTimestamp(doc: { _aws: { Timestamp?: number } }): unknown {
  doc._aws.Timestamp = 1_764_000_000_000;
  return doc;
}

const invocation = (m: { addMetric: EmfMetrics["addMetric"]; publishStoredMetrics(): unknown }) => {
  for (const age of [120, 95, 3_000]) m.addMetric("AgeAtProcessing", MetricUnit.Milliseconds, age);
  m.addMetric("Processed", MetricUnit.Count, 2);
  m.addMetric("DeadLettered", MetricUnit.Count, 1);
  m.publishStoredMetrics();
};

describe("EmfMetrics", () => {
  it("GIVEN one invocation's ages and counts WHEN published THEN the line equals Powertools Metrics' line for the same calls", () => {
    const ours = emfLines(invocation);
    expect(ours).toHaveLength(1);
    expect(ours).toEqual(powertoolsLines(invocation));
  });

  it("GIVEN the line WHEN read as EMF THEN namespace, the service dimension, units and every age value are there", () => {
    const [doc] = emfLines(invocation) as Array<Record<string, unknown>>;
    expect(doc).toMatchObject({
      _aws: {
        Timestamp: 1_764_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: "courier",
            Dimensions: [["service"]],
            Metrics: [
              { Name: "AgeAtProcessing", Unit: "Milliseconds" },
              { Name: "Processed", Unit: "Count" },
              { Name: "DeadLettered", Unit: "Count" },
            ],
          },
        ],
      },
      service: "verification-email",
      AgeAtProcessing: [120, 95, 3_000],
      Processed: 2,
      DeadLettered: 1,
    });
  });

  it("GIVEN metadata beside the metrics WHEN published THEN the line equals Powertools' line, and the next line has none", () => {
    const calls = (m: { addMetadata(k: string, v: string): unknown } & Parameters<typeof invocation>[0]) => {
      m.addMetadata("correlationIds", "c-1 c-2");
      invocation(m);
      invocation(m);
    };
    const ours = emfLines(calls) as Array<Record<string, unknown>>;
    expect(ours).toEqual(powertoolsLines(calls));
    expect(ours[0]?.correlationIds).toBe("c-1 c-2");
    expect(ours[1]).not.toHaveProperty("correlationIds");
  });

  it("GIVEN nothing recorded WHEN published THEN no line is written (an empty EMF document is noise)", () => {
    expect(emfLines((m) => m.publishStoredMetrics())).toEqual([]);
  });

  it("GIVEN more values than EMF allows in one document WHEN recorded THEN they are split into documents of at most 100 values, none lost", () => {
    const docs = emfLines((m) => {
      for (let i = 0; i < 250; i += 1) m.addMetric("AgeAtProcessing", MetricUnit.Milliseconds, i);
      m.publishStoredMetrics();
    }) as Array<{ AgeAtProcessing: number[] | number }>;
    const sizes = docs.map((d) => (Array.isArray(d.AgeAtProcessing) ? d.AgeAtProcessing.length : 1));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(EMF_MAX_VALUES_PER_METRIC);
    expect(docs.flatMap((d) => d.AgeAtProcessing)).toEqual(Array.from({ length: 250 }, (_, i) => i));
  });

  it("GIVEN POWERTOOLS_METRICS_DISABLED=true (readable worker output) WHEN published THEN nothing is written and the store is cleared", () => {
    const lines: string[] = [];
    const metrics = new EmfMetrics({
      namespace: "courier",
      serviceName: "x",
      write: (l) => lines.push(l),
      env: { POWERTOOLS_METRICS_DISABLED: "true" },
    });
    metrics.addMetric("Processed", MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    expect(lines).toEqual([]);
  });

  it.each([
    [{ POWERTOOLS_DEV: "true" }, false],
    [{ POWERTOOLS_DEV: "true", POWERTOOLS_METRICS_DISABLED: "false" }, true],
    [{ POWERTOOLS_METRICS_DISABLED: "1" }, false],
    [{}, true],
  ])(
    "GIVEN the environment %o WHEN published THEN a line is written: %s (Powertools' rule)",
    (env, written) => {
      expect(emfLines(invocation, env)).toHaveLength(written ? 1 : 0);
    },
  );

  it("GIVEN a value that is not a finite number WHEN recorded THEN it is dropped and the others are published", () => {
    const [doc] = emfLines((m) => {
      m.addMetric("AgeAtProcessing", MetricUnit.Milliseconds, Number.NaN);
      m.addMetric("AgeAtProcessing", MetricUnit.Milliseconds, 12);
      m.publishStoredMetrics();
    }) as Array<Record<string, unknown>>;
    expect(doc?.AgeAtProcessing).toBe(12);
  });

  it("GIVEN no service name WHEN constructed THEN a TypeError says so", () => {
    expect(() => new EmfMetrics({ namespace: "courier", serviceName: "" })).toThrow(/serviceName/);
  });
});
