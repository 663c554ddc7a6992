/** `courier dlq peek <consumer>`: what a consumer's dead-letter queue holds, and why. */

import { type Command, InvalidArgumentError } from "commander";
import { type PeekedMessage, peekDlq } from "../../lib/redrive/peek.ts";
import { sqsClient } from "../../lib/sqs-client.ts";
import { CliError, emit, type OutputOptions } from "../output.ts";
import {
  commandTarget,
  deployedTopology,
  stackConsumer,
  type TargetCliOptions,
  withTargetOptions,
} from "../target.ts";

interface PeekOptions extends OutputOptions, TargetCliOptions {
  max: number;
}

export function register(program: Command): void {
  const dlq = program.command("dlq").description("Inspect a consumer's dead-letter queue");
  const peek = dlq
    .command("peek")
    .description(
      "List DLQ messages with age, type, eventId, failure reason and receive count, and beside them what SNS could not deliver to the queue (the subscription DLQ); changes nothing",
    )
    .argument("<consumer>", "a consumer of the stack (`courier status` lists them)")
    .option("--max <n>", "most messages to list", positiveInteger, 50)
    .option("--json", "machine-readable output");
  withTargetOptions(peek).action(async (name: string, options: PeekOptions) => {
    const where = await commandTarget(options);
    const deployed = stackConsumer(await deployedTopology(where), name);
    const sqs = sqsClient(where.config);
    const result = await withQueueErrors(deployed.name, deployed.dlqUrl, () =>
      peekDlq({
        sqs,
        dlqUrl: deployed.dlqUrl,
        max: options.max,
        sourceMaxReceiveCount: deployed.maxReceiveCount,
      }),
    );
    // Beside the DLQ: what SNS could not deliver to the queue at all, as the queue would have had it.
    const subscriptionDlqUrl = deployed.subscriptionDlqUrl;
    const subscription = subscriptionDlqUrl
      ? await withQueueErrors(deployed.name, subscriptionDlqUrl, () =>
          peekDlq({ sqs, dlqUrl: subscriptionDlqUrl, max: options.max, deliveryFailure: true }),
        )
      : undefined;
    emit(
      options,
      {
        consumer: deployed.name,
        dlqUrl: deployed.dlqUrl,
        ...result,
        ...(subscription ? { subscriptionDlq: { url: subscriptionDlqUrl, ...subscription } } : {}),
      },
      () =>
        [
          peekTable(deployed.name, "DLQ", result.approximateDepth, result.messages),
          ...(subscription
            ? [
                peekTable(
                  deployed.name,
                  "subscription DLQ (SNS could not deliver these to the queue)",
                  subscription.approximateDepth,
                  subscription.messages,
                ),
              ]
            : []),
        ].join("\n\n"),
    );
  });
}

/** Turns SQS's "no such queue" into a line that names the consumer and the queue. */
export async function withQueueErrors<T>(
  consumer: string,
  queueUrl: string,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const name = (error as Error).name ?? "";
    if (/QueueDoesNotExist|NonExistentQueue/.test(name)) {
      throw new CliError(
        `queue ${queueUrl} of consumer "${consumer}" does not exist; redeploy the stack (npx cdk deploy, or courier local up)`,
      );
    }
    throw new CliError(`consumer "${consumer}": ${(error as Error).message}`);
  }
}

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer");
  return n;
}

/** "45s", "12m", "3h05m", "2d04h": two units at most, enough to tell old from new. */
export function formatAge(seconds: number | undefined): string {
  if (seconds === undefined) return "?";
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, "0")}h`;
}

/** Keeps a row on one terminal line; --json has the full reason. */
const REASON_MAX_CHARS = 100;

function peekTable(
  consumer: string,
  queue: string,
  depth: number,
  messages: readonly PeekedMessage[],
): string {
  // "the DLQ is empty", "the subscription DLQ is empty": the explanation is for non-empty ones.
  if (messages.length === 0) return `${consumer}: the ${queue.replace(/ \(.*\)$/, "")} is empty`;
  const rows = messages.map((m) => [
    formatAge(m.ageSeconds),
    m.type ?? "?",
    m.eventId ?? "?",
    String(m.receiveCount),
    m.redriveCount > 0 ? String(m.redriveCount) : "-",
    m.reason.length > REASON_MAX_CHARS ? `${m.reason.slice(0, REASON_MAX_CHARS - 1)}…` : m.reason,
  ]);
  const header = ["AGE", "TYPE", "EVENT ID", "RECEIVES", "REDRIVES", "REASON"];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (i === 5 ? 0 : (r[i] ?? "").length))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const shown = `${consumer}: showing ${messages.length} of ~${Math.max(depth, messages.length)} message(s) in the ${queue}`;
  return [shown, line(header), ...rows.map(line)].join("\n");
}
