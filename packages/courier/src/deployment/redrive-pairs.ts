/**
 * The DLQ/source pairs redrive may touch: one per consumer of the topology. The redrive function
 * reads them from its environment (set by the CDK construct); the CLI builds them from the deployed
 * stack's outputs. Nothing else is reachable, so a request cannot move messages between
 * arbitrary queues.
 */
import * as z from "zod";
import { RedriveConfigError, UnknownRedriveConsumerError } from "../lib/redrive/errors.ts";
import { DEFAULT_MAX_REDRIVES } from "../lib/redrive/selective.ts";
import type { DeployedTopology } from "./deployed-topology.ts";

export const REDRIVE_ENV = {
  /** JSON map: consumer name -> { queueUrl, dlqUrl, queueArn, dlqArn, subscriptionDlqUrl?, maxReceiveCount? }. */
  pairs: "COURIER_REDRIVE_PAIRS",
  /** The topology's redrive limit. @default DEFAULT_MAX_REDRIVES */
  maxRedrives: "COURIER_MAX_REDRIVES",
} as const;

export const redrivePairSchema = z.object({
  queueUrl: z.string().min(1),
  dlqUrl: z.string().min(1),
  queueArn: z.string().startsWith("arn:"),
  dlqArn: z.string().startsWith("arn:"),
  /** The subscription's DLQ: what SNS could not deliver to the queue. */
  subscriptionDlqUrl: z.string().min(1).optional(),
  /** The source queue's maxReceiveCount, for the reason text of messages SQS moved by itself. */
  maxReceiveCount: z.number().int().positive().optional(),
});
export type RedrivePair = z.infer<typeof redrivePairSchema>;
export type RedrivePairs = Readonly<Record<string, RedrivePair>>;

const pairsSchema = z.record(z.string().min(1), redrivePairSchema);

export interface RedriveConfig {
  readonly pairs: RedrivePairs;
  readonly maxRedrives: number;
}

export function redriveConfigFromEnv(env: NodeJS.ProcessEnv = process.env): RedriveConfig {
  const raw = env[REDRIVE_ENV.pairs];
  if (!raw)
    throw new RedriveConfigError(`${REDRIVE_ENV.pairs} is not set; it maps each consumer to its queues`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new RedriveConfigError(`${REDRIVE_ENV.pairs} is not valid JSON`);
  }
  const pairs = pairsSchema.safeParse(json);
  if (!pairs.success) {
    throw new RedriveConfigError(
      `${REDRIVE_ENV.pairs} is malformed: ${z.prettifyError(pairs.error).replace(/\n/g, "; ")}`,
    );
  }
  const maxRedrivesText = env[REDRIVE_ENV.maxRedrives];
  const maxRedrives = maxRedrivesText === undefined ? DEFAULT_MAX_REDRIVES : Number(maxRedrivesText);
  if (!Number.isInteger(maxRedrives) || maxRedrives < 1) {
    throw new RedriveConfigError(
      `${REDRIVE_ENV.maxRedrives} must be a positive integer, got "${maxRedrivesText}"`,
    );
  }
  return { pairs: pairs.data, maxRedrives };
}

/** The environment value the CDK stack sets (with `Stack.toJsonString` when values are tokens). */
export function redrivePairsFromTopology(
  topology: Pick<DeployedTopology, "consumers">,
): Record<string, RedrivePair> {
  return Object.fromEntries(
    Object.values(topology.consumers).map((c) => [
      c.name,
      {
        queueUrl: c.queueUrl,
        dlqUrl: c.dlqUrl,
        queueArn: c.queueArn,
        dlqArn: c.dlqArn,
        ...(c.subscriptionDlqUrl ? { subscriptionDlqUrl: c.subscriptionDlqUrl } : {}),
        maxReceiveCount: c.maxReceiveCount,
      },
    ]),
  );
}

export function pairFor(pairs: RedrivePairs, consumer: string): RedrivePair {
  const pair = Object.hasOwn(pairs, consumer) ? pairs[consumer] : undefined;
  if (!pair) throw new UnknownRedriveConsumerError(consumer, Object.keys(pairs));
  return pair;
}
