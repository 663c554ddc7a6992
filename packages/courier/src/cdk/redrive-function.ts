import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { REDRIVE_ENV } from "../deployment/redrive-pairs.ts";
import { DEFAULT_MAX_REDRIVES } from "../lib/redrive/selective.ts";
import { BundledFunction, type BundledFunctionProps } from "./bundled-function.ts";
import { InvalidConstructPropsError } from "./errors.ts";
import { grantSendToEncryptedQueue } from "./grant-send-messages.ts";

export interface RedrivePair {
  /** The consumer's name: the key the operator redrives by. */
  readonly name: string;
  /** Where redriven messages go. */
  readonly queue: sqs.IQueue;
  /** Where they come from. */
  readonly deadLetterQueue: sqs.IQueue;
  /**
   * The subscription's DLQ (what SNS could not deliver to `queue`); moved to `queue` unwrapped.
   * @default - none
   */
  readonly subscriptionDeadLetterQueue?: sqs.IQueue;
  /**
   * The source queue's maxReceiveCount, for the reason text of messages SQS moved by itself.
   * @default - not told
   */
  readonly maxReceiveCount?: number;
}

export interface RedriveFunctionProps extends Omit<BundledFunctionProps, "entry"> {
  /** Every DLQ/source pair the function may move messages between; it may touch no other queue. */
  readonly pairs: readonly RedrivePair[];
  /**
   * How often a message may be redriven before it stays in the DLQ.
   * @default DEFAULT_MAX_REDRIVES (3)
   */
  readonly maxRedrives?: number;
  /** @default redriveHandlerEntry(): courier's own handler */
  readonly entry?: string;
}

/**
 * courier's redrive handler module, next to this one: compiled JavaScript in an installed package
 * (dist/), TypeScript in courier's own repository (src/).
 */
export function redriveHandlerEntry(): string {
  for (const extension of [".js", ".ts"]) {
    const path = fileURLToPath(new URL(`../redrive-function/handler${extension}`, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error("courier's redrive handler is missing beside its construct (a broken install?)");
}

/**
 * The operator's redrive function: moves messages from a DLQ back to its source queue, in bulk with
 * SQS's message move task or selectively by receive, send and delete.
 */
export class RedriveFunction extends Construct {
  public readonly function: BundledFunction["function"];
  public readonly logGroup: BundledFunction["logGroup"];
  public readonly maxRedrives: number;

  constructor(scope: Construct, id: string, props: RedriveFunctionProps) {
    if (props.pairs.length === 0) {
      throw new InvalidConstructPropsError(scope, id, "pairs is empty: there is nothing to redrive");
    }
    const names = props.pairs.map((p) => p.name);
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    if (duplicate) {
      throw new InvalidConstructPropsError(scope, id, `pair "${duplicate}" is listed twice`);
    }
    const maxRedrives = props.maxRedrives ?? DEFAULT_MAX_REDRIVES;
    if (!Number.isInteger(maxRedrives) || maxRedrives < 1) {
      throw new InvalidConstructPropsError(
        scope,
        id,
        `maxRedrives must be a whole number of at least 1, got ${maxRedrives}`,
      );
    }

    super(scope, id);

    const pairs = Object.fromEntries(
      props.pairs.map((p) => [
        p.name,
        {
          queueUrl: p.queue.queueUrl,
          dlqUrl: p.deadLetterQueue.queueUrl,
          queueArn: p.queue.queueArn,
          dlqArn: p.deadLetterQueue.queueArn,
          ...(p.subscriptionDeadLetterQueue
            ? { subscriptionDlqUrl: p.subscriptionDeadLetterQueue.queueUrl }
            : {}),
          ...(p.maxReceiveCount !== undefined ? { maxReceiveCount: p.maxReceiveCount } : {}),
        },
      ]),
    );
    const bundled = new BundledFunction(this, "Bundled", {
      ...props,
      entry: props.entry ?? redriveHandlerEntry(),
      // The handler parses these with the same names (deployment/redrive-pairs.ts).
      environment: {
        ...props.environment,
        [REDRIVE_ENV.pairs]: Stack.of(this).toJsonString(pairs),
        [REDRIVE_ENV.maxRedrives]: String(maxRedrives),
      },
    });
    this.maxRedrives = maxRedrives;
    this.function = bundled.function;
    this.logGroup = bundled.logGroup;

    for (const pair of props.pairs) {
      // Receive and delete on the DLQ (selective mover), send on the source: never the other way.
      pair.deadLetterQueue.grantConsumeMessages(this.function);
      grantSendToEncryptedQueue(pair.queue, this.function);
      pair.deadLetterQueue.grant(
        this.function,
        "sqs:StartMessageMoveTask",
        "sqs:ListMessageMoveTasks",
        "sqs:CancelMessageMoveTask",
      );
    }
    // Receive, release and delete on the subscription DLQs, in one statement rather than a grant
    // per queue, which would push the role's policy past IAM's inline size into overflow policies.
    // They share their consumer's key, which the DLQ grant above already lets it decrypt with.
    const subscriptionDlqs = props.pairs.flatMap((p) =>
      p.subscriptionDeadLetterQueue ? [p.subscriptionDeadLetterQueue.queueArn] : [],
    );
    if (subscriptionDlqs.length > 0) {
      this.function.addToRolePolicy(
        new iam.PolicyStatement({
          actions: [
            "sqs:ReceiveMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
          ],
          resources: subscriptionDlqs,
        }),
      );
    }
  }
}
