/**
 * SQS keeps at most 10 message attributes per message. courier's messages carry the contract's
 * (type, version, filter fields), ExtendedPayloadSize on a pointer, `courier.failure` on a DLQ copy
 * and `courier.lineage` on a redriven copy; the trace context is in the envelope so that it takes
 * none of them. Failure mode: a contract whose worst-case message cannot keep its filter
 * attributes through a dead-letter and a redrive.
 */
import { describe, expect, it } from "vitest";
import {
  FAILURE_ATTRIBUTE,
  LINEAGE_ATTRIBUTE,
} from "../../packages/courier/src/lib/consumer/failure-attributes.ts";
import { PAYLOAD_SIZE_ATTRIBUTE } from "../../packages/courier/src/lib/payload-offloading/pointer.ts";
import { topics } from "../../src/topology.ts";

const SQS_MAX_MESSAGE_ATTRIBUTES = 10;

describe("the message attribute budget", () => {
  const contracts = Object.values(topics).flatMap((topic) =>
    topic.accepts.map((contract) => ({ topic: topic.name, contract })),
  );

  it.each(
    contracts.map(({ topic, contract }) => [`${topic}: ${contract.type} v${contract.version}`, contract]),
  )(
    "GIVEN %s WHEN a pointer to it is dead-lettered and redriven THEN its attributes still fit SQS's 10, with the trace in none of them",
    (_name, contract) => {
      const worstCase = [
        "type",
        "version",
        ...contract.filterAttributeNames,
        PAYLOAD_SIZE_ATTRIBUTE,
        FAILURE_ATTRIBUTE,
        LINEAGE_ATTRIBUTE,
      ];
      expect(new Set(worstCase).size).toBe(worstCase.length);
      expect(worstCase.length).toBeLessThanOrEqual(SQS_MAX_MESSAGE_ATTRIBUTES);
      expect(worstCase.some((name) => /trace|correlation/i.test(name))).toBe(false);
    },
  );
});
