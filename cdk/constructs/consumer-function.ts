import { Duration, Token } from "aws-cdk-lib";
import * as lambdaEventSources from "aws-cdk-lib/aws-lambda-event-sources";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { BundledFunction, type BundledFunctionProps } from "./bundled-function.ts";
import { InvalidConstructPropsError } from "./errors.ts";
import { grantSendToEncryptedQueue } from "./grant-send-messages.ts";

export interface ConsumerFunctionProps extends BundledFunctionProps {
  /** The consumer's source queue; the function consumes it through an SQS event source. */
  readonly queue: sqs.IQueue;
  /**
   * The source queue's visibility timeout. It must be at least 6 × `timeout` (AWS guidance): the
   * event source may hold a batch while it retries throttled invocations, and a message that turns
   * visible mid-batch is processed twice.
   */
  readonly queueVisibilityTimeout: Duration;
  /** The consumer's DLQ: the function sends permanent failures there itself, with their reason. */
  readonly deadLetterQueue: sqs.IQueue;
  /** @default 10 */
  readonly batchSize?: number;
  /** @default - no batching window */
  readonly maxBatchingWindow?: Duration;
  /** @default - no limit besides the account's concurrency */
  readonly maxConcurrency?: number;
}

/**
 * A consumer's Lambda function fed by its queue with partial batch responses, allowed to change
 * visibility on its own queue (backoff) and to send to its own DLQ, nothing else of the messaging.
 */
export class ConsumerFunction extends Construct {
  public readonly function: BundledFunction["function"];
  public readonly logGroup: BundledFunction["logGroup"];
  public readonly eventSource: lambdaEventSources.SqsEventSource;

  constructor(scope: Construct, id: string, props: ConsumerFunctionProps) {
    const { batchSize, timeout } = validateConsumerFunctionProps(scope, id, props);
    super(scope, id);

    const bundled = new BundledFunction(this, "Bundled", { ...props, timeout });
    this.function = bundled.function;
    this.logGroup = bundled.logGroup;

    // The event source grants the function consume rights on its queue: receive, delete and
    // ChangeMessageVisibility (the backoff), plus kms:Decrypt on the queue's key.
    this.eventSource = new lambdaEventSources.SqsEventSource(props.queue, {
      batchSize,
      reportBatchItemFailures: true,
      ...(props.maxBatchingWindow ? { maxBatchingWindow: props.maxBatchingWindow } : {}),
      ...(props.maxConcurrency !== undefined ? { maxConcurrency: props.maxConcurrency } : {}),
    });
    this.function.addEventSource(this.eventSource);
    grantSendToEncryptedQueue(props.deadLetterQueue, this.function);
  }
}

/** Checked before anything is added to the tree, so a rejected consumer leaves no half-built construct. */
function validateConsumerFunctionProps(
  scope: Construct,
  id: string,
  props: ConsumerFunctionProps,
): { batchSize: number; timeout: Duration } {
  const fail = (problem: string): never => {
    throw new InvalidConstructPropsError(scope, id, problem);
  };

  const timeout = props.timeout ?? Duration.seconds(30);
  const visibility = props.queueVisibilityTimeout;
  if (!Token.isUnresolved(timeout) && !Token.isUnresolved(visibility)) {
    const minimum = 6 * timeout.toSeconds();
    if (visibility.toSeconds() < minimum) {
      fail(
        `queue visibility timeout (${visibility.toSeconds()} s) must be at least 6 × the function ` +
          `timeout (${timeout.toSeconds()} s) = ${minimum} s, or messages are processed twice`,
      );
    }
  }
  const batchSize = props.batchSize ?? 10;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    fail(`batchSize must be a whole number from 1 to 10000, got ${batchSize}`);
  }
  if (props.maxBatchingWindow && !Token.isUnresolved(props.maxBatchingWindow)) {
    const seconds = props.maxBatchingWindow.toSeconds();
    if (seconds > 300) fail(`maxBatchingWindow must be at most 300 s, got ${seconds} s`);
  }
  const maxConcurrency = props.maxConcurrency;
  if (
    maxConcurrency !== undefined &&
    (!Number.isInteger(maxConcurrency) || maxConcurrency < 2 || maxConcurrency > 1000)
  ) {
    fail(`maxConcurrency must be a whole number from 2 to 1000, got ${maxConcurrency}`);
  }
  return { batchSize, timeout };
}
