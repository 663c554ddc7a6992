import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";
import { LongestFirstSequencer } from "./test/support/longest-first-sequencer.ts";

// Three layers, each runnable alone (npm run test:unit | test:cdk | test:integration).
// @courier-queue/courier resolves to its TypeScript sources here (its exports map's
// "courier-source" condition), as it does for tsx and tsc in this repository.
const conditions = ["courier-source", ...defaultServerConditions.filter((c) => c !== "module")];

export default defineConfig({
  ssr: { resolve: { conditions } },
  test: {
    // Most of an integration file's time is waiting (long polls, visibility timeouts, worker
    // processes starting), so more files than cores run at once; Vitest's default here would be
    // cores - 1 = one. COURIER_TEST_WORKERS overrides it (1 runs every file alone).
    maxWorkers: Number(process.env.COURIER_TEST_WORKERS ?? 6),
    sequence: { sequencer: LongestFirstSequencer },
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts", "test/corpus/**/*.test.ts"],
          environment: "node",
          // Files share worker processes and their loaded modules (about half this layer's time
          // was each file importing the AWS SDK and Powertools again); SDK mocks are restored
          // after each file.
          isolate: false,
          setupFiles: ["test/support/restore-sdk-mocks.ts"],
          // A guard against a hung test, not a speed check: the example API's tests (scrypt, HTTP)
          // took over 5 s on two loaded cores while taking under one alone.
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: "cdk",
          include: ["test/cdk/**/*.test.ts"],
          environment: "node",
          // One aws-cdk-lib load per worker process instead of one per file.
          isolate: false,
          setupFiles: ["test/support/restore-sdk-mocks.ts"],
          // Synthesizing a stack takes a few seconds on two cores, many more under load (nag.test.ts's
          // beforeAll synthesizes twice and timed out at the default 10 s hook timeout).
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/integration/global-setup.ts"],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // Files run side by side against one LocalStack: each deploys its own stack copy (or
          // creates its own queues), so none sees another's messages; this gives each its own
          // DynamoDB-API port and short worker long-polls.
          setupFiles: ["test/integration/support/per-file-environment.ts"],
        },
      },
    ],
  },
});
