/**
 * Tracing as the template shows it, for both modes of the construct's `tracing` prop. Failure
 * modes covered: a function left out of the trace (no collector layer, no OTLP endpoint, no
 * TracingConfig: the journey stops at its queue); a traced function whose role cannot write to
 * X-Ray (traces silently missing); "none" still paying for a layer, X-Ray rights or the SDK in its
 * bundle; a wrong architecture's layer (the extension fails to start); a bad layer ARN or a
 * contradictory pair of props reaching deploy instead of failing at synth.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Stack } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import {
  adotCollectorLayerArn,
  Courier,
  type CourierProps,
  InvalidConstructPropsError,
  lambdaBundling,
  missingOtelPackages,
  newestNodejsRuntime,
  OTEL_LAMBDA_ENVIRONMENT,
  OTEL_SDK_PACKAGES,
  otelLambdaStartEntry,
} from "../../packages/courier/src/cdk/index.ts";
import { consumerNames } from "../../src/topology.ts";
import {
  actionsOf,
  appWithoutBundling,
  type CfnTemplate,
  isXrayWriteStatement,
  logicalId,
  resourcesOf,
  resourcesOfType,
  roleStatements,
  type SynthesizedCourier,
  synthCourierStack,
} from "./fixtures.ts";
import { ordersTopology } from "./handlers/orders-topology.ts";

const PROJECT_ROOT = new URL("../../", import.meta.url).pathname;

function orders(extra: Partial<CourierProps<"orders", "invoice" | "ledger">> = {}, region = "eu-west-1") {
  const stack = new Stack(appWithoutBundling(), "acme-orders", { env: { account: "123456789012", region } });
  const courier = new Courier(stack, "Orders", {
    topology: ordersTopology,
    projectRoot: PROJECT_ROOT,
    ...extra,
  });
  return {
    stack,
    courier,
    json: stack.resolve(JSON.parse(JSON.stringify(toTemplate(stack)))) as CfnTemplate,
  };
}

function toTemplate(stack: Stack): unknown {
  // biome-ignore lint/suspicious/noExplicitAny: the assembly's template is plain JSON
  return (stack.node.root as any).synth().getStackByName(stack.stackName).template;
}

function functionsOf(json: CfnTemplate) {
  return resourcesOfType(json, "AWS::Lambda::Function");
}

let synth: SynthesizedCourier;
let json: CfnTemplate;
beforeAll(() => {
  synth = synthCourierStack("courier-tracing-test");
  json = synth.json;
});

describe('GIVEN the example stack (tracing defaults to "otel") WHEN synthesized', () => {
  it("THEN every function runs the ADOT collector layer, exports OTLP to it, and has active tracing", () => {
    const functions = functionsOf(json);
    // Every consumer and the redrive function, at least; no function is left untraced.
    expect(functions.length).toBeGreaterThanOrEqual(consumerNames.length + 1);
    for (const [id, fn] of functions) {
      expect(fn.Properties?.TracingConfig, id).toEqual({ Mode: "Active" });
      expect(JSON.stringify(fn.Properties?.Layers), id).toContain(
        ":901920570463:layer:aws-otel-collector-arm64-ver-0-117-0:1",
      );
      const variables =
        (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      expect(variables, id).toMatchObject(OTEL_LAMBDA_ENVIRONMENT);
    }
  });

  it("THEN each consumer's and the redrive function's role may write trace segments and telemetry, on * only", () => {
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

describe("GIVEN a team's stack in a region", () => {
  it('WHEN tracing is "otel" on x86_64 THEN the layer is the amd64 collector of that region', () => {
    const { json } = orders({ architecture: lambda.Architecture.X86_64 }, "ap-southeast-2");
    for (const [id, fn] of functionsOf(json)) {
      expect(fn.Properties?.Layers, id).toEqual([
        "arn:aws:lambda:ap-southeast-2:901920570463:layer:aws-otel-collector-amd64-ver-0-117-0:1",
      ]);
    }
  });

  it("WHEN otelCollectorLayer is given THEN every function uses that layer instead", () => {
    const layer = "arn:aws:lambda:eu-west-1:111122223333:layer:my-collector:7";
    const { json } = orders({ otelCollectorLayer: layer });
    for (const [id, fn] of functionsOf(json)) expect(fn.Properties?.Layers, id).toEqual([layer]);
  });

  it('WHEN tracing is "none" THEN no function has a layer, OTel variables, active tracing or X-Ray rights', () => {
    const { json, courier } = orders({ tracing: "none" });
    const functions = functionsOf(json);
    expect(functions.length).toBe(4); // invoice, ledger, redrive, the orders topic's archiver
    for (const [id, fn] of functions) {
      expect(fn.Properties?.Layers, id).toBeUndefined();
      expect(JSON.stringify(fn.Properties?.TracingConfig ?? null), id).not.toContain("Active");
      const variables =
        (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      expect(
        Object.keys(variables).filter((k) => k.startsWith("OTEL_")),
        id,
      ).toEqual([]);
    }
    for (const fn of [courier.consumerFunctions.invoice.function, courier.redrive.function]) {
      const roleId = logicalId(fn.role as NonNullable<typeof fn.role>);
      const xray = roleStatements(json, roleId).filter((s) =>
        actionsOf(s).some((a) => a.startsWith("xray:")),
      );
      expect(xray, fn.node.path).toEqual([]);
    }
  });

  it.each([
    [{ tracing: "xray" as never }, /tracing must be "otel" or "none", got "xray"/],
    [{ otelCollectorLayer: "my-collector" }, /otelCollectorLayer must be a Lambda layer version ARN/],
    [
      { tracing: "none" as const, otelCollectorLayer: "arn:aws:lambda:eu-west-1:111122223333:layer:c:1" },
      /otelCollectorLayer is set but tracing is "none"/,
    ],
  ])("WHEN the props are %j THEN synth fails with a clear error", (extra, message) => {
    expect(() => orders(extra)).toThrow(InvalidConstructPropsError);
    expect(() => orders(extra)).toThrow(message);
  });
});

describe("courier's bundling per tracing mode", () => {
  const target = { runtime: newestNodejsRuntime(), architecture: lambda.Architecture.ARM_64 };

  it('GIVEN "otel" THEN the OpenTelemetry start is injected ahead of the handler, and the module exists', () => {
    expect(lambdaBundling({ ...target, tracing: "otel" }).inject).toEqual([otelLambdaStartEntry()]);
    expect(otelLambdaStartEntry()).toMatch(/otel\/lambda-start\.(ts|js)$/);
  });

  it('GIVEN "none" THEN nothing is injected', () => {
    expect(lambdaBundling({ ...target, tracing: "none" }).inject).toBeUndefined();
    expect(lambdaBundling(target).inject).toBeUndefined();
  });

  it("GIVEN this install THEN every SDK package the injected start needs resolves from courier's module", () => {
    expect(missingOtelPackages()).toEqual([]);
  });

  it("GIVEN a project without the SDK packages THEN each missing one is named, for synth's error", () => {
    const dir = mkdtempSync(join(tmpdir(), "courier-no-otel-"));
    try {
      expect(missingOtelPackages(join(dir, "lambda-start.js"))).toEqual([...OTEL_SDK_PACKAGES]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("GIVEN a region and an architecture THEN the default collector layer ARN names both", () => {
    expect(adotCollectorLayerArn("us-east-1", lambda.Architecture.ARM_64)).toBe(
      "arn:aws:lambda:us-east-1:901920570463:layer:aws-otel-collector-arm64-ver-0-117-0:1",
    );
  });
});
