/**
 * The console on a stack courier never saw: topic cards, consumer cards (maxReceiveCount, filter
 * policy) and the redrive limit come from the stack's manifest, rates from its metrics namespace;
 * and the page is served prebuilt, as the installed package ships it.
 * Failure modes covered: cards or limits from courier's example topology, a consumer of another
 * stack accepted, rates read from a namespace the stack's consumers do not publish to, and an
 * installed console that needs esbuild to start.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import {
  GetQueueAttributesCommand,
  ListQueueTagsCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ASSETS_MANIFEST,
  type ConsoleAssets,
  loadConsoleAssets,
  writeConsoleAssets,
} from "../../packages/courier/src/console/assets.ts";
import { ConsoleService } from "../../packages/courier/src/console/console-service.ts";
import { topologyFromOutputs } from "../../packages/courier/src/deployment/deployed-topology.ts";
import { manifestOutputs, REGION } from "./manifest-fixtures.ts";
import { dlqMessage } from "./redrive-fixtures.ts";

const sqsMock = mockClient(SQSClient);
const cloudwatchMock = mockClient(CloudWatchClient);

const topology = topologyFromOutputs(
  "acme-orders",
  manifestOutputs("acme-orders", {
    topics: [
      { name: "orders", description: "an order was placed", current: { type: "OrderPlaced", version: 2 } },
    ],
    consumers: [
      { name: "invoice", topic: "orders", maxReceiveCount: 4, description: "bills the customer" },
      { name: "ledger", topic: "orders", maxReceiveCount: 7, filterPolicy: { region: ["eu"] } },
    ],
    manifest: { redrive: { maxRedrives: 2 }, metricsNamespace: "acme" },
  }),
);

function service() {
  return new ConsoleService({
    sqs: new SQSClient({ region: REGION }),
    cloudwatch: new CloudWatchClient({ region: REGION }),
    topology,
    endpoint: "AWS (eu-west-1)",
    readOnly: false,
    oldestAge: async () => 0,
  });
}

beforeEach(() => {
  sqsMock.reset();
  cloudwatchMock.reset();
  sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
  sqsMock.on(ListQueueTagsCommand).resolves({ Tags: {} });
  sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [] });
  cloudwatchMock.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
});

describe("GIVEN a console for a team's stack", () => {
  it("WHEN the overview is read THEN its topic and consumer cards are the stack's", async () => {
    const overview = await service().overview();

    expect(overview.topics).toEqual([
      {
        name: "orders",
        description: "an order was placed",
        messageType: "OrderPlaced v2",
        consumers: ["invoice", "ledger"],
      },
    ]);
    expect(overview.consumers.map((c) => [c.name, c.description, c.maxReceiveCount, c.queueName])).toEqual([
      ["invoice", "bills the customer", 4, "acme-orders-invoice"],
      ["ledger", "ledger consumer of orders", 7, "acme-orders-ledger"],
    ]);
    expect(overview.consumers[1]?.filterPolicy).toEqual({ region: ["eu"] });
  });

  it("WHEN rates are read THEN the consumer runtime's metrics come from the stack's namespace", async () => {
    await service().overview();

    const queries =
      cloudwatchMock.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries ?? [];
    const namespaces = new Set(
      queries.filter((q) => q.Id?.startsWith("c")).map((q) => q.MetricStat?.Metric?.Namespace),
    );
    expect(namespaces).toEqual(new Set(["acme"]));
  });

  it("WHEN a consumer of another stack is asked for THEN 404", async () => {
    await expect(service().triage("verification-email")).rejects.toMatchObject({ status: 404 });
  });

  it("WHEN a DLQ is triaged THEN a message SQS moved by itself is explained with the consumer's maxReceiveCount", async () => {
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [dlqMessage({ id: "m-1", type: "OrderPlaced", receiveCount: 5 })] })
      .resolves({ Messages: [] });

    const triage = await service().triage("invoice");

    expect(triage.groups[0]?.messages[0]?.reason).toBe("unknown: moved by SQS after 4 receives");
  });
});

describe("GIVEN the console's page as the package ships it", () => {
  let dir: string;
  let written: ConsoleAssets;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "courier-console-assets-"));
    const entry = fileURLToPath(new URL("../../packages/courier/src/console/web/main.tsx", import.meta.url));
    written = await writeConsoleAssets(entry, dir);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("WHEN written THEN the folder holds the hashed script and stylesheet and a manifest naming them", async () => {
    const files = (await readdir(dir)).sort();
    expect(files).toEqual(
      [
        written.scriptPath.replace("/assets/", ""),
        written.stylePath.replace("/assets/", ""),
        ASSETS_MANIFEST,
      ].sort(),
    );
    expect(files.filter((f) => /^app\.[0-9a-f]{12}\.(js|css)$/.test(f))).toHaveLength(2);
  });

  it("WHEN loaded from that folder THEN the same files are served, without bundling", async () => {
    const loaded = await loadConsoleAssets(dir);

    expect(loaded.scriptPath).toBe(written.scriptPath);
    expect(loaded.stylePath).toBe(written.stylePath);
    const script = loaded.files.get(loaded.scriptPath);
    expect(script?.contentType).toBe("text/javascript; charset=utf-8");
    expect(
      Buffer.from(script?.body ?? []).equals(await readFile(join(dir, written.scriptPath.slice(8)))),
    ).toBe(true);
  });
});
