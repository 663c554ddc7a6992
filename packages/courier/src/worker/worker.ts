/**
 * Worker mode: one child process per consumer, each running that consumer's handler module through
 * the local event source (worker-process.ts) with its own environment, as each Lambda function has
 * its own. Separate processes rather than threads: handlers read their configuration from
 * process.env at module scope, and a crashing handler takes down only its own consumer.
 *
 * Children run in their own process group, so a terminal's Ctrl-C reaches only this parent, which
 * then stops every child gracefully; a container's SIGTERM to the parent does the same.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { RecordOutcome } from "../lib/consumer/outcomes.ts";
import type { EventSourceStats } from "./event-source.ts";
import { WORKER_LOGS_ENV, type WorkerLogs } from "./readable-output.ts";
import type { WorkerMessage } from "./worker-process.ts";

export interface WorkerPlan {
  readonly consumer: string;
  readonly env: Record<string, string>;
}

export interface WorkerState {
  readonly consumer: string;
  started?: Extract<WorkerMessage, { kind: "started" }>;
  stats?: EventSourceStats;
  /** True once `courier pause` took effect in this worker; false again after `courier resume`. */
  paused?: boolean;
  /** Set when the worker ended without being asked to. */
  failure?: string;
  exited: boolean;
}

export interface WorkerPoolEvents {
  readonly onStarted?: (state: WorkerState) => void;
  readonly onProgress?: (state: WorkerState) => void;
  /** A worker paused (every poller idle) or resumed: `courier pause` / `courier resume`. */
  readonly onPaused?: (state: WorkerState) => void;
  /** A worker ended without being asked to (its module failed to load, or it crashed). */
  readonly onFailure?: (state: WorkerState) => void;
  /** Where the children's stdout and stderr go (their handler logs); default this process's stderr. */
  readonly output?: NodeJS.WritableStream;
  /**
   * `readable`: each handled record comes to `onOutcome` and the children write only warnings and
   * errors, no EMF; `json`: the runtime's JSON log lines and EMF, as on Lambda. @default "json"
   */
  readonly logs?: WorkerLogs;
  readonly onOutcome?: (state: WorkerState, outcome: RecordOutcome) => void;
}

export class WorkerExitError extends Error {
  override readonly name = "WorkerExitError";
}

// Beside this module: worker-process.js in the built package, worker-process.ts from sources.
const sourceMode = import.meta.url.endsWith(".ts");
const workerEntry = fileURLToPath(new URL(`./worker-process.${sourceMode ? "ts" : "js"}`, import.meta.url));

/**
 * The children's Node.js options. Built: the parent's own (its loaders, which also load a team's
 * TypeScript handlers wherever the parent could), without debugger flags whose port the parent holds.
 * From courier's sources (its repository, its tests): tsx by absolute specifier (not resolved from
 * the caller's working directory) and the condition that resolves the package to its sources.
 */
function childExecArgv(): string[] {
  if (!sourceMode) return process.execArgv.filter((arg) => !arg.startsWith("--inspect"));
  return ["--conditions=courier-source", "--import", import.meta.resolve("tsx")];
}

export class WorkerPool {
  readonly states: WorkerState[];
  private readonly children = new Map<string, ChildProcess>();
  private readonly exits: Promise<void>[] = [];
  private stopping = false;

  constructor(plans: readonly WorkerPlan[], events: WorkerPoolEvents = {}) {
    const output = events.output ?? process.stderr;
    // Each piped stream adds its listeners to the output (stdout and stderr of every worker: 16 for
    // `npm start`), past Node's default warning threshold of 10; piping keeps the backpressure.
    output.setMaxListeners(output.getMaxListeners() + 2 * plans.length);
    this.states = plans.map((plan) => {
      const state: WorkerState = { consumer: plan.consumer, exited: false };
      const child = fork(workerEntry, [], {
        env: { ...plan.env, [WORKER_LOGS_ENV]: events.logs ?? "json" },
        execArgv: childExecArgv(),
        stdio: ["ignore", "pipe", "pipe", "ipc"],
        detached: true,
      });
      // Handler logs go to stderr, keeping stdout for progress lines and --json output.
      child.stdout?.pipe(output, { end: false });
      child.stderr?.pipe(output, { end: false });
      child.on("message", (message: WorkerMessage) => {
        switch (message.kind) {
          case "started":
            state.started = message;
            events.onStarted?.(state);
            break;
          case "progress":
          case "stopped":
            state.stats = message.stats;
            events.onProgress?.(state);
            break;
          case "paused":
            state.paused = message.paused;
            events.onPaused?.(state);
            break;
          case "failed":
            state.failure = message.reason;
            break;
          case "outcome":
            events.onOutcome?.(state, message.outcome);
            break;
        }
      });
      this.exits.push(
        new Promise<void>((resolve) => {
          child.on("exit", (code, signal) => {
            state.exited = true;
            // A worker stopped while still booting (before its signal handlers exist) dies by the
            // SIGTERM itself; it had received nothing, so that is a clean stop, not a failure.
            const stoppedWhileBooting = this.stopping && signal === "SIGTERM" && !state.started;
            if ((!this.stopping || code !== 0) && !stoppedWhileBooting) {
              state.failure ??= `exited with ${signal ?? `code ${code}`}`;
              if (!this.stopping) events.onFailure?.(state);
            }
            resolve();
          });
          child.on("error", (error) => {
            state.failure ??= error.message;
          });
        }),
      );
      this.children.set(plan.consumer, child);
      return state;
    });
  }

  /** Resolves when every worker has exited (after `stop()`, or on their own). */
  async done(): Promise<readonly WorkerState[]> {
    await Promise.all(this.exits);
    return this.states;
  }

  /**
   * Asks every worker to stop (SIGTERM): they stop receiving and finish their in-flight batches.
   * Calling it again sends a second signal, which makes workers exit at once.
   */
  async stop(): Promise<readonly WorkerState[]> {
    this.stopping = true;
    for (const child of this.children.values()) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    }
    return this.done();
  }
}
