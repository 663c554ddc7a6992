/**
 * The LocalStack harness behind `courier local up|down` and the integration suite's global setup.
 *
 * Order of preference: `AWS_ENDPOINT_URL` (LocalStack in Docker, or anywhere else); a LocalStack
 * already answering on the port; else LocalStack 4.14.0 from the project's virtualenv, started in
 * host mode in the background. `down` stops only a process this harness started (its pid file).
 */

import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { ListQueuesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { localClientConfig } from "./local-aws-config.ts";
import { installLocalStack, type VenvInstall, venvPython } from "./localstack-venv.ts";

export const DEFAULT_LOCALSTACK_PORT = 4566;
const HOST = "127.0.0.1";

/** Services the courier stack and local runtime use; fewer services start faster. */
export const LOCALSTACK_SERVICES = [
  "sqs",
  "sns",
  "s3",
  "cloudformation",
  "kms",
  "iam",
  "sts",
  "cloudwatch",
  "logs",
  "secretsmanager",
  "ses",
  "ssm",
] as const;

/** The repository root, found from this file so the CLI works from any working directory. */
export const PROJECT_ROOT = resolve(fileURLToPath(new URL("../../", import.meta.url)));

export interface HarnessOptions {
  /** @default COURIER_LOCALSTACK_PORT or 4566 */
  readonly port?: number;
  /** The virtualenv LocalStack is installed in. @default COURIER_LOCALSTACK_VENV or <project>/.venv-localstack */
  readonly venvDir?: string;
  /** LocalStack's FILESYSTEM_ROOT, its log and the harness's pid file. @default COURIER_LOCALSTACK_DIR or <project>/.localstack */
  readonly dataDir?: string;
  /** @default 120 s: a cold start on two busy cores takes 10 to 30 s. */
  readonly healthTimeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly log?: (line: string) => void;
}

export type LocalStackSource = "environment" | "running" | "started";

export interface LocalStackHandle {
  readonly endpoint: string;
  /** environment: AWS_ENDPOINT_URL; running: found answering; started: this call started it. */
  readonly source: LocalStackSource;
  readonly version?: string;
  /** Set when the harness started the process (in this call or an earlier one), so `down` can stop it. */
  readonly pid?: number;
  readonly logFile?: string;
  readonly install?: VenvInstall;
  readonly startSeconds?: number;
}

export interface LocalStackHealth {
  readonly version?: string;
  readonly services: Record<string, string>;
}

interface HarnessState {
  readonly pid: number;
  readonly port: number;
  readonly endpoint: string;
  readonly venvDir: string;
  readonly startedAt: string;
}

export class PortTakenError extends Error {
  override readonly name = "PortTakenError";
  constructor(port: number) {
    super(
      `port ${port} on ${HOST} is taken by something that is not LocalStack; stop it, or set ` +
        "COURIER_LOCALSTACK_PORT to a free port, or AWS_ENDPOINT_URL to a running LocalStack",
    );
  }
}

export class LocalStackStartError extends Error {
  override readonly name = "LocalStackStartError";
}

export class EndpointUnreachableError extends Error {
  override readonly name = "EndpointUnreachableError";
}

/** LocalStack answers its health check but its services fail (seen with a venv on Python 3.11). */
export class LocalStackBrokenError extends Error {
  override readonly name = "LocalStackBrokenError";
}

/**
 * One cheap real call. The health endpoint answers even when a service provider cannot import
 * (LocalStack 4.14 on Python 3.11 says "available" and then fails every SQS call with "invalid
 * syntax"), so health alone would hand the tests a broken emulator.
 */
export async function checkLocalStackWorks(endpoint: string): Promise<void> {
  const sqs = new SQSClient(localClientConfig({ ...process.env, AWS_ENDPOINT_URL: endpoint }));
  try {
    await sqs.send(new ListQueuesCommand({ MaxResults: 1 }));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new LocalStackBrokenError(
      `LocalStack at ${endpoint} answers its health check but SQS fails (${reason}); ` +
        (/invalid syntax/.test(reason)
          ? "it runs on Python < 3.13, which LocalStack 4.14 needs: stop it, delete its venv and run courier local up"
          : "restart it"),
    );
  } finally {
    sqs.destroy();
  }
}

interface ResolvedOptions {
  readonly port: number;
  readonly venvDir: string;
  readonly dataDir: string;
  readonly healthTimeoutMs: number;
  readonly env: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
}

function resolveOptions(options: HarnessOptions = {}): ResolvedOptions {
  const env = options.env ?? process.env;
  const port = options.port ?? Number(env.COURIER_LOCALSTACK_PORT ?? DEFAULT_LOCALSTACK_PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`COURIER_LOCALSTACK_PORT must be a port number, got "${env.COURIER_LOCALSTACK_PORT}"`);
  }
  return {
    port,
    venvDir: resolve(
      options.venvDir ?? env.COURIER_LOCALSTACK_VENV ?? join(PROJECT_ROOT, ".venv-localstack"),
    ),
    dataDir: resolve(options.dataDir ?? env.COURIER_LOCALSTACK_DIR ?? join(PROJECT_ROOT, ".localstack")),
    healthTimeoutMs: options.healthTimeoutMs ?? 120_000,
    env,
    log: options.log ?? (() => {}),
  };
}

