/**
 * The SQS-trigger conformance cases (test/helpers/sqs-trigger-conformance.ts) timed on the test
 * kit (in-memory queue, manual clock) beside the same case on LocalStack through the local event
 * source, in one run: the wall time a team's test of that behaviour costs on each, and whether each
 * target conformed. The queue time a case spans (visibility timeouts, windows) is the same on both;
 * the kit spends none of it on the wall.
 *
 * Run alone: npx tsx bench/test-kit.bench.ts
 */
import { pathToFileURL } from "node:url";
import {
  CASES,
  type ConformanceTarget,
  memoryTarget,
  runCase,
} from "../test/helpers/sqs-trigger-conformance.ts";
import { localStackTarget } from "../test/integration/support/sqs-trigger-localstack.ts";
import type { BenchContext, Benchmark, BenchResult, Row } from "./lib/benchmark.ts";

async function timed(
  target: ConformanceTarget,
  c: (typeof CASES)[number],
): Promise<{ ms: number; ok: string }> {
  const started = performance.now();
  const observed = await runCase(target, c);
  const problems = c.check(observed);
  return { ms: performance.now() - started, ok: problems.length === 0 ? "yes" : problems.join("; ") };
}

async function measure(log: (line: string) => void = () => undefined): Promise<BenchResult> {
  const rows: Row[] = [];
  let kitTotal = 0;
  let localTotal = 0;
  for (const c of CASES) {
    const kit = await timed(memoryTarget(), c);
    const local = await timed(localStackTarget(), c);
    kitTotal += kit.ms;
    localTotal += local.ms;
    log(`${c.id}: kit ${kit.ms.toFixed(1)} ms, LocalStack ${local.ms.toFixed(0)} ms`);
    rows.push({
      case: c.id,
      "kit ms": Number(kit.ms.toFixed(1)),
      "LocalStack ms": Math.round(local.ms),
      "kit conforms": kit.ok,
      "LocalStack conforms": local.ok,
    });
  }
  rows.push({
    case: "all",
    "kit ms": Number(kitTotal.toFixed(1)),
    "LocalStack ms": Math.round(localTotal),
    "kit conforms": "",
    "LocalStack conforms": "",
  });
  return {
    rows,
    notes: [
      "Same cases, same local event source code; only the queue (in-memory vs LocalStack SQS) and the clock differ.",
      "LocalStack times include creating and deleting the case's queues; visibility timeouts are 1-3 s to keep them short.",
    ],
  };
}

export const benchmark: Benchmark = {
  name: "test-kit",
  description: "SQS-trigger cases on the test kit vs the same cases on LocalStack, per case",
  run: (context: BenchContext) => measure(context.log),
};
export default benchmark;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await measure((line) => console.log(line));
  console.table(result.rows);
  for (const note of result.notes ?? []) console.log(`- ${note}`);
}
