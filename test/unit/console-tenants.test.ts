/**
 * The console's consumer cards for a topic with tenants: its noisy tenants (from the runtime's
 * TenantDwellTime metric) and the tenants held on it (the queue's tags), read as `courier status`
 * reads them. Failure modes covered: a tenant consumer's card without them (an operator cannot see
 * who holds the consumer), a consumer without tenants given an empty tenants panel.
 */
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from "@aws-sdk/client-cloudwatch";
import { GetQueueAttributesCommand, ListQueueTagsCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { ConsoleService } from "../../packages/courier/src/console/console-service.ts";
import { topologyFromOutputs } from "../../packages/courier/src/deployment/deployed-topology.ts";
import { manifestOutputs, REGION } from "./manifest-fixtures.ts";

const sqsMock = mockClient(SQSClient);
const cloudwatchMock = mockClient(CloudWatchClient);

const topology = topologyFromOutputs(
  "acme-photos",
  manifestOutputs("acme-photos", {
    topics: [{ name: "uploads", current: { type: "Upload", version: 1 }, tenant: "accountId" }],
    consumers: [
      { name: "renditions", topic: "uploads", tenant: "accountId" },
      { name: "audit", topic: "uploads" },
    ],
    manifest: { metricsNamespace: "acme" },
  }),
);

beforeEach(() => {
  sqsMock.reset();
  cloudwatchMock.reset();
  sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
  sqsMock.on(ListQueueTagsCommand).resolves({
    Tags: { "courier:tenant:acct-9": "paused@2026-12-06T10:00:00.000Z" },
  });
  cloudwatchMock.on(ListMetricsCommand).resolves({
    Metrics: [
      {
        Dimensions: [
          { Name: "service", Value: "renditions" },
          { Name: "tenant", Value: "acct-7" },
        ],
      },
    ],
  });
  cloudwatchMock.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: { Id: string }[] }) => ({
    MetricDataResults: input.MetricDataQueries.map((q) => ({
      Id: q.Id,
      Values: q.Id === "n0" ? [1980] : q.Id === "p0" ? [8100] : [],
    })),
  }));
});

describe("GIVEN a console for a stack whose topic names a tenant", () => {
  it("WHEN the overview is read THEN the tenant consumer's card lists its noisy and held tenants, the other none", async () => {
    const service = new ConsoleService({
      sqs: new SQSClient({ region: REGION }),
      cloudwatch: new CloudWatchClient({ region: REGION }),
      topology,
      endpoint: "AWS (eu-west-1)",
      readOnly: true,
      oldestAge: async () => 0,
    });
    const overview = await service.overview();
    const renditions = overview.consumers.find((c) => c.name === "renditions");
    expect(renditions?.tenants).toEqual({
      noisy: [{ tenant: "acct-7", processed: 1980, p95DwellMs: 8100 }],
      held: [{ tenant: "acct-9", state: "paused", since: "2026-12-06T10:00:00.000Z" }],
    });
    expect(overview.consumers.find((c) => c.name === "audit")).not.toHaveProperty("tenants");
  });
});
