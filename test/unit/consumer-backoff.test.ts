import { describe, expect, it } from "vitest";
import {
  backoffCeilingSeconds,
  backoffSeconds,
  MAX_VISIBILITY_TIMEOUT_SECONDS,
} from "../../packages/courier/src/lib/consumer/index.ts";

const spec = { baseSeconds: 2, maxSeconds: 300 };
const almostOne = () => 1 - Number.EPSILON;

describe("backoffSeconds", () => {
  it("GIVEN growing receive counts WHEN the jitter is at its top THEN the delay doubles from baseSeconds (no flat retry)", () => {
    const delays = [1, 2, 3, 4, 5].map((n) => backoffSeconds(n, spec, almostOne));
    expect(delays).toEqual([2, 4, 8, 16, 32]);
  });

  it("GIVEN a receive count past the cap WHEN computing THEN the delay stops at maxSeconds (no runaway delay)", () => {
    expect(backoffSeconds(9, spec, almostOne)).toBe(300);
    expect(backoffSeconds(60, spec, almostOne)).toBe(300);
  });

  it("GIVEN maxSeconds above 12 h WHEN computing THEN the delay stops at SQS's visibility limit (SQS would refuse it)", () => {
    const generous = { baseSeconds: 60, maxSeconds: 10 * MAX_VISIBILITY_TIMEOUT_SECONDS };
    expect(backoffSeconds(30, generous, almostOne)).toBe(MAX_VISIBILITY_TIMEOUT_SECONDS);
    expect(backoffSeconds(5000, generous, almostOne)).toBe(MAX_VISIBILITY_TIMEOUT_SECONDS);
  });

  it("GIVEN jitter at its bottom WHEN computing THEN the delay is 0 (full jitter, not equal jitter)", () => {
    expect(backoffSeconds(4, spec, () => 0)).toBe(0);
  });

  it("GIVEN many random draws WHEN computing THEN every delay is a whole number within [0, ceiling] and spans it", () => {
    let seed = 42;
    // A small deterministic LCG: the test must not depend on Math.random.
    const lcg = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (const receiveCount of [1, 3, 6, 12]) {
      const ceiling = backoffCeilingSeconds(receiveCount, spec);
      const delays = Array.from({ length: 500 }, () => backoffSeconds(receiveCount, spec, lcg));
      const outOfBounds = delays.filter((d) => !Number.isInteger(d) || d < 0 || d > ceiling);
      expect(outOfBounds).toEqual([]);
      expect(Math.min(...delays)).toBeLessThanOrEqual(Math.ceil(ceiling * 0.1));
      expect(Math.max(...delays)).toBeGreaterThanOrEqual(Math.floor(ceiling * 0.9));
    }
  });

  it("GIVEN a random source that returns 1 or more WHEN computing THEN the delay still does not exceed the ceiling", () => {
    expect(backoffSeconds(3, spec, () => 1)).toBe(8);
    expect(backoffSeconds(3, spec, () => 7)).toBe(8);
  });

  it("GIVEN a receive count of 0 or less WHEN computing THEN it is treated as the first receive", () => {
    expect(backoffCeilingSeconds(0, spec)).toBe(2);
    expect(backoffCeilingSeconds(-3, spec)).toBe(2);
  });
});
