import { defineConfig } from "vitest/config";

// Three layers, each runnable alone (npm run test:unit | test:cdk | test:integration).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts", "test/corpus/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        test: {
          name: "cdk",
          include: ["test/cdk/**/*.test.ts"],
          environment: "node",
          // Synthesizing a stack takes a few seconds on two cores, many more under load (nag.test.ts's
          // beforeAll synthesizes twice and timed out at the default 10 s hook timeout).
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/integration/global-setup.ts"],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // LocalStack on two cores: run files one after another so their timings stay sane.
          fileParallelism: false,
        },
      },
    ],
  },
});
