/**
 * `courier work [consumer ...]`: runs consumers' Lambda handler modules against their deployed
 * queues through the local event source, one worker process per consumer, until SIGINT/SIGTERM.
 * Any courier stack: the consumers, queues, settings, handler entries and each function's
 * environment come from the stack's manifest; the handler modules from --project-root.
 *
 * The target follows the rule of every command (src/cli/target.ts): AWS through the standard
 * configuration chain by default (the container worker mode), an explicit endpoint, or LocalStack
 * with --local. The worker processes get the same target through their environment, as a Lambda
 * function would.
 */
import { resolve } from "node:path";
import { type Command, Option } from "commander";
import { bundledHandlerModules } from "../../worker/bundles.ts";
import type { EventSourceStats } from "../../worker/event-source.ts";
import { formatOutcomeLine, wantsColour } from "../../worker/outcome-line.ts";
import { idempotencyTableUnreachable, workerPlans } from "../../worker/start.ts";
import { type WorkerPlan, WorkerPool, type WorkerState } from "../../worker/worker.ts";
import { workerTarget } from "../../worker/worker-target.ts";
import { CliError, emit, type OutputOptions } from "../output.ts";
import { commandTarget, deployedTopology, type TargetCliOptions, withTargetOptions } from "../target.ts";

interface WorkOptions extends OutputOptions, TargetCliOptions {
  concurrency?: string;
  projectRoot?: string;
  bundles?: string | boolean;
  env?: string[];
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

/** `--env KEY=VALUE`, repeatable: laid over every selected consumer's deployed environment. */
function collectEnv(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function envOverrides(pairs: readonly string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const at = pair.indexOf("=");
    if (at < 1) throw new CliError(`--env takes KEY=VALUE, got "${pair}"`, 2);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
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
  const concurrency = options.concurrency ? positiveInteger("--concurrency", options.concurrency) : undefined;
  const waitTimeSeconds = options.waitSeconds === undefined ? undefined : Number(options.waitSeconds);
  if (
    waitTimeSeconds !== undefined &&
    !(Number.isInteger(waitTimeSeconds) && waitTimeSeconds >= 0 && waitTimeSeconds <= 20)
  ) {
    throw new CliError(`--wait-seconds must be a whole number from 0 to 20, got "${options.waitSeconds}"`, 2);
  }
  const intervalMs = positiveInteger("--interval", options.interval) * 1000;
  const environment = envOverrides(options.env);
  const resolved = await commandTarget(options);
  const where = resolved.target.label;
  const topology = await deployedTopology(resolved);
  const target = workerTarget(resolved.target);
  const projectRoot = options.projectRoot ?? process.cwd();
  let plans: WorkerPlan[];
  try {
    // --bundles: the files the stack deploys, read from the synthesized assembly, not the sources.
    const bundles =
      options.bundles === undefined || options.bundles === false
        ? undefined
        : bundledHandlerModules({
            assemblyDir: resolve(projectRoot, options.bundles === true ? "cdk.out" : options.bundles),
            stackName: resolved.stack,
          });
    plans = workerPlans({
      topology,
      consumers: names,
      projectRoot,
      ...(bundles ? { bundles } : {}),
      target,
      environment,
      ...(concurrency ? { concurrency } : {}),
      ...(waitTimeSeconds !== undefined ? { waitTimeSeconds } : {}),
    });
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }

  const print = (line: string, data: object) =>
    process.stdout.write(options.json ? `${JSON.stringify(data)}\n` : `${line}\n`);
  if (idempotencyTableUnreachable(topology, target)) {
    print(
      `no DynamoDB-API server (AWS_ENDPOINT_URL_DYNAMODB) for the idempotency table ${topology.idempotencyTable}: consumers run without it`,
      { event: "notice", idempotencyTable: null },
    );
  }
  const lastPrinted = new Map<string, EventSourceStats | undefined>();

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
    .argument("[consumer...]", "consumers to run (default: every consumer of the stack)")
    .option(
      "--concurrency <n>",
      "pollers per consumer (default: each consumer's maxConcurrency from the stack)",
    )
    .option(
      "--project-root <dir>",
      "where the stack's handler entries are (each consumer's handlerEntry, or a compiled .js beside it)",
      ".",
    )
    .option(
      "--bundles [dir]",
      "run the bundles the stack deploys, read from a synthesized cloud assembly (default <project-root>/cdk.out, after `cdk synth`), instead of the handler sources",
    )
    .option(
      "--env <KEY=VALUE>",
      "a variable laid over each consumer's deployed environment (repeatable)",
      collectEnv,
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
