/**
 * Publishers cannot set courier's own message attributes.
 * Failure mode covered: a published `courier.lineage` (a redrive count of 0 dodges quarantine, and
 * a redrive loop would keep a payload's pointers alive past its expiry) or a forged
 * `courier.failure` reaching the queues.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineContract } from "../../packages/courier/src/lib/contracts/index.ts";
import { prepareMessage } from "../../packages/courier/src/lib/publisher/envelope.ts";
import { ReservedAttributeError } from "../../packages/courier/src/lib/publisher/errors.ts";

const source = {
  producer: "api-server",
  now: () => new Date("2025-06-01T12:00:00.000Z"),
  newId: () => "00000000-0000-4000-8000-000000000001",
};

const contractSetting = (name: string) =>
  defineContract({
    type: "Order",
    version: 1,
    data: z.object({ id: z.string() }),
    filterAttributes: () => ({ [name]: '{"originalMessageId":"m","redriveCount":0}' }),
  });

describe("reserved attributes", () => {
  for (const name of ["courier.lineage", "courier.failure", "Courier.Lineage"]) {
    it(`GIVEN a contract whose filter attributes set ${name} WHEN a message is prepared THEN ReservedAttributeError names it`, () => {
      const prepare = () => prepareMessage("orders", contractSetting(name), { id: "1" }, source);
      expect(prepare).toThrow(ReservedAttributeError);
      expect(prepare).toThrow(name);
    });
  }

  it("GIVEN an ordinary filter attribute WHEN a message is prepared THEN it is set", () => {
    const message = prepareMessage("orders", contractSetting("region"), { id: "1" }, source);
    expect(message.attributes.region?.StringValue).toContain("redriveCount");
  });
});
