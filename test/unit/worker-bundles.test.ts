/**
 * Running the bundles a stack deploys (`courier work --bundles`, `npm start -- --bundles`): reading
 * each consumer's bundle from a synthesized assembly, and a bundle that cannot load failing loudly
 * with the consumer's name and the cause. Failure modes covered: a worker that silently runs the
 * TypeScript sources when asked for bundles; a bundle that imports a module its asset lacks (a
 * dependency left external, a native module not installed) passing every local test and failing
 * first on Lambda; an assembly synthesized with bundling skipped read as if it held bundles.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { topologyFromOutputs } from "../../packages/courier/src/deployment/deployed-topology.ts";
import {
  BundleImportError,
  BundleNotFoundError,
  bundledHandlerModules,
} from "../../packages/courier/src/worker/bundles.ts";
import { loadHandler } from "../../packages/courier/src/worker/run-consumer.ts";
import { workerPlans } from "../../packages/courier/src/worker/start.ts";
import { WorkerPool } from "../../packages/courier/src/worker/worker.ts";
import {
  WORKER_BUNDLE_ENV,
  WORKER_HANDLER_ENV,
} from "../../packages/courier/src/worker/worker-environment.ts";
import { manifestOutputs } from "./manifest-fixtures.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface FakeFunction {
  readonly consumer?: string;
  readonly hash: string;
  /** The asset's files; none when bundling was skipped (an empty asset directory). */
  readonly files: Record<string, string>;
}

/** A cloud assembly laid out as `cdk synth` writes it: manifest, template, asset manifest, assets. */
function assembly(stackId: string, functions: readonly FakeFunction[]): string {
  const dir = mkdtempSync(join(tmpdir(), "courier-assembly-"));
  dirs.push(dir);
  const resources: Record<string, unknown> = {};
  const files: Record<string, unknown> = {};
  for (const [i, fn] of functions.entries()) {
    resources[`Function${i}`] = {
      Type: "AWS::Lambda::Function",
      Properties: {
        Handler: "index.handler",
        Code: { S3Bucket: "cdk-assets-123456789012", S3Key: `${fn.hash}.zip` },
        Environment: { Variables: fn.consumer ? { COURIER_CONSUMER: fn.consumer, OTHER: "x" } : { X: "1" } },
      },
    };
    files[fn.hash] = { source: { path: `asset.${fn.hash}`, packaging: "zip" }, destinations: {} };
    mkdirSync(join(dir, `asset.${fn.hash}`));
    for (const [name, text] of Object.entries(fn.files))
      writeFileSync(join(dir, `asset.${fn.hash}`, name), text);
  }
  resources.Queue = { Type: "AWS::SQS::Queue", Properties: {} };
  writeFileSync(
    join(dir, "manifest.json"),
    JSON.stringify({
      version: "55.0.0",
      artifacts: {
        [`${stackId}.assets`]: { type: "cdk:asset-manifest", properties: { file: `${stackId}.assets.json` } },
        [stackId]: {
          type: "aws:cloudformation:stack",
          properties: { templateFile: `${stackId}.template.json` },
          displayName: stackId,
        },
        Tree: { type: "cdk:tree", properties: { file: "tree.json" } },
      },
    }),
  );
  writeFileSync(join(dir, `${stackId}.template.json`), JSON.stringify({ Resources: resources }));
  writeFileSync(join(dir, `${stackId}.assets.json`), JSON.stringify({ version: "55.0.0", files }));
  return dir;
}

const handlerSource = "export const handler = async () => ({ batchItemFailures: [] });\n";
/** What a bundle looks like when esbuild left a dependency external that the asset does not carry. */
const brokenSource =
  'import nothing from "courier-left-out-native-module";\nexport const handler = async () => nothing;\n';