export function localstackPaths(options: HarnessOptions = {}) {
  const o = resolveOptions(options);
  return {
    venvDir: o.venvDir,
    dataDir: o.dataDir,
    logFile: join(o.dataDir, "localstack.log"),
    stateFile: join(o.dataDir, `courier-harness-${o.port}.json`),
    constraintsFile: join(PROJECT_ROOT, "localstack", "constraints-4.14.0.txt"),
  };
}

/** LocalStack's health document, or undefined when nothing (or something else) answers. */
export async function localStackHealth(
  endpoint: string,
  timeoutMs = 2_000,
): Promise<LocalStackHealth | undefined> {
  try {
    const response = await fetch(new URL("/_localstack/health", endpoint), {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) return undefined;
    const body = (await response.json()) as Partial<LocalStackHealth>;
    if (!body || typeof body.services !== "object" || body.services === null) return undefined;
    return { version: body.version, services: body.services };
  } catch {
    return undefined;
  }
}

/** True when something accepts TCP connections on the port, LocalStack or not. */
function portInUse(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host: HOST, port });
    socket.setTimeout(1_000);
    socket.once("connect", () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once("error", () => resolvePromise(false));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Guards against a recycled pid: only a LocalStack process is ever signalled. */
function isLocalStackProcess(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("localstack.runtime.main");
  } catch {
    // No /proc (macOS): trust the pid file, which only this harness writes.
    return true;
  }
}

async function readState(stateFile: string): Promise<HarnessState | undefined> {
  try {
    return JSON.parse(await readFile(stateFile, "utf8")) as HarnessState;
  } catch {
    return undefined;
  }
}

function logTail(logFile: string, lines = 20): string {
  try {
    return readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

async function waitForHealth(
  endpoint: string,
  timeoutMs: number,
  stillStarting: () => boolean = () => true,
): Promise<LocalStackHealth | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const health = await localStackHealth(endpoint);
    if (health) return health;
    if (!stillStarting()) return undefined;
    await sleep(500);
  }
  return undefined;
}

/** The environment LocalStack runs with; exported so a test can hold it against the documented settings. */
export function localStackEnvironment(
  port: number,
  dataDir: string,
  base: NodeJS.ProcessEnv,
): NodeJS.ProcessEnv {
  const address = `${HOST}:${port}`;
  return {
    ...base,
    GATEWAY_LISTEN: address,
    // Its default host name (localhost.localstack.cloud) needs public DNS.
    LOCALSTACK_HOST: address,
    DNS_ADDRESS: "0",
    FILESYSTEM_ROOT: dataDir,
    SQS_ENDPOINT_STRATEGY: "path",
    SERVICES: LOCALSTACK_SERVICES.join(","),
    // Inside a container LocalStack would otherwise assume its own image's layout (/var/lib/localstack)
    // and ignore FILESYSTEM_ROOT; this is host mode wherever the venv lives.
    OVERRIDE_IN_DOCKER: "0",
    DISABLE_EVENTS: "1",
    PYTHONUNBUFFERED: "1",
  };
}

