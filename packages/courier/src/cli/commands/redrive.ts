/**
 * `courier redrive <consumer>`: moves a consumer's dead-lettered messages back to its queue after a
 * fix, selectively (default) or in bulk, through the same code path as the redrive function.
 */

import { type Command, Option } from "commander";
import { redrivePairsFromTopology } from "../../deployment/redrive-pairs.ts";
import {
  type RedriveRequest,
  type RedriveSummary,
  runRedriveRequest,
} from "../../deployment/redrive-request.ts";
import type { BulkRedriveProgress } from "../../lib/redrive/bulk.ts";
import { DurationFormatError, parseDurationSeconds } from "../../lib/redrive/duration.ts";
import { MoveTaskAlreadyRunningError } from "../../lib/redrive/errors.ts";
import type { RedriveItem, RedriveProgress } from "../../lib/redrive/selective.ts";
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
import { positiveInteger, withQueueErrors } from "./dlq.ts";

interface RedriveOptions extends OutputOptions, TargetCliOptions {
  dryRun?: boolean;
  type?: string;
  olderThan?: string;
  errorClass?: string;
  max?: number;
  bulk?: boolean;
  rate?: number;
  from: RedriveFrom;
}

/** Which dead letters to move: the consumer's DLQ, its subscription's DLQ, or both. */
type RedriveFrom = "all" | "dlq" | "subscription";
const REDRIVE_FROM: readonly RedriveFrom[] = ["all", "dlq", "subscription"];

export function register(program: Command): void {
  const command = program
    .command("redrive")
    .description("Move a consumer's dead-lettered messages back to its queue (run with --dry-run first)")
    .argument("<consumer>", "a consumer of the stack (`courier status` lists them)")
    .option("--dry-run", "list what would move, be skipped or quarantined; move nothing")
    .option("--type <type>", "only messages of this type, e.g. NewAccount")
    .option("--older-than <duration>", "only messages first seen at least this long ago, e.g. 30m, 2h, 1d")
    .option(
      "--error-class <class>",
      'only messages that failed with this error class ("unknown": moved by SQS)',
    )
    .option("--max <n>", "move at most this many messages", positiveInteger)
    .option("--bulk", "move everything with SQS's message move task (no filters, no lineage update)")
    .option("--rate <n>", "with --bulk: messages per second (SQS allows up to 500)", positiveInteger)
    .addOption(
      new Option(
        "--from <source>",
        "dlq: what the consumer failed; subscription: what SNS could not deliver to its queue (sent as the raw envelope); all: both",
      )
        .choices(REDRIVE_FROM)
        .default("all"),
    )
    .option("--json", "machine-readable output");
  withTargetOptions(command)
    .addHelpText(
      "after",
      "\nA message redriven as often as the stack allows (its topology's maxRedrives) stays in the DLQ and is reported as quarantined.",
    )
    .action(async (name: string, options: RedriveOptions) => {
      const request = requestFrom(name, options);
      const where = await commandTarget(options);
      const topology = await deployedTopology(where);
      const spec = stackConsumer(topology, name);
      const { maxRedrives } = topology.manifest.redrive;
      const pairs = redrivePairsFromTopology(topology);
      const pair = pairs[spec.name];
      // A move task cannot unwrap SNS's dead letters, so --bulk is for the consumer's DLQ only.
      const sources: Array<"dlq" | "subscription-dlq"> = [];
      if (options.from !== "subscription") sources.push("dlq");
      if (options.from !== "dlq" && !options.bulk && pair?.subscriptionDlqUrl)
        sources.push("subscription-dlq");
      if (options.from === "subscription" && sources.length === 0) {
        throw new CliError(
          options.bulk
            ? "--bulk cannot move a subscription DLQ (SNS's dead letters must be unwrapped); drop --bulk"
            : `consumer "${spec.name}" has no subscription DLQ in stack "${where.stack}"; redeploy it`,
        );
      }

      const progress = process.stderr.isTTY && !options.json ? new ProgressLine(process.stderr) : undefined;
      // First Ctrl-C stops after the batch in hand (bulk: cancels the move task); a second one exits.
      const interrupt = stopOnInterrupt();
      const summaries: Partial<Record<"dlq" | "subscription-dlq", RedriveSummary>> = {};
      try {
        for (const source of sources) {
          if (interrupt.signal.aborted) break;
          const queueUrl = (source === "dlq" ? pair?.dlqUrl : pair?.subscriptionDlqUrl) ?? spec.name;
          summaries[source] = await withQueueErrors(spec.name, queueUrl, async () => {
            try {
              return await runRedriveRequest(
                { ...request, source },
                {
                  sqs: sqsClient(where.config),
                  pairs,
                  maxRedrives,
                  sourceMaxReceiveCount: spec.maxReceiveCount,
                  signal: interrupt.signal,
                  includeItems: Boolean(options.dryRun || options.json),
                  ...(progress ? { onProgress: (p) => progress.update(p) } : {}),
                },
              );
            } catch (error) {
              if (error instanceof MoveTaskAlreadyRunningError) throw new CliError(error.message);
              throw error;
            }
          });
          progress?.end();
        }
      } finally {
        progress?.end();
        interrupt.release();
      }
      const fromDlq = summaries.dlq;
      const fromSubscription = summaries["subscription-dlq"];
      const json = fromDlq
        ? {
            consumer: spec.name,
            ...fromDlq,
            ...(fromSubscription ? { subscriptionDlq: fromSubscription } : {}),
          }
        : { consumer: spec.name, source: "subscription-dlq", ...fromSubscription };
      emit(options, json, () =>
        [
          ...(fromDlq ? [summaryText(spec.name, fromDlq, maxRedrives)] : []),
          ...(fromSubscription && (options.from === "subscription" || movedAnything(fromSubscription))
            ? [
                summaryText(
                  `${spec.name} (subscription DLQ: SNS delivery failures)`,
                  fromSubscription,
                  maxRedrives,
                ),
              ]
            : []),
        ].join("\n"),
      );
      const failed = (fromDlq?.failed ?? 0) + (fromSubscription?.failed ?? 0);
      if (failed > 0) {
        throw new CliError(`${failed} message(s) of "${spec.name}" could not be moved and remain in the DLQ`);
      }
    });
}

