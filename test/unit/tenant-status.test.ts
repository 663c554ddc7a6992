/**
 * Noisy tenants in `courier status` and the console, read from the runtime's TenantDwellTime
 * metric (recorded CloudWatch answers). Failure modes covered: "other" (the quiet tenants) listed
 * as a noisy tenant; metrics of another dimension set taken for a tenant's; a refused percentile
 * (LocalStack 4.14) losing the whole answer; an unreadable CloudWatch shown as "none" rather than
 * unknown; a held tenant missing from the status line.
 */
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from "@aws-sdk/client-cloudwatch";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { tenantLines } from "../../packages/courier/src/cli/commands/status.ts";
import {
  type ConsumerStatus,
  noisyTenantsFromCloudWatch,
} from "../../packages/courier/src/deployment/consumer-status.ts";

const cw = mockClient(CloudWatchClient);
beforeEach(() => cw.reset());

const dims = (tenant: string) => [
  { Name: "service", Value: "thumbnails" },
  { Name: "tenant", Value: tenant },
];

describe("GIVEN the runtime's TenantDwellTime metrics in CloudWatch", () => {
  it("WHEN read THEN named tenants with messages in 15 minutes are noisy, noisiest first; 'other' and other dimension sets are not", async () => {
    cw.on(ListMetricsCommand).resolves({
      Metrics: [
        { Dimensions: dims("acct-a") },
        { Dimensions: dims("acct-b") },
        { Dimensions: dims("other") },
        { Dimensions: [...dims("acct-c"), { Name: "region", Value: "x" }] },
        { Dimensions: dims("acct-idle") },
      ],
    });
    cw.on(GetMetricDataCommand).callsFake(
      (input: { MetricDataQueries: { Id: string; MetricStat: { Stat: string } }[] }) => ({
        MetricDataResults: input.MetricDataQueries.map((q) => ({
          Id: q.Id,
          Values:
            q.MetricStat.Stat === "SampleCount"
              ? (({ n0: [40], n1: [900], n2: [] } as Record<string, number[]>)[q.Id] ?? [])
              : [q.Id === "p1" ? 8123.4 : 950],
        })),
      }),
    );
    const noisy = await noisyTenantsFromCloudWatch(new CloudWatchClient({}), "courier")(
      "thumbnails",
      Date.now(),
    );
    expect(noisy).toEqual([
      { tenant: "acct-b", processed: 900, p95DwellMs: 8123 },
      { tenant: "acct-a", processed: 40, p95DwellMs: 950 },
    ]);
  });

  it("WHEN the percentile is refused (LocalStack) THEN the counts still come, p95 unknown", async () => {
    cw.on(ListMetricsCommand).resolves({ Metrics: [{ Dimensions: dims("acct-a") }] });
    cw.on(GetMetricDataCommand).callsFake(
      (input: { MetricDataQueries: { MetricStat: { Stat: string } }[] }) => {
        if (input.MetricDataQueries[0]?.MetricStat.Stat === "p95") throw new Error("'p95'");
        return { MetricDataResults: [{ Id: "n0", Values: [31] }] };
      },
    );
    const noisy = await noisyTenantsFromCloudWatch(new CloudWatchClient({}), "courier")(
      "thumbnails",
      Date.now(),
    );
    expect(noisy).toEqual([{ tenant: "acct-a", processed: 31, p95DwellMs: null }]);
  });

  it("WHEN CloudWatch cannot be read THEN the answer is unknown (null), not 'none'", async () => {
    cw.on(ListMetricsCommand).rejects(new Error("AccessDenied"));
    expect(await noisyTenantsFromCloudWatch(new CloudWatchClient({}), "courier")("thumbnails", 0)).toBeNull();
  });
});

describe("GIVEN statuses of consumers with tenants", () => {
  const base = {
    queue: { visible: 0, inFlight: 0, delayed: 0 },
    dlq: { visible: 0, inFlight: 0, delayed: 0 },
    oldestAgeSeconds: 0,
    dlqOldestAgeSeconds: 0,
  };
  it("WHEN printed THEN each tenant consumer has a line with its noisy and held tenants; others none", () => {
    const statuses: ConsumerStatus[] = [
      {
        ...base,
        consumer: "thumbnails",
        tenants: {
          noisy: [{ tenant: "acct-b", processed: 900, p95DwellMs: 8123 }],
          held: [{ tenant: "acct-x", state: "quarantined", since: "2026-12-06T10:00:00.000Z" }],
        },
      },
      { ...base, consumer: "account-export", tenants: { noisy: null, held: [] } },
      { ...base, consumer: "verification-email" },
    ];
    expect(tenantLines(statuses)).toEqual([
      "",
      "thumbnails: noisy tenants acct-b (900 in 15 min, p95 dwell 8.1 s); held: acct-x quarantined",
      "account-export: noisy tenants n/a (the TenantDwellTime metric could not be read)",
    ]);
  });
});
