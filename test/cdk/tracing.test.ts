/**
 * Active X-Ray tracing, as the template shows it. Failure modes covered: a function left out of
 * the trace (no TracingConfig, so X-Ray shows the request stop at its queue), and a traced function
 * whose role cannot write its segments (traces silently missing).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { consumerNames } from "../../src/topology.ts";
import {
  actionsOf,
  type CfnTemplate,
  isXrayWriteStatement,
  logicalId,
  resourcesOf,
  resourcesOfType,
  roleStatements,
  type SynthesizedCourier,
  synthCourierStack,
} from "./fixtures.ts";

let synth: SynthesizedCourier;
let json: CfnTemplate;
beforeAll(() => {
  synth = synthCourierStack("courier-tracing-test");
  json = synth.json;
});

describe("GIVEN the courier stack WHEN synthesized THEN X-Ray tracing is active", () => {
  it("every Lambda function in the template has TracingConfig Mode Active", () => {
    const functions = resourcesOfType(json, "AWS::Lambda::Function");
    // Every consumer and the redrive function, at least; no function is left untraced.
    expect(functions.length).toBeGreaterThanOrEqual(consumerNames.length + 1);
    for (const [id, fn] of functions) {
      expect(fn.Properties?.TracingConfig, id).toEqual({ Mode: "Active" });
    }
  });

  it("each consumer's and the redrive function's role may write trace segments and telemetry", () => {
    const fns = [
      ...consumerNames.map((n) => synth.courier.consumerFunctions[n].function),
      synth.courier.redrive.function,
    ];
    for (const fn of fns) {
      const roleId = logicalId(fn.role as NonNullable<typeof fn.role>);
      const xray = roleStatements(json, roleId).filter((s) =>
        actionsOf(s).some((a) => a.startsWith("xray:")),
      );
      expect(xray.flatMap(actionsOf).sort(), fn.node.path).toEqual([
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
      ]);
      expect(xray.flatMap(resourcesOf), fn.node.path).toEqual(["*"]);
      // The least-privilege tests set exactly this statement aside, and nothing else.
      expect(xray.every(isXrayWriteStatement), fn.node.path).toBe(true);
    }
  });
});
