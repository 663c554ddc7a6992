/**
 * The soak with faults at CI size (test/soak/soak.ts; `npm run soak` runs it by hand at 10,000):
 * a private stack copy on LocalStack, sign-ups through the broadcast topology, consumers in worker
 * processes that fail at random (transient errors, timeout overruns) and are SIGKILLed and restarted
 * at random, poison pills, then the fix and a redrive. One run; each test states one guarantee.
 *
 * Failure modes covered: a message lost under faults or kills (deleted without its effect, never
 * delivered, or dead-lettered and forgotten); a side effect repeated without a crash to explain it
 * (idempotency not holding); a poison pill retried forever or dead-lettered without its reason; an
 * SMS for a sign-up without a phone; a worker process crashing on its own; a vacuous run.
 */
import { beforeAll, describe, expect, inject, it } from "vitest";
import { formatSoakTable, runSoak, SOAK_DEFAULTS, type SoakReport, soakProblems } from "../soak/soak.ts";
import { SOAK_CONSUMERS } from "../soak/soak-protocol.ts";

const MESSAGES = 200;
let report: SoakReport;

beforeAll(async () => {
  report = await runSoak({
    ...SOAK_DEFAULTS,
    messages: MESSAGES,
    // Poison pills at 2 %: four of them, so each consumer's DLQ path is exercised.
    poisonRate: 0.02,
    // A message in the hands of a SIGKILLed worker comes back after the visibility timeout, and
    // kills go on while the queues drain: the default 30 s made the drain most of this file's time.
    // 10 s still exceeds the 5 s function timeout (the event source extends it for longer work).
    visibilityTimeoutSeconds: 10,
    // A guard, not a timing assertion: on two busy cores the run takes a few minutes.
    drainDeadlineSeconds: 600,
    endpoint: inject("localstackEndpoint"),
    log: (line) => process.stderr.write(`[soak] ${line}\n`),
  });
  process.stdout.write(`${formatSoakTable(report)}\n`);
}, 1_500_000);

describe(`GIVEN ${MESSAGES} sign-ups soaked with transient errors, timeout overruns, SIGKILLs and poison pills`, () => {
  it("WHEN the run is examined THEN faults of every kind were really injected (the run is not vacuous)", () => {
    expect(report.published).toBe(MESSAGES);
    expect(report.faults["transient-before"] + report.faults["transient-after"]).toBeGreaterThan(0);
    expect(report.faults["timeout-before"] + report.faults["timeout-after"]).toBeGreaterThan(0);
    expect(report.faults.kills).toBeGreaterThan(0);
    expect(report.poison).toBeGreaterThan(0);
  });

  it("WHEN the queues are drained THEN every consumer has the effect of every sign-up meant for it", () => {
    for (const c of SOAK_CONSUMERS) {
      const f = report.consumers[c];
      expect(f.expected, c).toBeGreaterThan(0);
      expect({ consumer: c, delivered: f.delivered, lost: f.lost }).toEqual({
        consumer: c,
        delivered: f.expected,
        lost: 0,
      });
    }
  });

  it("WHEN the DLQs are read THEN every poison pill is there for every consumer meant for it, with its reason", () => {
    for (const c of SOAK_CONSUMERS) {
      const f = report.consumers[c];
      expect(f.poisonInDlq, c).toBe(f.poisonExpected);
    }
  });

  it("WHEN the DLQs are read after the fix and the redrive THEN nothing but poison pills is left", () => {
    for (const c of SOAK_CONSUMERS) expect(report.consumers[c].leftInDlq, c).toBe(0);
  });

  it("WHEN effects are counted THEN none is repeated except right after a SIGKILL between an effect and its record", () => {
    for (const c of SOAK_CONSUMERS) {
      const f = report.consumers[c];
      expect(f.duplicated - f.duplicatedAfterKill, c).toBe(0);
    }
  });

  it("WHEN SMS effects are read THEN only sign-ups with a phone got one, and no poison pill had an effect", () => {
    for (const c of SOAK_CONSUMERS) expect(report.consumers[c].misrouted, c).toBe(0);
  });

  it("WHEN worker exits are counted THEN no worker process died except by the soak's SIGKILL", () => {
    expect(report.faults.crashes).toBe(0);
  });

  it("WHEN every check is summed up THEN the soak reports no problem", () => {
    expect(soakProblems(report)).toEqual([]);
  });
});
