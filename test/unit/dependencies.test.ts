/**
 * What the package manifest promises. Failure modes covered: two Powertools versions installed side
 * by side (each bundle would carry two copies of its commons package), and a package only
 * benchmarks or tests use slipping back into the runtime dependencies.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(new URL("../../package-lock.json", import.meta.url), "utf8")) as {
  packages: Record<string, { version?: string }>;
};

describe("dependencies", () => {
  it("GIVEN the lockfile WHEN Powertools packages are listed THEN all are one version", () => {
    const versions = new Set(
      Object.entries(lock.packages)
        .filter(([path]) => /node_modules\/@aws-lambda-powertools\/[^/]+$/.test(path))
        .map(([, entry]) => entry.version),
    );
    expect([...versions]).toHaveLength(1);
  });

  it("GIVEN the manifest WHEN runtime dependencies are listed THEN test-only and benchmark-only packages are not among them", () => {
    for (const devOnly of [
      "jimp",
      "libphonenumber-js",
      "sqs-consumer",
      "aws-sdk-client-mock",
      "vitest",
      "@biomejs/biome",
    ]) {
      expect(Object.keys(manifest.dependencies)).not.toContain(devOnly);
    }
  });
});
