/**
 * The SQS-trigger conformance cases (test/helpers/sqs-trigger-conformance.ts) on LocalStack's SQS
 * through courier's local event source: the same list the test kit passes in
 * test/unit/sqs-trigger-conformance.test.ts. Failure mode covered: the kit and the worker agreeing
 * with each other but not with a real SQS API (receive counts, visibility, redrive, FIFO groups).
 */
import { describe, expect, it } from "vitest";
import { CASES, runCase } from "../helpers/sqs-trigger-conformance.ts";
import { localStackTarget } from "./support/sqs-trigger-localstack.ts";

describe("SQS trigger conformance: local event source on LocalStack", () => {
  for (const c of CASES) {
    it(`GIVEN ${c.id} WHEN run on LocalStack THEN ${c.behaviour}`, { timeout: 90_000 }, async () => {
      const observed = await runCase(localStackTarget(), c);
      expect(c.check(observed)).toEqual([]);
    });
  }
});
