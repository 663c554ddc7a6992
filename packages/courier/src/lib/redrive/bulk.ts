/**
 * Bulk redrive with SQS's own message move task: fastest for "move everything back", but it moves
 * every message as it is (no filters, no lineage update, no quarantine), so the selective mover
 * stays the default.
 */

import { setTimeout as sleep } from "node:timers/promises";
import {
  CancelMessageMoveTaskCommand,
  ListMessageMoveTasksCommand,
  type ListMessageMoveTasksResultEntry,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from "@aws-sdk/client-sqs";
import { MoveTaskAlreadyRunningError, MoveTaskFailedError } from "./errors.ts";

export interface BulkRedriveOptions {
  readonly sqs: SQSClient;
  /** The DLQ: SQS requires the source of a move task to be some queue's dead-letter queue. */
  readonly dlqArn: string;
  /** Where the messages go: the consumer's source queue. */
  readonly queueArn: string;
  /** SQS caps a task at 500 per second; leave unset for that maximum. */
  readonly maxMessagesPerSecond?: number;
  readonly pollIntervalMs?: number;
  readonly onProgress?: (progress: BulkRedriveProgress) => void;
  /** Aborting cancels the task with CancelMessageMoveTask; what moved before stays moved. */
  readonly signal?: AbortSignal;
}

export interface BulkRedriveProgress {
  readonly moved: number;
  readonly toMove: number;
  readonly status: string;
}

export interface BulkRedriveSummary {
  readonly mode: "bulk";
  readonly moved: number;
  /** ApproximateNumberOfMessagesToMove when the task started. */
  readonly toMove: number;
  readonly returned: 0;
  readonly skipped: 0;
  readonly quarantined: 0;
  readonly failed: 0;
  readonly duplicates: 0;
  readonly dryRun: false;
  readonly cancelled: boolean;
  readonly taskHandle: string;
  /** COMPLETED or CANCELLED. */
  readonly status: string;
}

const CANCEL_GRACE_MS = 30_000;

/** Statuses of a task that still holds the queue's one task slot. */
const ACTIVE_STATUSES = new Set(["RUNNING", "CANCELLING"]);

export async function redriveInBulk(options: BulkRedriveOptions): Promise<BulkRedriveSummary> {
  const { sqs, dlqArn, signal } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;

  const active = (await listTasks(sqs, dlqArn)).find((t) => ACTIVE_STATUSES.has(t.Status ?? ""));
  if (active) throw new MoveTaskAlreadyRunningError(dlqArn, active.TaskHandle);

  let taskHandle: string;
  try {
    const started = await sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: dlqArn,
        DestinationArn: options.queueArn,
        ...(options.maxMessagesPerSecond
          ? { MaxNumberOfMessagesPerSecond: options.maxMessagesPerSecond }
          : {}),
      }),
    );
    taskHandle = started.TaskHandle ?? "";
  } catch (error) {
    // Someone started a task between our check and our start.
    if (error instanceof Error && /already.*task|task.*already|only one active task/i.test(error.message)) {
      throw new MoveTaskAlreadyRunningError(dlqArn);
    }
    throw error;
  }

  let cancelRequestedAt: number | undefined;
  for (;;) {
    // The newest task on the DLQ is ours: SQS allows one active task per queue and ours is active.
    const task = (await listTasks(sqs, dlqArn))[0];
    const status = task?.Status ?? "UNKNOWN";
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    const toMove = task?.ApproximateNumberOfMessagesToMove ?? 0;
    options.onProgress?.({ moved, toMove, status });
    // LocalStack 4.14 leaves a task CANCELLING for good when the cancel lands just as it completes;
    // after a cancel, stop waiting once a generous grace period has passed.
    const cancelSettled =
      status === "CANCELLING" &&
      cancelRequestedAt !== undefined &&
      Date.now() - cancelRequestedAt > CANCEL_GRACE_MS;
    if (status === "COMPLETED" || status === "CANCELLED" || cancelSettled) {
      return {
        mode: "bulk",
        moved,
        toMove,
        returned: 0,
        skipped: 0,
        quarantined: 0,
        failed: 0,
        duplicates: 0,
        dryRun: false,
        cancelled: status !== "COMPLETED",
        taskHandle,
        status,
      };
    }
    if (status === "FAILED" || !task) {
      throw new MoveTaskFailedError(dlqArn, task?.FailureReason ?? "the task is no longer listed", moved);
    }
    if (signal?.aborted && cancelRequestedAt === undefined && status === "RUNNING") {
      cancelRequestedAt = Date.now();
      await cancelTask(sqs, taskHandle);
      continue;
    }
    try {
      await sleep(pollIntervalMs, undefined, signal && !signal.aborted ? { signal } : {});
    } catch {
      // Aborted while waiting: the next pass cancels the task.
    }
  }
}

async function listTasks(sqs: SQSClient, dlqArn: string): Promise<ListMessageMoveTasksResultEntry[]> {
  const result = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn, MaxResults: 10 }));
  return result.Results ?? [];
}

async function cancelTask(sqs: SQSClient, taskHandle: string): Promise<void> {
  try {
    await sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle: taskHandle }));
  } catch (error) {
    // The task may have finished between the last poll and the cancel; the next poll tells.
    if (
      !(
        error instanceof Error &&
        /not running|does not exist|ResourceNotFound|completed/i.test(`${error.name} ${error.message}`)
      )
    ) {
      throw error;
    }
  }
}
