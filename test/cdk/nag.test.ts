/**
 * cdk-nag's AwsSolutions pack on the courier stack, as `cdk synth` runs it (cdk/app.ts). Failure
 * modes covered: a new wildcard, managed policy or unencrypted resource slipping in unreviewed; an
 * acknowledgement without a reason; an acknowledgement that no longer matches anything (a stale
 * suppression that would silently cover a future finding); the checks not running at all.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { nagAcknowledgements } from "../../cdk/nag-suppressions.ts";
import { CourierStack } from "../../cdk/stacks/courier-stack.ts";
import { nagFindings as findingsOf, type NagFinding, TEST_SETTINGS } from "./fixtures.ts";

function nagFindings(acknowledge: boolean): { findings: NagFinding[]; stack: CourierStack } {
  return findingsOf((app) => new CourierStack(app, "courier-nag", { settings: TEST_SETTINGS }), acknowledge);
}

let acknowledged: NagFinding[];
let raw: { findings: NagFinding[]; stack: CourierStack };

// Two synths (about 5 s each): one as cdk/app.ts builds it, one without acknowledgements.
beforeAll(() => {
  acknowledged = nagFindings(true).findings;
  raw = nagFindings(false);
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
