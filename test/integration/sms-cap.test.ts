/**
 * The SMS cap's counters on a real DynamoDB API (dynalite, as the local run uses; the idempotency
 * table's key schema, as deployed). Failure modes covered: concurrent sends to one number racing
 * past the cap (a read-then-write count would let them); one number's count spilling onto another;
 * a new day not starting afresh.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SmsRateLimitedError, takeSmsAllowance } from "../../src/app/signup/sms-cap.ts";
import {
  dynamoClient,
  ensureIdempotencyTable,
  ensureLocalDynamo,
  type LocalDynamo,
} from "../../src/dev/dynamodb-local.ts";

const table = `sms-cap-${randomBytes(4).toString("hex")}`;
let dynamo: LocalDynamo;
const cap = { perNumberPerDay: 3, perCountryPerDay: 5 };
const NOW = new Date("2026-11-28T10:00:00Z");

beforeAll(async () => {
  dynamo = await ensureLocalDynamo();
  await ensureIdempotencyTable(dynamo.endpoint, table);
});
afterAll(async () => {
  await dynamo?.close();
});

const deps = () => ({ dynamo: dynamoClient(dynamo.endpoint), table, cap });

async function outcomes(phones: string[], at = NOW) {
  const results = await Promise.allSettled(phones.map((p) => takeSmsAllowance(deps(), p, at)));
  return {
    granted: results.filter((r) => r.status === "fulfilled").length,
    refused: results.filter((r) => r.status === "rejected" && r.reason instanceof SmsRateLimitedError).length,
  };
}

describe("SMS cap counters on dynalite", () => {
  it("GIVEN 50 concurrent sends to one number WHEN counted THEN exactly the per-number cap is granted", async () => {
    expect(await outcomes(Array(50).fill("+14155550100"))).toEqual({ granted: 3, refused: 47 });
  });

  it("GIVEN sends to many numbers of one country code WHEN counted THEN the country's cap bounds them all", async () => {
    const phones = Array.from({ length: 20 }, (_, i) => `+4477009001${String(i).padStart(2, "0")}`);
    expect(await outcomes(phones)).toEqual({ granted: 5, refused: 15 });
  });

  it("GIVEN a number capped today WHEN the next UTC day comes THEN it gets its allowance again", async () => {
    expect(await outcomes(Array(4).fill("+33612345678"))).toEqual({ granted: 3, refused: 1 });
    expect(await outcomes(["+33612345678"], new Date("2026-11-29T00:00:01Z"))).toEqual({
      granted: 1,
      refused: 0,
    });
  });
});
