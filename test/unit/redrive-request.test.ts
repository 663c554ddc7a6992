import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { REDRIVE_ENV, redriveConfigFromEnv } from "../../packages/courier/src/deployment/redrive-pairs.ts";
import {
  InvalidRedriveRequestError,
  runRedriveRequest,
} from "../../packages/courier/src/deployment/redrive-request.ts";
import {
  RedriveConfigError,
  UnknownRedriveConsumerError,
} from "../../packages/courier/src/lib/redrive/errors.ts";
import { DLQ_ARN, DLQ_URL, QUEUE_ARN, QUEUE_URL } from "./redrive-fixtures.ts";

const sqsMock = mockClient(SQSClient);
const sqs = new SQSClient({ region: "us-east-1" });
const pairs = { thumbnails: { queueUrl: QUEUE_URL, dlqUrl: DLQ_URL, queueArn: QUEUE_ARN, dlqArn: DLQ_ARN } };
const deps = { sqs, pairs, maxRedrives: 3 };

beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [] });
  sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: "7" } });
});

describe("redrive request", () => {
  it("GIVEN a consumer with no DLQ pair WHEN a request arrives THEN a typed error names it and lists the known ones", async () => {
    const run = runRedriveRequest({ consumer: "thumbnail", mode: "selective" }, deps);

    await expect(run).rejects.toBeInstanceOf(UnknownRedriveConsumerError);
    await expect(run).rejects.toThrow(
      'unknown consumer "thumbnail" for redrive; known consumers: thumbnails',
    );
    expect(sqsMock.calls()).toHaveLength(0);
  });

  it("GIVEN a consumer name that is an Object prototype key WHEN a request arrives THEN it is unknown, not a crash", async () => {
    await expect(runRedriveRequest({ consumer: "constructor" }, deps)).rejects.toBeInstanceOf(
      UnknownRedriveConsumerError,
    );
  });

  it("GIVEN a bulk request with a type filter WHEN validated THEN it is refused: bulk moves everything", async () => {
    await expect(
      runRedriveRequest({ consumer: "thumbnails", mode: "bulk", type: "X" }, deps),
    ).rejects.toBeInstanceOf(InvalidRedriveRequestError);
  });

  it("GIVEN a request with an unknown field WHEN validated THEN it is refused with the field named", async () => {
    await expect(
      runRedriveRequest({ consumer: "thumbnails", queueUrl: "http://elsewhere" }, deps),
    ).rejects.toThrow("queueUrl");
  });

  it("GIVEN a selective request WHEN run THEN it receives from the pair's DLQ only", async () => {
    await runRedriveRequest({ consumer: "thumbnails", mode: "selective", max: 5 }, deps);

    const queues = sqsMock.commandCalls(ReceiveMessageCommand).map((c) => c.args[0].input.QueueUrl);
    expect(new Set(queues)).toEqual(new Set([DLQ_URL]));
  });

  it("GIVEN a bulk request WHEN run THEN the move task goes from the pair's DLQ to its source queue", async () => {
    sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: "h" });
    sqsMock
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [] })
      .resolves({ Results: [{ Status: "COMPLETED", ApproximateNumberOfMessagesMoved: 7 }] });

    const summary = await runRedriveRequest({ consumer: "thumbnails", mode: "bulk" }, deps);

    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)[0]?.args[0].input).toMatchObject({
      SourceArn: DLQ_ARN,
      DestinationArn: QUEUE_ARN,
    });
    expect(summary.moved).toBe(7);
  });

  it("GIVEN a bulk dry run WHEN run THEN it reports the DLQ depth and starts no task", async () => {
    const summary = await runRedriveRequest({ consumer: "thumbnails", mode: "bulk", dryRun: true }, deps);

    expect(summary).toMatchObject({ mode: "bulk", dryRun: true, moved: 7 });
    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
  });
});

describe("redrive function configuration", () => {
  it("GIVEN no pairs in the environment WHEN configuring THEN the error names the missing setting", () => {
    expect(() => redriveConfigFromEnv({})).toThrow(REDRIVE_ENV.pairs);
  });

  it("GIVEN a pair without its DLQ ARN WHEN configuring THEN the error says which field is missing", () => {
    const env = {
      [REDRIVE_ENV.pairs]: JSON.stringify({ thumbnails: { queueUrl: "q", dlqUrl: "d", queueArn: "arn:q" } }),
    };

    expect(() => redriveConfigFromEnv(env)).toThrow(/dlqArn/);
  });

  it("GIVEN a redrive limit that is not a positive integer WHEN configuring THEN the error names the setting", () => {
    const env = { [REDRIVE_ENV.pairs]: JSON.stringify(pairs), [REDRIVE_ENV.maxRedrives]: "zero" };

    expect(() => redriveConfigFromEnv(env)).toThrow(RedriveConfigError);
    expect(() => redriveConfigFromEnv(env)).toThrow(REDRIVE_ENV.maxRedrives);
  });

  it("GIVEN valid pairs and no limit WHEN configuring THEN the topology's redrive limit applies", () => {
    const config = redriveConfigFromEnv({ [REDRIVE_ENV.pairs]: JSON.stringify(pairs) });

    expect(config).toEqual({ pairs, maxRedrives: 3 });
  });
});
