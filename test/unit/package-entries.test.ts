/**
 * What each entry point of @courier-queue/courier pulls in when imported, read from the sources'
 * import graph (type-only imports do not load anything). Failure modes covered: a producer or
 * consumer that installs the package loads aws-cdk-lib (163 MB) or the CLI's server stack; an
 * import of a package the installed tarball does not declare (works in this repository, breaks
 * for a team).
 */
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../packages/courier/", import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};

/** Static and dynamic imports that load code: `import type` and `export type` are left out. */
const LOADING =
  /(?:^|[\s;])(?:import|export)\s+(?!type\s)[^"'`;]*?from\s*["']([^"']+)["']|(?:^|[\s;])import\s*["']([^"']+)["']|(?:^|[^\w.])import\s*\(\s*["']([^"']+)["']\s*\)/gm;

function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

/** Every bare package the entry loads, following relative imports through the sources. */
function closure(entry: string, staticOnly = false): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, "utf8");
    for (const match of source.matchAll(LOADING)) {
      const dynamic = match[3] !== undefined;
      if (staticOnly && dynamic) continue;
      const spec = match[1] ?? match[2] ?? match[3];
      if (!spec) continue;
      if (spec.startsWith(".")) visit(normalize(join(dirname(file), spec)));
      else if (!spec.startsWith("node:")) packages.add(packageOf(spec));
    }
  };
  visit(join(root, entry));
  return packages;
}

const CDK = ["aws-cdk-lib", "constructs", "cdk-nag"];

describe("@courier-queue/courier entry points", () => {
  it("GIVEN the library entry WHEN imported THEN it loads no CDK, no CLI and no console server", () => {
    const loaded = [...closure("src/index.ts")];
    expect(
      loaded.filter((p) => [...CDK, "esbuild", "commander", "hono", "@hono/node-server"].includes(p)),
    ).toEqual([]);
    expect(loaded).toContain("zod");
    expect(loaded).toContain("@aws-sdk/client-sns");
  });

  it("GIVEN the worker entry WHEN imported THEN it loads no CDK", () => {
    expect([...closure("src/worker/index.ts")].filter((p) => CDK.includes(p))).toEqual([]);
  });

  it("GIVEN the testing entry WHEN imported THEN it loads no CDK, no CLI and no console server", () => {
    const loaded = [...closure("src/testing/index.ts")];
    expect(
      loaded.filter((p) => [...CDK, "esbuild", "commander", "hono", "@hono/node-server"].includes(p)),
    ).toEqual([]);
  });

  it("GIVEN the CLI entry WHEN imported THEN it loads no CDK, and esbuild only on demand", () => {
    expect([...closure("src/cli/index.ts")].filter((p) => CDK.includes(p))).toEqual([]);
    expect([...closure("src/cli/index.ts", true)]).not.toContain("esbuild");
  });

  it("GIVEN every entry WHEN its imports are listed THEN each package is a dependency or a peer of the package", () => {
    const declared = new Set([
      ...Object.keys(manifest.dependencies),
      ...Object.keys(manifest.peerDependencies),
    ]);
    const entries = [
      "src/index.ts",
      "src/cdk/index.ts",
      "src/worker/index.ts",
      "src/cli/index.ts",
      "src/testing/index.ts",
    ];
    const undeclared = entries.flatMap((entry) =>
      [...closure(entry)].filter((p) => !declared.has(p)).map((p) => `${entry}: ${p}`),
    );
    expect(undeclared).toEqual([]);
  });

  it("GIVEN the platform packages WHEN declared THEN aws-cdk-lib, constructs and zod are peers, the CDK ones optional", () => {
    expect(Object.keys(manifest.peerDependencies)).toEqual(
      expect.arrayContaining(["aws-cdk-lib", "constructs", "zod"]),
    );
    expect(manifest.dependencies).not.toHaveProperty("aws-cdk-lib");
    expect(manifest.dependencies).not.toHaveProperty("zod");
    expect(manifest.peerDependenciesMeta?.["aws-cdk-lib"]?.optional).toBe(true);
    expect(manifest.peerDependenciesMeta?.constructs?.optional).toBe(true);
    expect(manifest.peerDependenciesMeta?.zod?.optional).not.toBe(true);
  });
});
