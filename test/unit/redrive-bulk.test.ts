import {
  CancelMessageMoveTaskCommand,
  ListMessageMoveTasksCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { redriveInBulk } from "../../packages/courier/src/lib/redrive/bulk.ts";
import {
  MoveTaskAlreadyRunningError,
  MoveTaskFailedError,
} from "../../packages/courier/src/lib/redrive/errors.ts";
import { DLQ_ARN, QUEUE_ARN } from "./redrive-fixtures.ts";

const sqsMock = mockClient(SQSClient);
const sqs = new SQSClient({ region: "us-east-1" });

const task = (Status: string, moved: number, extra: object = {}) => ({
  Results: [
    {
      SourceArn: DLQ_ARN,
      DestinationArn: QUEUE_ARN,
      Status,
      ApproximateNumberOfMessagesMoved: moved,
      ApproximateNumberOfMessagesToMove: 20,
      ...extra,
    },
  ],
});

beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: "handle-1" });
});

describe("bulk redrive", () => {
  it("GIVEN a DLQ WHEN redriving in bulk THEN a move task goes from the DLQ to the source queue at the given rate", async () => {
    sqsMock.on(ListMessageMoveTasksCommand).resolvesOnce({ Results: [] }).resolves(task("COMPLETED", 20));

    await redriveInBulk({
      sqs,
      dlqArn: DLQ_ARN,
      queueArn: QUEUE_ARN,
      maxMessagesPerSecond: 50,
      pollIntervalMs: 1,
    });

    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)[0]?.args[0].input).toEqual({
      SourceArn: DLQ_ARN,
      DestinationArn: QUEUE_ARN,
      MaxNumberOfMessagesPerSecond: 50,
    });
  });

  it("GIVEN a running task WHEN polling THEN progress is reported until it completes with the moved count", async () => {
    sqsMock
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [] })
      .resolvesOnce(task("RUNNING", 5, { TaskHandle: "handle-1" }))
      .resolves(task("COMPLETED", 20));
    const progress: number[] = [];

    const summary = await redriveInBulk({
      sqs,
      dlqArn: DLQ_ARN,
      queueArn: QUEUE_ARN,
      pollIntervalMs: 1,
      onProgress: (p) => progress.push(p.moved),
    });

    expect(progress).toEqual([5, 20]);
    expect(summary).toMatchObject({
      mode: "bulk",
      moved: 20,
      toMove: 20,
      status: "COMPLETED",
      cancelled: false,
    });
  });

  it("GIVEN a task already running on the DLQ WHEN redriving in bulk THEN a typed error names the DLQ and nothing starts", async () => {
    sqsMock.on(ListMessageMoveTasksCommand).resolves(task("RUNNING", 3, { TaskHandle: "other-task" }));

    const run = redriveInBulk({ sqs, dlqArn: DLQ_ARN, queueArn: QUEUE_ARN, pollIntervalMs: 1 });

    await expect(run).rejects.toBeInstanceOf(MoveTaskAlreadyRunningError);
    await expect(run).rejects.toThrow(DLQ_ARN);
    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
  });

  it("GIVEN SQS refuses the start because a task appeared meanwhile WHEN redriving in bulk THEN the same typed error results", async () => {
    sqsMock.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
    sqsMock
      .on(StartMessageMoveTaskCommand)
      .rejects(
        new Error(
          "There is already a task running. Only one active task is allowed for a source queue arn at a given time.",
        ),
      );

    await expect(redriveInBulk({ sqs, dlqArn: DLQ_ARN, queueArn: QUEUE_ARN })).rejects.toBeInstanceOf(
      MoveTaskAlreadyRunningError,
    );
  });

  it("GIVEN a task that fails WHEN polling THEN a typed error carries SQS's failure reason", async () => {
    sqsMock
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [] })
      .resolves(task("FAILED", 2, { FailureReason: "AWS.SimpleQueueService.NonExistentQueue" }));

    const run = redriveInBulk({ sqs, dlqArn: DLQ_ARN, queueArn: QUEUE_ARN, pollIntervalMs: 1 });

    await expect(run).rejects.toBeInstanceOf(MoveTaskFailedError);
    await expect(run).rejects.toThrow("NonExistentQueue");
  });

  it("GIVEN an abort during the task WHEN polling THEN the task is cancelled and the summary says so", async () => {
    const controller = new AbortController();
    sqsMock
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [] })
      .resolvesOnce(task("RUNNING", 5, { TaskHandle: "handle-1" }))
      .resolves(task("CANCELLED", 6));
    sqsMock.on(CancelMessageMoveTaskCommand).resolves({ ApproximateNumberOfMessagesMoved: 6 });

    const summary = await redriveInBulk({
      sqs,
      dlqArn: DLQ_ARN,
      queueArn: QUEUE_ARN,
      pollIntervalMs: 1,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.status === "RUNNING") controller.abort();
      },
    });

    expect(sqsMock.commandCalls(CancelMessageMoveTaskCommand)[0]?.args[0].input).toEqual({
      TaskHandle: "handle-1",
    });
    expect(summary).toMatchObject({ cancelled: true, moved: 6, status: "CANCELLED" });
  });
});
