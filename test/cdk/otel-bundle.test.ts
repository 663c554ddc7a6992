/**
 * The bundles `tracing: "otel"` and `"none"` deploy, built by esbuild with courier's options and
 * run in a fresh Node.js process. Failure modes covered: the SDK started after the handler module
 * (its clients load untraced); an OTel module that breaks the bundle or its http import (a bundled
 * function that records spans and never sends one: the node:http stand-in once did exactly that);
 * "none" still carrying the SDK.
 */
import { fork } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  lambdaBundling,
  lambdaEsbuildOptions,
  newestNodejsRuntime,
  type TracingMode,
} from "../../packages/courier/src/cdk/bundled-function.ts";

const ENTRY = fileURLToPath(new URL("./handlers/otel-probe.ts", import.meta.url));
/** Inside the project, so the bundles' externals (@aws-sdk/*) resolve from its node_modules. */
const cache = fileURLToPath(new URL("../../node_modules/.cache/", import.meta.url));
mkdirSync(cache, { recursive: true });
const dir = mkdtempSync(join(cache, "courier-otel-bundle-"));
let server: Server;
const posts: string[] = [];

async function bundle(tracing: TracingMode) {
  const { outputFileName, ...options } = lambdaEsbuildOptions(
    lambdaBundling({ runtime: newestNodejsRuntime(), architecture: lambda.Architecture.ARM_64, tracing }),
  );
  const outfile = join(dir, tracing, outputFileName);
  const result = await build({
    ...options,
    entryPoints: [ENTRY],
    outfile,
    metafile: true,
    logLevel: "silent",
    conditions: [...(options.conditions ?? []), "courier-source"],
  });
  const output = result.metafile.outputs[relative(process.cwd(), outfile)];
  return { outfile, bytes: output?.bytes ?? 0, inputs: Object.keys(output?.inputs ?? {}) };
}

/** Imports the bundle in a fresh process with a Lambda-like environment and runs its handler once. */
function run(outfile: string, endpoint: string): Promise<Record<string, unknown>> {
  const runner = join(dir, "runner.mjs");
  writeFileSync(
    runner,
    "const m = await import(process.argv[2]); process.send(await m.handler()); process.disconnect();\n",
  );
  return new Promise((resolve, reject) => {
    const child = fork(runner, [outfile], {
      env: {
        PATH: process.env.PATH,
        AWS_REGION: "us-east-1",
        AWS_LAMBDA_FUNCTION_NAME: "otel-probe",
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        _X_AMZN_TRACE_ID: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
      },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    let stderr = "";
    let answer: Record<string, unknown> | undefined;
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += String(chunk);
    });
    child.on("message", (message) => {
      answer = message as Record<string, unknown>;
    });
    child.on("exit", (code) => (answer ? resolve(answer) : reject(new Error(`exit ${code}: ${stderr}`))));
  });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += String(chunk);
    });
    req.on("end", () => {
      posts.push(body);
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
});

afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('GIVEN tracing "otel" WHEN the bundle runs', () => {
  it("THEN the SDK started before the handler module, and the handler's span reaches the collector over OTLP/HTTP before it returns", async () => {
    const { outfile } = await bundle("otel");
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const answer = await run(outfile, endpoint);
    expect(answer).toMatchObject({ startedFirst: true, flushed: true, ses: "function" });
    const sent = posts.join("\n");
    expect(sent).toContain('"name":"probe span"');
    expect(sent).toContain('"stringValue":"otel-probe"');
  }, 60_000);
});

describe('GIVEN tracing "none"', () => {
  it("THEN the bundle has no OpenTelemetry SDK in it, the SDK is not started, and it is smaller", async () => {
    const none = await bundle("none");
    const otel = await bundle("otel");
    expect(
      none.inputs.filter((i) => /@opentelemetry\/(sdk-trace|exporter|resources|core|context-async)/.test(i)),
    ).toEqual([]);
    expect(otel.inputs.some((i) => i.includes("@opentelemetry/sdk-trace"))).toBe(true);
    expect(none.bytes).toBeLessThan(otel.bytes);
    const answer = await run(none.outfile, "http://127.0.0.1:9");
    expect(answer).toMatchObject({ startedFirst: false, flushed: false });
  }, 60_000);
});
