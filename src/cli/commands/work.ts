/**
 * `courier work [consumer ...]`: runs consumers' Lambda handler modules against their deployed
 * queues through the local event source, one worker process per consumer, until SIGINT/SIGTERM.
 *
 * Two targets, chosen explicitly:
 * - default, LocalStack: AWS_ENDPOINT_URL or the harness's 127.0.0.1:4566, dummy credentials;
 * - `--aws`, real AWS (the container worker mode): nothing is overridden, so the SDK's default
 *   chain supplies credentials, region and endpoints, to this process and to the handlers alike.
 */
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import type { Command } from "commander";
import type { DeploySettings } from "../../deployment/consumer-environment.ts";
import { type DeployedTopology, topologyFromOutputs } from "../../deployment/deployed-topology.ts";
import { DEFAULT_STACK_NAME } from "../../deployment/stack-outputs.ts";
import { type ConsumerName, consumerNames, consumerSpec } from "../../deployment/topology.ts";
import { readDeployedTopology } from "../../dev/cloudformation.ts";
import { localClientConfig } from "../../dev/local-aws-config.ts";
import type { EventSourceStats } from "../../worker/event-source.ts";
import { type WorkerPlan, WorkerPool, type WorkerState } from "../../worker/worker.ts";
import {
  settingsFromEnvironment,
  type WorkerTarget,
  workerEnvironment,
} from "../../worker/worker-environment.ts";
import { CliError, emit, type OutputOptions } from "../output.ts";

interface WorkOptions extends OutputOptions {
  stack: string;
  concurrency?: string;
  aws?: boolean;
  interval: string;
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

async function awsTopology(stackName: string): Promise<DeployedTopology> {
  const client = new CloudFormationClient({});
  const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs = Object.fromEntries(
    (Stacks?.[0]?.Outputs ?? []).flatMap((o) =>
      o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [],
    ),
  );
  return topologyFromOutputs(stackName, outputs);
}

async function localDefaults(): Promise<DeploySettings> {
  // Imported lazily: deploy.ts loads the CDK app, which only this fallback needs.
  const { LOCAL_DEPLOY_SETTINGS } = await import("../../dev/deploy.ts");
  return LOCAL_DEPLOY_SETTINGS;
}

/** Locally the stack has no table; a DynamoDB-API server (dynalite) may hold the stand-in. */
async function localIdempotencyTable(stackName: string): Promise<string | undefined> {
  if (!process.env.AWS_ENDPOINT_URL_DYNAMODB) return undefined;
  const { localIdempotencyTableName } = await import("../../dev/dynamodb-local.ts");
  return localIdempotencyTableName(stackName);
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
    ...(state.failure ? { failure: state.failure } : {}),
  };
}

async function workCommand(names: string[], options: WorkOptions): Promise<void> {
  const selected = selectConsumers(names);
  const concurrency = options.concurrency ? positiveInteger("--concurrency", options.concurrency) : undefined;
  const intervalMs = positiveInteger("--interval", options.interval) * 1000;
  const local = localClientConfig();
  const target: WorkerTarget = options.aws
    ? { kind: "aws" }
    : { kind: "local", endpoint: local.endpoint, region: local.region };
  const where = target.kind === "aws" ? "AWS" : target.endpoint;

  const topology = await (target.kind === "aws"
    ? awsTopology(options.stack)
    : readDeployedTopology(options.stack)
  ).catch((error: unknown) => {
    throw new CliError(`reading stack "${options.stack}" on ${where}: ${(error as Error).message}`);
  });
  const settings = settingsFromEnvironment(
    process.env,
    target.kind === "local" ? await localDefaults() : undefined,
  );
  const idempotencyTable = target.kind === "local" ? await localIdempotencyTable(options.stack) : undefined;
  const plans: WorkerPlan[] = selected.map((consumer) => {
    try {
      return {
        consumer,
        env: workerEnvironment({
          consumer,
          topology,
          settings,
          target,
          baseEnv: process.env,
          ...(concurrency ? { concurrency } : {}),
          ...(idempotencyTable ? { idempotencyTable } : {}),
        }),
      };
    } catch (error) {
      throw new CliError((error as Error).message);
    }
  });

  const print = (line: string, data: object) =>
    process.stdout.write(options.json ? `${JSON.stringify(data)}\n` : `${line}\n`);
  const lastPrinted = new Map<ConsumerName, EventSourceStats | undefined>();

  let pool: WorkerPool | undefined;
  const stopAll = () => void pool?.stop();
  pool = new WorkerPool(plans, {
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
  const ticker = setInterval(() => {
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
    const summary = { stack: options.stack, target: where, consumers: rows };
    // One JSON line, like the progress lines before it, so --json output is a clean JSON-lines stream.
    if (options.json) print("", { event: "stopped", ...summary });
    else
      emit(options, summary, () =>
        rows
          .map(
            (r) =>
              `${r.consumer}: processed ${r.processed}, failed ${r.failed}, batches ${r.batches}, timeouts ${r.timeouts}${r.failure ? `; ${r.failure}` : ""}`,
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
  program
    .command("work")
    .description(
      "Run consumers' Lambda handlers against their queues through the local event source, one worker process per consumer, until SIGINT/SIGTERM (also the container worker mode)",
    )
    .argument("[consumer...]", `consumers to run (default: all of ${consumerNames.join(", ")})`)
    .option(
      "--concurrency <n>",
      "pollers per consumer (default: each consumer's maxConcurrency from the topology)",
    )
    .option("--stack <name>", "deployed stack to read queue addresses from", DEFAULT_STACK_NAME)
    .option(
      "--aws",
      "run against real AWS with the SDK's default credentials, region and endpoints (containers); without it, LocalStack at AWS_ENDPOINT_URL or 127.0.0.1:4566",
    )
    .option("--interval <seconds>", "seconds between progress lines", "10")
    .option("--json", "progress and the final summary as JSON lines")
    .action(workCommand);
}
