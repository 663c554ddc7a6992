/**
 * The LocalStack harness behind `courier local up|down` and this suite's global setup, against real
 * processes and ports. Failure modes covered: starting a second LocalStack where one already answers,
 * ignoring AWS_ENDPOINT_URL, installing or starting over a port someone else holds, `down` killing a
 * LocalStack it did not start, a started LocalStack left running by `down`, and an unhelpful error
 * when Python is missing.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import {
  EndpointUnreachableError,
  ensureLocalStack,
  LOCALSTACK_SERVICES,
  localStackEnvironment,
  localStackHealth,
  PortTakenError,
  stopLocalStack,
} from "../../src/dev/localstack.ts";
import { PythonMissingError } from "../../src/dev/localstack-venv.ts";
import { freePort } from "../helpers/free-port.ts";

const endpoint = inject("localstackEndpoint");
const port = Number(new URL(endpoint).port);
/** The environment without the suite's AWS_ENDPOINT_URL, so the harness's own discovery runs. */
const { AWS_ENDPOINT_URL: _suiteEndpoint, COURIER_PYTHON: _python, ...bareEnv } = process.env;

const scratchDirs: string[] = [];
async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "courier-harness-"));
  scratchDirs.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of scratchDirs) await rm(dir, { recursive: true, force: true });
});

describe("harness: reuse", () => {
  it("GIVEN LocalStack already answers on the port WHEN ensured THEN it is reused and nothing is started", async () => {
    const dataDir = await scratchDir();
    const handle = await ensureLocalStack({ port, dataDir, env: bareEnv });
    expect(handle).toMatchObject({
      endpoint: `http://127.0.0.1:${port}`,
      source: "running",
      version: "4.14.0",
    });
    expect(handle.install).toBeUndefined();
    // No pid file: `down` with this data dir would have nothing to stop.
    expect(await readdir(dataDir)).toEqual([]);
  });

  it("GIVEN the suite's global setup WHEN a test builds a client config THEN it points at the suite's LocalStack", () => {
    // Test files that call localClientConfig() without inject() rely on this.
    expect(localClientConfig().endpoint).toBe(endpoint);
  });

  it("GIVEN AWS_ENDPOINT_URL WHEN ensured THEN that endpoint is used as it is", async () => {
    const handle = await ensureLocalStack({ port: 1, env: { ...bareEnv, AWS_ENDPOINT_URL: endpoint } });
    expect(handle).toMatchObject({ endpoint, source: "environment" });
  });

  it("GIVEN AWS_ENDPOINT_URL pointing at nothing WHEN ensured THEN it fails naming the variable", async () => {
    const nothing = `http://127.0.0.1:${await freePort()}`;
    const attempt = ensureLocalStack({
      env: { ...bareEnv, AWS_ENDPOINT_URL: nothing },
      healthTimeoutMs: 1_500,
    });
    await expect(attempt).rejects.toThrow(EndpointUnreachableError);
    await expect(attempt).rejects.toThrow(`AWS_ENDPOINT_URL=${nothing} does not answer as LocalStack`);
  });
});

describe("harness: errors", () => {
  it("GIVEN the port is held by a server that is not LocalStack WHEN ensured THEN a one-line PortTakenError and no install", async () => {
    const server: Server = createServer((_req, res) => res.end("hello, not LocalStack"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const taken = (server.address() as AddressInfo).port;
    const venvDir = join(await scratchDir(), "venv");
    try {
      const attempt = ensureLocalStack({ port: taken, venvDir, dataDir: await scratchDir(), env: bareEnv });
      await expect(attempt).rejects.toThrow(PortTakenError);
      await expect(attempt).rejects.toThrow(
        /^port \d+ on 127\.0\.0\.1 is taken by something that is not LocalStack/,
      );
      expect(existsSync(venvDir)).toBe(false);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("GIVEN no venv and an interpreter that does not exist WHEN ensured THEN a one-line PythonMissingError", async () => {
    const attempt = ensureLocalStack({
      port: await freePort(),
      venvDir: join(await scratchDir(), "venv"),
      dataDir: await scratchDir(),
      env: { ...bareEnv, COURIER_PYTHON: "/nonexistent/python3" },
    });
    await expect(attempt).rejects.toThrow(PythonMissingError);
    await expect(attempt).rejects.toThrow(
      "LocalStack 4.14 needs Python 3.13+ but COURIER_PYTHON=/nonexistent/python3 does not run",
    );
  });
});

describe("harness: down stops only what it started", () => {
  it("GIVEN a LocalStack the harness did not start WHEN stopped THEN it is left running", async () => {
    const result = await stopLocalStack({ port, dataDir: await scratchDir(), env: bareEnv });
    expect(result.stopped).toBe(false);
    expect(result.reason).toMatch(/not started by courier; left running/);
    expect(await localStackHealth(endpoint)).toBeDefined();
  });

  it("GIVEN a free port WHEN ensured THEN LocalStack starts from the venv, works, and down stops it alone", async () => {
    const freshPort = await freePort();
    const dataDir = await scratchDir();
    const started = await ensureLocalStack({ port: freshPort, dataDir, env: bareEnv });
    try {
      expect(started).toMatchObject({ endpoint: `http://127.0.0.1:${freshPort}`, source: "started" });
      expect(started.pid).toBeGreaterThan(0);
      expect(existsSync(join(dataDir, "localstack.log"))).toBe(true);

      // A second `up` finds it and knows it is the harness's own.
      const again = await ensureLocalStack({ port: freshPort, dataDir, env: bareEnv });
      expect(again).toMatchObject({ source: "running", pid: started.pid });
    } finally {
      const stopped = await stopLocalStack({ port: freshPort, dataDir, env: bareEnv });
      expect(stopped).toMatchObject({ stopped: true, pid: started.pid });
    }
    expect(await localStackHealth(started.endpoint, 1_000)).toBeUndefined();
    expect(() => process.kill(started.pid ?? 0, 0)).toThrow();
    // The suite's LocalStack is untouched.
    expect(await localStackHealth(endpoint)).toBeDefined();
  });
});

describe("harness: LocalStack's settings", () => {
  it("GIVEN a port and data dir WHEN the environment is built THEN it carries the documented host-mode settings", () => {
    const env = localStackEnvironment(4600, "/data", {});
    expect(env).toMatchObject({
      GATEWAY_LISTEN: "127.0.0.1:4600",
      LOCALSTACK_HOST: "127.0.0.1:4600",
      DNS_ADDRESS: "0",
      FILESYSTEM_ROOT: "/data",
      SQS_ENDPOINT_STRATEGY: "path",
      SERVICES: "sqs,sns,s3,cloudformation,kms,iam,sts,cloudwatch,logs,secretsmanager,ses,ssm",
    });
    expect(LOCALSTACK_SERVICES).toContain("cloudformation");
  });
});