function requestFrom(consumer: string, options: RedriveOptions): RedriveRequest {
  if (options.bulk && (options.type || options.olderThan || options.errorClass || options.max)) {
    throw new CliError(
      "--bulk moves every message; drop --type, --older-than, --error-class and --max, or drop --bulk",
    );
  }
  if (options.rate && !options.bulk) throw new CliError("--rate applies to --bulk only");
  let olderThanSeconds: number | undefined;
  if (options.olderThan !== undefined) {
    try {
      olderThanSeconds = parseDurationSeconds(options.olderThan);
    } catch (error) {
      if (error instanceof DurationFormatError) throw new CliError(`--older-than: ${error.message}`);
      throw error;
    }
  }
  return {
    consumer,
    mode: options.bulk ? "bulk" : "selective",
    dryRun: Boolean(options.dryRun),
    ...(options.type ? { type: options.type } : {}),
    ...(olderThanSeconds !== undefined ? { olderThanSeconds } : {}),
    ...(options.errorClass ? { errorClass: options.errorClass } : {}),
    ...(options.max ? { max: options.max } : {}),
    ...(options.rate ? { maxMessagesPerSecond: options.rate } : {}),
  };
}

/** True when the run found anything at all (a subscription DLQ is usually empty: say nothing then). */
function movedAnything(summary: RedriveSummary): boolean {
  return summary.moved + summary.skipped + summary.quarantined + summary.failed > 0;
}

function summaryText(consumer: string, summary: RedriveSummary, maxRedrives: number): string {
  const lines: string[] = [];
  const items = "items" in summary ? (summary.items ?? []) : [];
  if (summary.dryRun) {
    lines.push(...itemLines(items));
    lines.push(
      summary.mode === "bulk"
        ? `${consumer}: dry run: a bulk move would take ~${summary.moved} message(s) back; nothing moved`
        : `${consumer}: dry run: would move ${summary.moved}, skip ${summary.skipped}, quarantine ${summary.quarantined}; nothing moved`,
    );
    return lines.join("\n");
  }
  for (const item of items.filter((i) => ["failed", "quarantined", "returned"].includes(i.action)))
    lines.push(itemLine(item));
  const returned = summary.returned > 0 ? ` (${summary.returned} returned to the DLQ)` : "";
  const counts = `moved ${summary.moved}${returned}, skipped ${summary.skipped}, quarantined ${summary.quarantined}, failed ${summary.failed}`;
  lines.push(`${consumer}: ${counts}${summary.cancelled ? " (stopped early)" : ""}`);
  if (summary.duplicates > 0) {
    lines.push(
      `${summary.duplicates} moved message(s) could not be deleted from the DLQ; a later redrive duplicates them`,
    );
  }
  if (summary.returned > 0) {
    lines.push(
      `returned messages failed again during this run and were not moved twice; fix the consumer, then redrive again`,
    );
  }
  if (summary.quarantined > 0) {
    lines.push(
      `quarantined messages failed ${maxRedrives} redrives; inspect with \`courier dlq peek ${consumer}\``,
    );
  }
  return lines.join("\n");
}

const ACTION_LABEL = {
  moved: "move",
  returned: "returned",
  skipped: "skip",
  quarantined: "quarantine",
  failed: "failed",
} as const;

/** A terminal's worth of per-message lines; --json has them all. */
const MAX_ITEM_LINES = 40;

function itemLines(items: readonly RedriveItem[]): string[] {
  const lines = items.slice(0, MAX_ITEM_LINES).map(itemLine);
  if (items.length > MAX_ITEM_LINES)
    lines.push(`  ... and ${items.length - MAX_ITEM_LINES} more (--json lists every one)`);
  return lines;
}

function itemLine(item: RedriveItem): string {
  const what = [item.type ?? "?", item.eventId ?? item.messageId].join(" ");
  return `  ${ACTION_LABEL[item.action].padEnd(10)} ${what}${item.reason ? `  (${item.reason})` : ""}`;
}

/**
 * A one-line progress bar redrawn with `\r` on a terminal. Hand-written: it is twenty lines, and
 * the progress libraries pull in more than the CLI needs.
 */
class ProgressLine {
  private lastDraw = 0;
  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(progress: RedriveProgress | BulkRedriveProgress): void {
    const now = Date.now();
    if (now - this.lastDraw < 100) return; // a redraw per 100 ms is plenty
    this.lastDraw = now;
    const done = "received" in progress ? progress.received : progress.moved;
    const total = "received" in progress ? progress.total : progress.toMove;
    const ratio = total > 0 ? Math.min(1, done / total) : 0;
    const width = 24;
    const filled = Math.round(ratio * width);
    const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}%`;
    const detail =
      "received" in progress
        ? `${done}/${total}  moved ${progress.moved} returned ${progress.returned} skipped ${progress.skipped} quarantined ${progress.quarantined} failed ${progress.failed}`
        : `${done}/${total} moved (${progress.status})`;
    this.stream.write(`\r${bar} ${detail}\x1b[K`);
  }

  end(): void {
    if (this.lastDraw > 0) this.stream.write("\r\x1b[K");
  }
}
