/**
 * `courier work [consumer ...]`: runs consumers' Lambda handler modules against their deployed
 * queues through the local event source, one worker process per consumer, until SIGINT/SIGTERM.
 *
 * The target follows the rule of every command (src/cli/target.ts): AWS through the standard
 * configuration chain by default (the container worker mode), an explicit endpoint, or LocalStack
 * with --local. The worker processes get the same target through their environment, as a Lambda
 * function would.
 */
import { type Command, Option } from "commander";
import { targetEnvironment } from "../../deployment/aws-target.ts";
import {
  LOCAL_WORKER_DEFAULTS,
  localAuditTableName,
  localIdempotencyTableName,
} from "../../../../../src/app/deployment/local-run.ts";
import { type ConsumerName, consumerNames, consumerSpec } from "../../../../../src/topology.ts";
import type { EventSourceStats } from "../../worker/event-source.ts";
import { formatOutcomeLine, wantsColour } from "../../worker/outcome-line.ts";
import { type WorkerPlan, WorkerPool, type WorkerState } from "../../worker/worker.ts";
import {
  settingsFromEnvironment,
  WorkerSettingError,
  type WorkerTarget,
  workerEnvironment,
} from "../../worker/worker-environment.ts";
import { CliError, emit, type OutputOptions } from "../output.ts";
import { commandTarget, deployedTopology, type TargetCliOptions, withTargetOptions } from "../target.ts";

interface WorkOptions extends OutputOptions, TargetCliOptions {
  concurrency?: string;
  interval: string;
  jsonLogs?: boolean;
  waitSeconds?: string;
}

function positiveInteger(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new CliError(`${flag} must be a positive integer, got "${value}"`, 2);
  return n;
}

function selectConsumers(names: readonly string[]): ConsumerName[] {
  if (names.length === 0) return [...consumerNames];
  const selected = new Set<ConsumerName>();
  for (const name of names) {
    try {
      selected.add(consumerSpec(name).name as ConsumerName);
    } catch (error) {
      throw new CliError((error as Error).message, 2);
    }
  }
  return [...selected];
}

/** Locally the stack has no table; a DynamoDB-API server (dynalite) may hold the stand-in. */
function localIdempotencyTable(stackName: string): string | undefined {
  return process.env.AWS_ENDPOINT_URL_DYNAMODB ? localIdempotencyTableName(stackName) : undefined;
}

function localAuditTable(stackName: string): string | undefined {
  return process.env.AWS_ENDPOINT_URL_DYNAMODB ? localAuditTableName(stackName) : undefined;
}

function withoutKind<T extends { kind: string }>(message: T): Omit<T, "kind"> {
  const { kind: _kind, ...rest } = message;
  return rest;
}

function progressLine(state: WorkerState, previous: EventSourceStats | undefined): string {
  const s = state.stats;
  if (!s) return `${state.consumer}: starting`;
  const delta = ` (+${s.succeeded - (previous?.succeeded ?? 0)})`;
  return `${state.consumer}: processed ${s.succeeded}${delta}, failed ${s.failed}, batches ${s.batches}, timeouts ${s.timeouts}, in flight ${s.inFlight}`;
}

function summaryRow(state: WorkerState) {
  const s = state.stats;
  return {
    consumer: state.consumer,
    received: s?.received ?? 0,
    processed: s?.succeeded ?? 0,
    failed: s?.failed ?? 0,
    batches: s?.batches ?? 0,
    timeouts: s?.timeouts ?? 0,
    deleteFailures: s?.deleteFailures ?? 0,
    // Messages a receive brought after the stop began, made visible again for the next worker.
    released: s?.released ?? 0,
    ...(state.failure ? { failure: state.failure } : {}),
  };
}

