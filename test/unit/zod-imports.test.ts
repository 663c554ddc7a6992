/**
 * zod bound as `import { z } from "zod"` makes esbuild keep zod's whole namespace, every locale
 * included (443 KiB of a Lambda bundle against 83 KiB for `import * as z from "zod"`, measured by
 * bench/cold-start.bench.ts). The package and the example code its Lambda bundles load import it as
 * a namespace.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const bundledSources = [
  "packages/courier/src/lib",
  "packages/courier/src/topology",
  "packages/courier/src/deployment",
  "src/app/contracts",
  "src/app/signup",
  "src/app/images",
  "src/app/exports",
  "src/app/password-reset",
  "lambdas",
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

describe("zod imports in code that Lambda bundles load", () => {
  it("GIVEN the package and the example's consumer code WHEN scanned THEN none binds zod as { z }", () => {
    const offenders = bundledSources
      .flatMap((dir) => sourceFiles(join(root, dir)))
      .filter((file) =>
        /^import\s*\{[^}]*\bz\b[^}]*\}\s*from\s*["']zod["']/m.test(readFileSync(file, "utf8")),
      )
      .map((file) => relative(root, file));
    expect(offenders).toEqual([]);
  });
});
