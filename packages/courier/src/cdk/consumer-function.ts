import { Duration, Token } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
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
  /** 1 to 10,000 (1 to 10 on a FIFO queue). @default 10 */
  readonly batchSize?: number;
  /** @default - no batching window (a FIFO queue takes none) */
  readonly maxBatchingWindow?: Duration;
  /** @default - no limit besides the account's concurrency */
  readonly maxConcurrency?: number;
  /**
   * Alarm when the function's errors (timeouts, crashes, failed starts: failed records are partial
   * batch failures, not errors) summed over 5 minutes exceed this.
   * @default 0
   */
  readonly errorsAlarmThreshold?: number;
  /**
   * Alarm when throttled invocations summed over 5 minutes exceed this.
   * @default 0
   */
  readonly throttlesAlarmThreshold?: number;
}

/**
 * A consumer's Lambda function fed by its queue with partial batch responses, allowed to change
 * visibility on its own queue (backoff) and to send to its own DLQ, nothing else of the messaging;
 * alarmed on its errors and throttles.
 */
export class ConsumerFunction extends Construct {
  public readonly function: BundledFunction["function"];
  public readonly logGroup: BundledFunction["logGroup"];
  public readonly eventSource: lambdaEventSources.SqsEventSource;
  public readonly errorsAlarm: cloudwatch.Alarm;
  public readonly throttlesAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ConsumerFunctionProps) {
    const { batchSize, timeout, errorsAlarmThreshold, throttlesAlarmThreshold } =
      validateConsumerFunctionProps(scope, id, props);
    super(scope, id);

    const bundled = new BundledFunction(this, "Bundled", { ...props, timeout });
    this.function = bundled.function;
    this.logGroup = bundled.logGroup;

    // The event source grants the function consume rights on its queue: receive, delete and
    // ChangeMessageVisibility (the backoff), plus kms:Decrypt on the queue's key.
    this.eventSource = new lambdaEventSources.SqsEventSource(props.queue, {
      batchSize,
      reportBatchItemFailures: true,
      // A zero window is no window; Lambda refuses any window on a FIFO queue.
      ...(props.maxBatchingWindow && props.maxBatchingWindow.toSeconds() > 0
        ? { maxBatchingWindow: props.maxBatchingWindow }
        : {}),
      ...(props.maxConcurrency !== undefined ? { maxConcurrency: props.maxConcurrency } : {}),
    });
    this.function.addEventSource(this.eventSource);
    grantSendToEncryptedQueue(props.deadLetterQueue, this.function);

    const sumOverFiveMinutes = { period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM };
    this.errorsAlarm = new cloudwatch.Alarm(this, "ErrorsAlarm", {
      alarmDescription: `${this.node.path}: invocations failed whole (timeout, crash, failed start); see its logs`,
      metric: this.function.metricErrors(sumOverFiveMinutes),
      threshold: errorsAlarmThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.throttlesAlarm = new cloudwatch.Alarm(this, "ThrottlesAlarm", {
      alarmDescription: `${this.node.path}: invocations throttled; the account's or function's concurrency is exhausted`,
      metric: this.function.metricThrottles(sumOverFiveMinutes),
      threshold: throttlesAlarmThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}

/** Checked before anything is added to the tree, so a rejected consumer leaves no half-built construct. */
function validateConsumerFunctionProps(
  scope: Construct,
  id: string,
  props: ConsumerFunctionProps,
): { batchSize: number; timeout: Duration; errorsAlarmThreshold: number; throttlesAlarmThreshold: number } {
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
  if (props.queue.fifo) {
    // Lambda's FIFO event source: at most 10 records a batch, and no batching window.
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10) {
      fail(`batchSize must be a whole number from 1 to 10 on a FIFO queue, got ${batchSize}`);
    }
    if (props.maxBatchingWindow && !Token.isUnresolved(props.maxBatchingWindow)) {
      const seconds = props.maxBatchingWindow.toSeconds();
      if (seconds > 0) {
        fail(
          `a FIFO queue's event source takes no batching window; set maxBatchingWindow to 0, got ${seconds} s`,
        );
      }
    }
  }
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
  const errorsAlarmThreshold = props.errorsAlarmThreshold ?? 0;
  const throttlesAlarmThreshold = props.throttlesAlarmThreshold ?? 0;
  for (const [name, value] of [
    ["errorsAlarmThreshold", errorsAlarmThreshold],
    ["throttlesAlarmThreshold", throttlesAlarmThreshold],
  ] as const) {
    if (!Number.isInteger(value) || value < 0)
      fail(`${name} must be a whole number of 0 or more, got ${value}`);
  }
  return { batchSize, timeout, errorsAlarmThreshold, throttlesAlarmThreshold };
}
