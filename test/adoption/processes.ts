/**
 * Child processes for the adoption test: commands run to completion with their output kept (a
 * non-zero exit is a result, not an exception), a long-running one whose output lines can be
 * waited for, and polling that says what it was waiting for when it gives up.
 */
import { type ChildProcess, spawn } from "node:child_process";

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

export interface RunOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) after this long; the result then has signal SIGKILL. @default 300 s */
  readonly timeoutMs?: number;
}

export function run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/** One line saying how a command ended, with the tail of its output: for assertion messages. */
export function describeRun(what: string, result: RunResult, tailChars = 4000): string {
  const ended = result.signal ? `killed by ${result.signal}` : `exit ${result.code}`;
  return `${what}: ${ended} after ${result.seconds.toFixed(1)} s\n--- stdout ---\n${result.stdout.slice(-tailChars)}\n--- stderr ---\n${result.stderr.slice(-tailChars)}`;
}

/** A long-running child whose output is kept line by line. */
export class LongRunning {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }) {
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const [stream, tag] of [
      [this.child.stdout, "out"],
      [this.child.stderr, "err"],
    ] as const) {
      let partial = "";
      stream?.setEncoding("utf8").on("data", (chunk: string) => {
        const parts = (partial + chunk).split("\n");
        partial = parts.pop() ?? "";
        for (const line of parts) this.lines.push(`${tag}| ${line}`);
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code, signal) => resolve({ code, signal }));
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Its standard output lines (without the tag). */
  stdoutLines(): string[] {
    return this.lines.filter((l) => l.startsWith("out| ")).map((l) => l.slice(5));
  }

  output(lastLines = 80): string {
    return this.lines.slice(-lastLines).join("\n");
  }

  /** SIGINT (a graceful stop), then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill("SIGINT");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Calls `probe` until it returns something other than undefined, at most `timeoutMs`; on timeout
 * the error names what was awaited and the last state `describe` gives.
 */
export async function poll<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs: number; intervalMs?: number; describe?: () => string | Promise<string> },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const state = options.describe ? `\n${await options.describe()}` : "";
      throw new Error(`timed out after ${options.timeoutMs / 1000} s waiting for ${what}${state}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 1_000));
  }
}