describe("reading the bundles from a synthesized assembly", () => {
  it("GIVEN an assembly with two consumer functions and a function of courier's own WHEN read THEN each consumer maps to its asset's index.mjs, and nothing else is listed", () => {
    const dir = assembly("acme-orders", [
      { consumer: "invoice", hash: "a1", files: { "index.mjs": handlerSource, "index.mjs.map": "{}" } },
      { consumer: "ledger", hash: "b2", files: { "index.mjs": handlerSource } },
      { hash: "c3", files: { "index.mjs": handlerSource } },
    ]);
    expect(bundledHandlerModules({ assemblyDir: dir, stackName: "acme-orders" })).toEqual({
      invoice: join(dir, "asset.a1", "index.mjs"),
      ledger: join(dir, "asset.b2", "index.mjs"),
    });
  });

  it("GIVEN an assembly holding one stack WHEN read for a copy deployed under another name THEN that stack's bundles serve", () => {
    const dir = assembly("courier", [
      { consumer: "invoice", hash: "a1", files: { "index.mjs": handlerSource } },
    ]);
    expect(
      Object.keys(bundledHandlerModules({ assemblyDir: dir, stackName: "courier-test-system-1" })),
    ).toEqual(["invoice"]);
  });

  it("GIVEN an assembly synthesized with bundling skipped (empty asset directories) WHEN read THEN BundleNotFoundError names the consumer", () => {
    const dir = assembly("acme-orders", [{ consumer: "invoice", hash: "a1", files: {} }]);
    expect(() => bundledHandlerModules({ assemblyDir: dir, stackName: "acme-orders" })).toThrow(
      BundleNotFoundError,
    );
    expect(() => bundledHandlerModules({ assemblyDir: dir, stackName: "acme-orders" })).toThrow(
      /invoice: no bundle in/,
    );
  });

  it("GIVEN no assembly at the path WHEN read THEN BundleNotFoundError says to run cdk synth", () => {
    expect(() =>
      bundledHandlerModules({ assemblyDir: join(tmpdir(), "courier-no-such-assembly"), stackName: "x" }),
    ).toThrow(/cloud assembly manifest not found.*cdk synth/);
  });

  it("GIVEN workers planned with bundles WHEN a consumer has no bundle THEN planning fails rather than running its sources", () => {
    const topology = topologyFromOutputs(
      "acme-orders",
      manifestOutputs("acme-orders", {
        topics: [{ name: "orders" }],
        consumers: [
          { name: "invoice", topic: "orders", handlerEntry: "src/invoice/handler.ts" },
          { name: "ledger", topic: "orders", handlerEntry: "src/ledger/handler.ts" },
        ],
      }),
    );
    const bundles = { invoice: "/assembly/asset.a1/index.mjs" };
    expect(() => workerPlans({ topology, consumers: ["invoice", "ledger"], bundles })).toThrow(
      /no bundle for consumer "ledger"/,
    );
    const [plan] = workerPlans({ topology, consumers: ["invoice"], bundles });
    expect(plan?.env[WORKER_HANDLER_ENV]).toBe("/assembly/asset.a1/index.mjs");
    expect(plan?.env[WORKER_BUNDLE_ENV]).toBe("1");
  });
});

describe("a bundle that cannot load", () => {
  it("GIVEN a bundle importing a module its asset lacks WHEN loaded as a consumer's bundle THEN BundleImportError names the consumer and the missing module", async () => {
    const dir = assembly("acme-orders", [
      { consumer: "invoice", hash: "a1", files: { "index.mjs": brokenSource } },
    ]);
    const { invoice } = bundledHandlerModules({ assemblyDir: dir, stackName: "acme-orders" });
    const loading = loadHandler(invoice as string, { bundleOf: "invoice" });
    await expect(loading).rejects.toBeInstanceOf(BundleImportError);
    await expect(loadHandler(invoice as string, { bundleOf: "invoice" })).rejects.toThrow(
      /the bundle of invoice \(.*asset\.a1\/index\.mjs\) cannot load: Error: Cannot find package 'courier-left-out-native-module'/,
    );
  });

  it("GIVEN a worker process started on a broken bundle WHEN it loads THEN it exits failed with the BundleImportError as its reason, receiving nothing", async () => {
    const dir = assembly("acme-orders", [
      { consumer: "invoice", hash: "a1", files: { "index.mjs": brokenSource } },
    ]);
    const bundles = bundledHandlerModules({ assemblyDir: dir, stackName: "acme-orders" });
    const topology = topologyFromOutputs(
      "acme-orders",
      manifestOutputs("acme-orders", {
        topics: [{ name: "orders" }],
        consumers: [{ name: "invoice", topic: "orders", handlerEntry: "src/invoice/handler.ts" }],
      }),
    );
    // A closed loopback port: were the handler to load, its first receive would fail, not reach AWS.
    const plans = workerPlans({
      topology,
      bundles,
      target: { env: { AWS_ENDPOINT_URL: "http://127.0.0.1:9", AWS_REGION: "us-east-1" }, isolated: true },
      baseEnv: { PATH: process.env.PATH },
    });
    const failures: string[] = [];
    const pool = new WorkerPool(plans, {
      output: new PassThrough().resume(),
      onFailure: (state) => failures.push(state.consumer),
    });
    const [state] = await pool.done();
    expect(failures).toEqual(["invoice"]);
    expect(state?.started).toBeUndefined();
    expect(state?.failure).toMatch(
      /^BundleImportError: the bundle of invoice .* cannot load: Error: Cannot find package 'courier-left-out-native-module'/,
    );
  }, 30_000);
});
