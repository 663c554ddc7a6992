/**
 * cdk-nag's AwsSolutions pack on the courier stack, as `cdk synth` runs it (cdk/app.ts). Failure
 * modes covered: a new wildcard, managed policy or unencrypted resource slipping in unreviewed; an
 * acknowledgement without a reason; an acknowledgement that no longer matches anything (a stale
 * suppression that would silently cover a future finding); the checks not running at all.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acknowledgeNagFindings, addNagChecks, nagAcknowledgements } from "../../cdk/nag-suppressions.ts";
import { CourierStack } from "../../cdk/stacks/courier-stack.ts";
import { TEST_SETTINGS } from "./fixtures.ts";

interface Finding {
  readonly rule: string;
  readonly severity: string;
  readonly path: string;
}

interface ValidationReport {
  pluginReports: Array<{
    pluginName: string;
    violations: Array<{
      ruleName: string;
      severity: string;
      violatingConstructs: Array<{ constructPath?: string }>;
    }>;
  }>;
}

const outdirs: string[] = [];

/**
 * Synthesizes the stack with the AwsSolutions pack (bundling off) and returns what it reported.
 * A finding makes synth throw, as it makes `cdk synth` fail; the report is on disk either way.
 */
function nagFindings(acknowledge: boolean): { findings: Finding[]; stack: CourierStack } {
  const outdir = mkdtempSync(join(tmpdir(), "courier-nag-"));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { "aws:cdk:bundling-stacks": [] } });
  const stack = new CourierStack(app, "courier-nag", { settings: TEST_SETTINGS });
  addNagChecks(app);
  if (acknowledge) acknowledgeNagFindings(stack);
  try {
    app.synth();
  } catch (error) {
    if ((error as Error).name !== "ValidationFailed") throw error;
  }
  const report = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) as ValidationReport;
  const findings = report.pluginReports
    .filter((r) => r.pluginName === "AwsSolutions")
    .flatMap((r) =>
      r.violations.flatMap((v) =>
        v.violatingConstructs.map((c) => ({
          rule: v.ruleName,
          severity: v.severity,
          path: c.constructPath ?? "?",
        })),
      ),
    );
  return { findings, stack };
}

let acknowledged: Finding[];
let raw: { findings: Finding[]; stack: CourierStack };

// Two synths (about 5 s each): one as cdk/app.ts builds it, one without acknowledgements.
beforeAll(() => {
  acknowledged = nagFindings(true).findings;
  raw = nagFindings(false);
});

afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

describe("GIVEN the courier stack under cdk-nag's AwsSolutions pack", () => {
  it("WHEN synthesized with courier's acknowledgements THEN no error or warning is left", () => {
    expect(acknowledged.map((f) => `${f.severity} ${f.rule} at ${f.path}`)).toEqual([]);
  });

  it("WHEN synthesized without them THEN the pack does report findings (the checks really run)", () => {
    expect(raw.findings.length).toBeGreaterThan(0);
  });

  it("WHEN reading the acknowledgements THEN each has a one-line reason", () => {
    for (const { id, reason } of nagAcknowledgements(raw.stack)) {
      expect(reason.trim().length, id).toBeGreaterThan(20);
      expect(reason, id).not.toMatch(/\n/);
      expect(reason.length, id).toBeLessThanOrEqual(240);
    }
  });

  it("WHEN each acknowledgement is held against the raw findings THEN it matches one (no stale suppression)", () => {
    const stale = nagAcknowledgements(raw.stack)
      .filter(({ construct, id }) => {
        const path = construct.node.path;
        return !raw.findings.some((f) => f.rule === id && (f.path === path || f.path.startsWith(`${path}/`)));
      })
      .map(({ construct, id }) => `${id} at ${construct.node.path}`);
    expect(stale).toEqual([]);
  });

  it("WHEN the findings are listed THEN none is about queue or topic encryption or TLS (fixed, never acknowledged)", () => {
    // SQS2/SNS2: server-side encryption; SQS4/SNS3: TLS only.
    const transport = raw.findings.filter((f) => /^AwsSolutions-(SQS2|SQS4|SNS2|SNS3)$/.test(f.rule));
    expect(transport).toEqual([]);
  });
});
