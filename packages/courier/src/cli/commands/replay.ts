/**
 * `courier replay <consumer> --from <time>`: re-sends a window of the consumer's topic's archive to
 * that consumer's queue only (lib/replay): what its filter accepts, in publish order, with the
 * `courier.replay` lineage. A dry run counts by type and day; a run shows a progress line and a
 * summary as `courier redrive` does; Ctrl-C stops after the batch in hand and `--resume <runId>`
 * goes on from there.
 */
import { S3Client } from "@aws-sdk/client-s3";
import type { Command } from "commander";
import { NoArchiveError, replaySourcesOf } from "../../deployment/replay-target.ts";
import {
  planReplay,
  type ReplayPlan,
  type ReplayProgress,
  ReplayResumeError,
  type ReplaySummary,
  replay,
} from "../../lib/replay/replay.ts";
import { parseReplayTime, ReplayTimeError } from "../../lib/replay/time.ts";
import { sqsClient } from "../../lib/sqs-client.ts";
import { CliError, emit, type OutputOptions } from "../output.ts";
import { stopOnInterrupt } from "../stop-on-interrupt.ts";
import {
  commandTarget,
  deployedTopology,
  stackConsumer,
  type TargetCliOptions,
  withTargetOptions,
} from "../target.ts";
import { positiveInteger } from "./dlq.ts";

