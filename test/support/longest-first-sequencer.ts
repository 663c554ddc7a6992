/**
 * Starts the longest test files first, so files running side by side end together instead of one
 * long file starting last and running alone. Vitest's own order does this from its results cache
 * (node_modules/.vite), which a clean clone (CI) has not got; there it falls back to file size, and
 * the soak's short file (it drives test/soak/soak.ts) would start last. So: files named here first,
 * in this order, then Vitest's order for the rest.
 */
import { BaseSequencer, type TestSpecification } from "vitest/node";

// The slowest integration files, slowest first (seconds each, alone, on two cores, Nov 2026). Keep
// to the few longer than the run divided by its workers; the order of the rest hardly matters.
const START_FIRST = [
  "test/integration/soak.test.ts",
  "test/integration/poison-pill.test.ts",
  "test/integration/worker-shutdown.test.ts",
  "test/integration/redrive.test.ts",
  "test/integration/system.test.ts",
  "test/integration/work-queue-worker.test.ts",
  "test/integration/ordered-work.test.ts",
  // CPU-heavy (npm pack, tsc on two configs): started after the files whose timing it would squeeze.
  "test/integration/adoption.test.ts",
];

function rank(spec: TestSpecification): number {
  const index = START_FIRST.findIndex((file) => spec.moduleId.endsWith(file));
  return index === -1 ? START_FIRST.length : index;
}

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    // Array.prototype.sort is stable: files not named keep Vitest's order among themselves.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
