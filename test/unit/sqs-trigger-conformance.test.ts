/**
 * The SQS-trigger conformance cases (test/helpers/sqs-trigger-conformance.ts) on the test kit's
 * in-memory queue and clock, through courier's local event source. The same cases run on LocalStack
 * in test/integration/sqs-trigger-conformance.test.ts. Failure mode covered: the kit drifting from
 * Lambda's documented SQS trigger (each case names the behaviour and the page it follows).
 */
import { describe, expect, it } from "vitest";
import { CASES, memoryTarget, runCase } from "../helpers/sqs-trigger-conformance.ts";

describe("SQS trigger conformance: test kit", () => {
  for (const c of CASES) {
    it(`GIVEN ${c.id} WHEN run on the kit THEN ${c.behaviour}`, async () => {
      const observed = await runCase(memoryTarget(), c);
      expect(c.check(observed)).toEqual([]);
    });
  }
});