async function workCommand(names: string[], options: WorkOptions): Promise<void> {
  const selected = selectConsumers(names);
  const concurrency = options.concurrency ? positiveInteger("--concurrency", options.concurrency) : undefined;
  const waitTimeSeconds = options.waitSeconds === undefined ? undefined : Number(options.waitSeconds);
  if (
    waitTimeSeconds !== undefined &&
    !(Number.isInteger(waitTimeSeconds) && waitTimeSeconds >= 0 && waitTimeSeconds <= 20)
  ) {
    throw new CliError(`--wait-seconds must be a whole number from 0 to 20, got "${options.waitSeconds}"`, 2);
  }
  const intervalMs = positiveInteger("--interval", options.interval) * 1000;
  const resolved = await commandTarget(options);
  const where = resolved.target.label;
  const local = resolved.target.kind === "local";
  const target: WorkerTarget = { env: targetEnvironment(resolved.target), isolated: local };
  const topology = await deployedTopology(resolved);
  const settings = settingsFromEnvironment(process.env, local ? LOCAL_WORKER_DEFAULTS : undefined);
  const idempotencyTable = local ? localIdempotencyTable(resolved.stack) : undefined;
  const auditTable = local ? localAuditTable(resolved.stack) : undefined;
  const plans: WorkerPlan[] = [];
  // A consumer whose required setting has no value is not started: it would fail every record.
  const notStarted: WorkerSettingError[] = [];
  for (const consumer of selected) {
    try {
      plans.push({
        consumer,
        env: workerEnvironment({
          consumer,
          topology,
          settings,
          target,
          baseEnv: process.env,
          ...(concurrency ? { concurrency } : {}),
          ...(waitTimeSeconds !== undefined ? { waitTimeSeconds } : {}),
          ...(idempotencyTable ? { idempotencyTable } : {}),
          ...(auditTable ? { auditTable } : {}),
        }),
      });
    } catch (error) {
      if (!(error instanceof WorkerSettingError)) throw new CliError((error as Error).message);
      notStarted.push(error);
    }
  }
  if (plans.length === 0) {
    throw new CliError(`no consumer can start: ${notStarted.map((e) => e.message).join("; ")}`);
  }

  const print = (line: string, data: object) =>
    process.stdout.write(options.json ? `${JSON.stringify(data)}\n` : `${line}\n`);
  for (const error of notStarted) {
    print(`${error.consumer}: not started: needs ${error.missing.join(", ")} (the others run)`, {
      event: "not-started",
      consumer: error.consumer,
      missing: error.missing,
    });
  }
  const lastPrinted = new Map<ConsumerName, EventSourceStats | undefined>();

  const readable = !options.jsonLogs;
  const colour = !options.json && wantsColour(process.stdout);
  let pool: WorkerPool | undefined;
  const stopAll = () => void pool?.stop();
  pool = new WorkerPool(plans, {
    logs: readable ? "readable" : "json",
    onOutcome: (_state, outcome) =>
      print(formatOutcomeLine(outcome, { colour }), { event: "handled", ...outcome }),
    onStarted: (state) => {
      const s = state.started;
      if (!s) return;
      print(
        `${s.consumer}: polling ${s.queueUrl} (${where}) with ${s.concurrency} pollers, batch ${s.batchSize}, window ${s.maxBatchingWindowSeconds} s, timeout ${s.timeoutSeconds} s`,
        { event: "started", ...withoutKind(s) },
      );
    },
    onFailure: (state) => {
      process.stderr.write(
        `courier work: ${state.consumer} worker failed (${state.failure}); stopping the others\n`,
      );
      stopAll();
    },
  });

  // A line per consumer whose work moved since the last line; idle consumers stay quiet.
  const moved = (s: EventSourceStats, p: EventSourceStats | undefined) =>
    s.batches !== (p?.batches ?? 0) || s.succeeded !== (p?.succeeded ?? 0) || s.failed !== (p?.failed ?? 0);
  // With a line per handled message the periodic counts add nothing for a person; JSON readers keep them.
  const ticker = setInterval(() => {
    if (readable && !options.json) return;
    for (const state of pool?.states ?? []) {
      const previous = lastPrinted.get(state.consumer);
      if (!state.stats || !moved(state.stats, previous)) continue;
      print(progressLine(state, previous), {
        event: "progress",
        ...summaryRow(state),
        inFlight: state.stats.inFlight,
      });
      lastPrinted.set(state.consumer, { ...state.stats });
    }
  }, intervalMs);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    process.stderr.write(
      signals === 1
        ? `courier work: ${signal}: stopping; in-flight batches finish (signal again to exit now)\n`
        : `courier work: ${signal}: exiting now; unfinished messages return after their visibility timeout\n`,
    );
    stopAll();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const states = await pool.done();
    const rows = states.map(summaryRow);
    const summary = { stack: resolved.stack, target: where, consumers: rows };
    // One JSON line, like the progress lines before it, so --json output is a clean JSON-lines stream.
    if (options.json) print("", { event: "stopped", ...summary });
    else
      emit(options, summary, () =>
        rows
          .map(
            (r) =>
              `${r.consumer}: processed ${r.processed}, failed ${r.failed}, batches ${r.batches}, timeouts ${r.timeouts}, released ${r.released}${r.failure ? `; ${r.failure}` : ""}`,
          )
          .join("\n"),
      );
    const failed = states.find((s) => s.failure);
    if (failed) throw new CliError(`${failed.consumer} worker failed: ${failed.failure}`);
  } finally {
    clearInterval(ticker);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

export function register(program: Command): void {
  const command = program
    .command("work")
    .description(
      "Run consumers' Lambda handlers against their queues through the local event source, one worker process per consumer, until SIGINT/SIGTERM (also the container worker mode)",
    )
    .argument("[consumer...]", `consumers to run (default: all of ${consumerNames.join(", ")})`)
    .option(
      "--concurrency <n>",
      "pollers per consumer (default: each consumer's maxConcurrency from the topology)",
    )
    .option(
      "--wait-seconds <n>",
      "long-poll wait per receive, 0-20 (default 20); a stop takes at most this plus in-flight batches, so keep it under the platform's grace period",
    )
    .option("--interval <seconds>", "seconds between progress lines (with --json or --json-logs)", "10")
    .option("--json", "progress, each handled message and the final summary as JSON lines")
    .option(
      "--json-logs",
      "the handlers' raw Powertools JSON log lines and EMF metrics (as on Lambda) instead of a line per handled message",
    )
    // Before every command reached AWS by default, --aws asked for it; kept so scripts still run.
    .addOption(new Option("--aws", "AWS through the standard chain (the default)").hideHelp());
  withTargetOptions(command).action(workCommand);
}