interface ReplayOptions extends OutputOptions, TargetCliOptions {
  from?: string;
  to?: string;
  type?: string[];
  dryRun?: boolean;
  reprocess?: boolean;
  rate?: number;
  resume?: string;
  yes?: boolean;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function register(program: Command): void {
  const command = program
    .command("replay")
    .description(
      "Re-send a window of the consumer's topic's archive to that consumer's queue only (run with --dry-run first)",
    )
    .argument("<consumer>", "a consumer of the stack (`courier status` lists them)")
    .option("--from <time>", "start of the window: ISO 8601, or a duration ago (30d, 2h)")
    .option("--to <time>", "end of the window (exclusive): ISO 8601, or a duration ago (default: now)")
    .option("--type <type>", "only messages of this type (repeatable)", collect)
    .option("--dry-run", "count what would be sent, by type and day; send nothing")
    .option(
      "--reprocess",
      "run the consumer's side effects again (once per run) for events it already completed",
    )
    .option("--rate <n>", "at most this many messages per second", positiveInteger)
    .option("--resume <runId>", "resume an interrupted replay from its checkpoint")
    .option("--yes", "send without asking (a script's confirmation)")
    .option("--json", "machine-readable output");
  withTargetOptions(command)
    .addHelpText(
      "after",
      "\nWithout --reprocess, events the consumer already completed are skipped by its idempotency (recovery after a purge or loss). Messages of an erased subject are never sent.",
    )
    .action(async (name: string, options: ReplayOptions) => {
      if (!options.from && !options.resume) throw new CliError("--from is required (or --resume <runId>)", 2);
      if (options.resume && (options.from || options.to || options.type || options.reprocess)) {
        throw new CliError(
          "--resume takes the window, types and --reprocess from the run's checkpoint; drop them",
          2,
        );
      }
      const window = options.resume ? undefined : windowOf(options);
      const where = await commandTarget(options);
      const topology = await deployedTopology(where);
      const spec = stackConsumer(topology, name);
      let sources: ReturnType<typeof replaySourcesOf>;
      try {
        sources = replaySourcesOf(topology, spec.name, new S3Client(where.config));
      } catch (error) {
        if (error instanceof NoArchiveError) throw new CliError(error.message);
        throw error;
      }

      if (options.dryRun) {
        if (!window) throw new CliError("--dry-run needs --from", 2);
        const plan = await planReplay(sources, window);
        emit(options, { dryRun: true, ...plan }, () => planText(plan));
        return;
      }
      if (!options.yes) {
        if (!process.stdin.isTTY || options.json) {
          throw new CliError(
            "a replay sends messages to the consumer's queue: run it with --dry-run first, then again with --yes",
            2,
          );
        }
        const plan = window ? await planReplay(sources, window) : undefined;
        if (plan) process.stderr.write(`${planText(plan)}\n`);
        if (!(await confirm(`replay to ${spec.name}? [y/N] `)))
          throw new CliError("replay not confirmed; nothing sent");
      }

      const progress = process.stderr.isTTY && !options.json ? new ProgressLine(process.stderr) : undefined;
      const interrupt = stopOnInterrupt();
      let summary: ReplaySummary;
      try {
        summary = await replay({
          ...sources,
          sqs: sqsClient(where.config),
          ...(window ? { window } : {}),
          ...(options.resume ? { resume: options.resume } : {}),
          reprocess: Boolean(options.reprocess),
          ...(options.rate ? { ratePerSecond: options.rate } : {}),
          signal: interrupt.signal,
          ...(progress ? { onProgress: (p) => progress.update(p) } : {}),
        });
      } catch (error) {
        if (error instanceof ReplayResumeError) throw new CliError(error.message);
        throw error;
      } finally {
        progress?.end();
        interrupt.release();
      }
      emit(options, summary, () => summaryText(summary));
      if (!summary.done) {
        throw new CliError(
          `replay ${summary.runId} stopped before the end; resume with: courier replay ${spec.name} --resume ${summary.runId}`,
        );
      }
    });
}

function windowOf(options: ReplayOptions) {
  try {
    const now = new Date();
    const from = parseReplayTime(options.from as string, now);
    const to = options.to ? parseReplayTime(options.to, now) : now;
    if (from.getTime() >= to.getTime()) throw new CliError("--from must be before --to", 2);
    return { from, to, ...(options.type?.length ? { types: options.type } : {}) };
  } catch (error) {
    if (error instanceof ReplayTimeError) throw new CliError(error.message, 2);
    throw error;
  }
}

async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

function counts(record: Readonly<Record<string, number>>): string {
  const entries = Object.entries(record);
  return entries.length > 0 ? entries.map(([k, n]) => `${k} ${n}`).join(", ") : "none";
}

export function planText(plan: ReplayPlan): string {
  return [
    `${plan.consumer}: dry run of ${plan.topic} from ${plan.from} to ${plan.to}`,
    `  archived in the window: ${plan.archived}`,
    `  would send: ${plan.toSend}  (not accepted by its filter: ${plan.filteredOut}, other types: ${plan.otherTypes}, erased: ${plan.erased})`,
    `  by type: ${counts(plan.byType)}`,
    `  by day:  ${counts(plan.byDay)}`,
    "nothing sent",
  ].join("\n");
}

export function summaryText(summary: ReplaySummary): string {
  const resumed = summary.alreadySent > 0 ? ` (resumed: ${summary.alreadySent} sent earlier)` : "";
  return [
    `${summary.consumer}: replayed ${summary.sent} of ${summary.plan.toSend} message(s) of ${summary.topic} from ${summary.from} to ${summary.to}${resumed}`,
    `  run ${summary.runId}${summary.reprocess ? ", reprocess" : ""}; ${summary.seconds.toFixed(1)} s, ${Math.round(summary.ratePerSecond)} msg/s`,
    `  left out: ${summary.plan.filteredOut} not accepted by its filter, ${summary.plan.otherTypes} other types, ${summary.plan.erased} erased`,
    summary.done ? "  done" : `  stopped: resume with --resume ${summary.runId}`,
  ].join("\n");
}

/** The redrive command's one-line progress bar, for replay. */
class ProgressLine {
  private lastDraw = 0;
  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(progress: ReplayProgress): void {
    const now = Date.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const ratio = progress.total > 0 ? Math.min(1, progress.sent / progress.total) : 0;
    const width = 24;
    const filled = Math.round(ratio * width);
    const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}%`;
    this.stream.write(`\r${bar} ${progress.sent}/${progress.total} sent (run ${progress.runId})\x1b[K`);
  }

  end(): void {
    if (this.lastDraw > 0) this.stream.write("\r\x1b[K");
  }
}