/** Starts LocalStack from the venv in the background and waits until its health endpoint answers. */
async function startLocalStack(o: ResolvedOptions, install: VenvInstall): Promise<LocalStackHandle> {
  const paths = localstackPaths(o);
  const endpoint = `http://${HOST}:${o.port}`;
  await mkdir(o.dataDir, { recursive: true });
  const logFd = openSync(paths.logFile, "a");
  const started = performance.now();
  o.log(`starting LocalStack on ${endpoint} (log: ${paths.logFile})`);
  // detached: its own process group, so `down` can stop it and anything it spawned, and nothing else.
  const child = spawn(venvPython(o.venvDir), ["-m", "localstack.runtime.main"], {
    cwd: o.dataDir,
    detached: true,
    stdio: ["ignore", logFd, logFd],
    env: localStackEnvironment(o.port, o.dataDir, o.env),
  });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw new LocalStackStartError("could not spawn LocalStack's Python process");
  let exited: number | null | undefined;
  child.once("exit", (code) => {
    exited = code;
  });
  child.unref();
  const state: HarnessState = {
    pid,
    port: o.port,
    endpoint,
    venvDir: o.venvDir,
    startedAt: new Date().toISOString(),
  };
  await writeFile(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`);
  const health = await waitForHealth(endpoint, o.healthTimeoutMs, () => exited === undefined);
  if (!health) {
    const why =
      exited === undefined
        ? `did not answer within ${o.healthTimeoutMs / 1000} s`
        : `exited with code ${exited}`;
    if (exited === undefined) await stopProcessGroup(pid);
    await rm(paths.stateFile, { force: true });
    const tail = logTail(paths.logFile);
    const lastLine = tail.split("\n").at(-1)?.trim() ?? "";
    throw new LocalStackStartError(
      `LocalStack ${why} (log: ${paths.logFile}); last log line: ${lastLine}\n${tail}`,
    );
  }
  try {
    await checkLocalStackWorks(endpoint);
  } catch (error) {
    await stopProcessGroup(pid);
    await rm(paths.stateFile, { force: true });
    throw error;
  }
  const startSeconds = Math.round((performance.now() - started) / 100) / 10;
  return {
    endpoint,
    source: "started",
    version: health.version,
    pid,
    logFile: paths.logFile,
    install,
    startSeconds,
  };
}

async function stopProcessGroup(pid: number, graceMs = 20_000): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal("SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && isAlive(pid)) await sleep(250);
  if (isAlive(pid)) signal("SIGKILL");
}

/**
 * Makes sure a LocalStack answers and returns its endpoint: `AWS_ENDPOINT_URL` when set, else one
 * already on the port, else one started from the project's venv (installed first when missing).
 */
export async function ensureLocalStack(options: HarnessOptions = {}): Promise<LocalStackHandle> {
  const o = resolveOptions(options);
  const fromEnv = o.env.AWS_ENDPOINT_URL;
  if (fromEnv) {
    const health = await waitForHealth(fromEnv, Math.min(o.healthTimeoutMs, 30_000));
    if (!health) {
      throw new EndpointUnreachableError(
        `AWS_ENDPOINT_URL=${fromEnv} does not answer as LocalStack (${fromEnv}/_localstack/health); start it or unset AWS_ENDPOINT_URL`,
      );
    }
    await checkLocalStackWorks(fromEnv);
    return { endpoint: fromEnv, source: "environment", version: health.version };
  }

  const endpoint = `http://${HOST}:${o.port}`;
  const paths = localstackPaths(o);
  const running = await localStackHealth(endpoint);
  if (running) {
    const state = await readState(paths.stateFile);
    const ours = state && state.port === o.port && isLocalStackProcess(state.pid);
    await checkLocalStackWorks(endpoint);
    return {
      endpoint,
      source: "running",
      version: running.version,
      ...(ours ? { pid: state.pid } : {}),
    };
  }

  // One of ours still booting (a second `up` right after the first): wait for it instead of racing it.
  const state = await readState(paths.stateFile);
  if (state && state.port === o.port && isLocalStackProcess(state.pid)) {
    o.log(`waiting for LocalStack (pid ${state.pid}) started earlier`);
    const health = await waitForHealth(endpoint, o.healthTimeoutMs, () => isAlive(state.pid));
    if (health) {
      await checkLocalStackWorks(endpoint);
      return { endpoint, source: "running", version: health.version, pid: state.pid };
    }
  }

  if (await portInUse(o.port)) throw new PortTakenError(o.port);

  const install = await installLocalStack({
    ...(o.env.COURIER_PYTHON ? { python: o.env.COURIER_PYTHON } : {}),
    venvDir: o.venvDir,
    constraintsFile: paths.constraintsFile,
    log: o.log,
  });
  if (install.installed) o.log(`installed LocalStack into ${o.venvDir} in ${install.seconds} s`);
  return startLocalStack(o, install);
}

export interface StopResult {
  /** True when a LocalStack this harness started was stopped. */
  readonly stopped: boolean;
  readonly pid?: number;
  readonly reason: string;
}

/** Stops the LocalStack this harness started on the port; leaves any other one alone. */
export async function stopLocalStack(options: HarnessOptions = {}): Promise<StopResult> {
  const o = resolveOptions(options);
  const paths = localstackPaths(o);
  const state = await readState(paths.stateFile);
  if (!state) {
    const running = await localStackHealth(`http://${HOST}:${o.port}`);
    return {
      stopped: false,
      reason: running
        ? `the LocalStack on port ${o.port} was not started by courier; left running`
        : `no LocalStack started by courier on port ${o.port}`,
    };
  }
  if (!isLocalStackProcess(state.pid)) {
    await rm(paths.stateFile, { force: true });
    return { stopped: false, pid: state.pid, reason: `LocalStack (pid ${state.pid}) had already exited` };
  }
  o.log(`stopping LocalStack (pid ${state.pid})`);
  await stopProcessGroup(state.pid);
  await rm(paths.stateFile, { force: true });
  return { stopped: true, pid: state.pid, reason: `stopped LocalStack (pid ${state.pid})` };
}
