/**
 * Where a function's AWS SDK comes from, as the asset `cdk synth` builds shows it (bundling for
 * real, one small handler, both modes of `awsSdk`). Failure modes covered: the default leaving the
 * SDK to the runtime (every cold start loads its CommonJS build: the bundled import measured 24-36 % less CPU,
 * bench/cold-start.bench.ts); "runtime" bundling the SDK anyway; the default bundling the
 * credential providers a Lambda function never reaches (~95 KiB no invocation runs); a bad
 * `awsSdk` value reaching deploy instead of failing at synth.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { App, Stack } from "aws-cdk-lib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AwsSdkSource,
  BundledFunction,
  Courier,
  InvalidConstructPropsError,
  OFF_LAMBDA_CREDENTIAL_MODULES,
} from "../../packages/courier/src/cdk/index.ts";
import { appWithoutBundling } from "./fixtures.ts";
import { ordersTopology } from "./handlers/orders-topology.ts";

const ENTRY = fileURLToPath(new URL("./handlers/ses-sender.ts", import.meta.url));
const outdirs: string[] = [];

/** The bundle `cdk synth` writes for the handler with this `awsSdk` (undefined: the default). */
function synthBundle(awsSdk: AwsSdkSource | undefined): string {
  const outdir = mkdtempSync(join(tmpdir(), "courier-aws-sdk-"));
  outdirs.push(outdir);
  const app = new App({ outdir });
  const stack = new Stack(app, "courier-aws-sdk");
  new BundledFunction(stack, "Sender", { entry: ENTRY, tracing: "none", ...(awsSdk ? { awsSdk } : {}) });
  const assembly = app.synth();
  const [asset] = readdirSync(assembly.directory).filter((d) => d.startsWith("asset."));
  return readFileSync(join(assembly.directory, asset as string, "index.mjs"), "utf8");
}

/** The bare module specifiers the bundle imports statically or dynamically (builtins left out). */
function importedPackages(bundle: string): string[] {
  const specifiers = [...bundle.matchAll(/(?:from\s*|import\s*\(\s*)"([^"]+)"/g)].map((m) => m[1] as string);
  return [...new Set(specifiers.filter((s) => !isBuiltin(s)))]
    .map((s) => /^(?:@[^/]+\/)?[^/]+/.exec(s)?.[0] ?? s)
    .sort();
}

let bundled: string;
let runtime: string;

beforeAll(() => {
  bundled = synthBundle(undefined);
  runtime = synthBundle("runtime");
}, 180_000);

afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

describe("GIVEN a function that sends with the SES client", () => {
  it("WHEN synthesized with the default THEN the SES client is in its bundle, not imported from the runtime", () => {
    expect(importedPackages(bundled).filter((p) => p.startsWith("@aws-sdk/client-"))).toEqual([]);
    // The client's operation, serialized by the bundle's own copy.
    expect(bundled).toContain("SendEmail");
    expect(bundled.length).toBeGreaterThan(runtime.length * 3);
  });

  it("WHEN synthesized with the default THEN only the off-Lambda credential providers are left to the runtime, dynamically", () => {
    const external = importedPackages(bundled);
    expect(external).toContain("@aws-sdk/credential-provider-ini");
    expect(external.filter((p) => !OFF_LAMBDA_CREDENTIAL_MODULES.includes(p))).toEqual([]);
    expect(bundled).not.toMatch(/from\s*"@aws-sdk\//);
  });

  it('WHEN synthesized with awsSdk "runtime" THEN it imports the SES client from the runtime', () => {
    expect(runtime).toMatch(/from\s*"@aws-sdk\/client-ses"/);
  });
});

describe("GIVEN the Courier construct", () => {
  it("WHEN awsSdk is not a known source THEN synth fails with a clear error", () => {
    const stack = new Stack(appWithoutBundling(), "acme-orders");
    const make = () =>
      new Courier(stack, "Orders", {
        topology: ordersTopology,
        projectRoot: fileURLToPath(new URL("../../", import.meta.url)),
        awsSdk: "layer" as never,
      });
    expect(make).toThrow(InvalidConstructPropsError);
    expect(make).toThrow(/awsSdk must be "bundled" or "runtime", got "layer"/);
  });
});
