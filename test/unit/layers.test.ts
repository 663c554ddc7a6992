/**
 * The layout is the architecture: each layer imports only from layers below it, so what ships
 * (library, deployment knowledge, worker, example app, CDK app, CLI) never depends on what only
 * serves a laptop (src/dev). Failure mode covered: an upward import slips in unnoticed.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  importsOf,
  LAYERS,
  layerOf,
  PACKAGE_NAME,
  PUBLIC_ENTRIES,
  upwardImports,
} from "../helpers/layers.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx|mts|mjs|js)$/.test(name) && !name.endsWith(".d.ts") ? [path.split("\\").join("/")] : [];
  });
}

const shipped = [
  "packages/courier/src",
  "packages/courier/scripts",
  "packages/courier/bin",
  "src",
  "cdk",
  "lambdas",
  "scripts",
  "bin",
]
  .flatMap(sourceFiles)
  // The console's page runs in the browser and is bundled apart; it imports only its own files.
  .filter((file) => !file.startsWith("packages/courier/src/console/web/"));

describe("layers", () => {
  it("GIVEN every source file WHEN placed in a layer THEN each belongs to exactly one", () => {
    const unplaced = shipped.filter((file) => layerOf(file) === undefined);
    expect(unplaced).toEqual([]);
  });

  it("GIVEN the source tree WHEN its imports are read THEN none points to a higher layer", () => {
    const violations = shipped.flatMap((file) => upwardImports(file, readFileSync(join(root, file), "utf8")));
    expect(violations).toEqual([]);
  });

  it("GIVEN a planted upward import WHEN checked THEN it is reported with both layers", () => {
    const planted = 'import { runCli } from "../../cli/main.ts";\n';
    expect(upwardImports("packages/courier/src/lib/consumer/planted.ts", planted)).toEqual([
      "packages/courier/src/lib/consumer/planted.ts (library) imports packages/courier/src/cli/main.ts (cli)",
    ]);
  });

  it("GIVEN a package file importing the example WHEN checked THEN it is reported as leaving the package", () => {
    const planted = 'import { courierTopology } from "../../../../src/topology.ts";\n';
    expect(upwardImports("packages/courier/src/worker/planted.ts", planted)).toEqual([
      "packages/courier/src/worker/planted.ts (package) imports src/topology.ts, outside the package",
    ]);
  });

  it("GIVEN an example file importing package sources by path WHEN checked THEN it is told to use an entry point", () => {
    const planted = 'import { PermanentError } from "../../packages/courier/src/lib/consumer/errors.ts";\n';
    expect(upwardImports("lambdas/planted/handler.ts", planted)).toEqual([
      "lambdas/planted/handler.ts (example app) imports packages/courier/src/lib/consumer/errors.ts by path; use a public entry point",
    ]);
  });

  it("GIVEN a deep import of the package by name WHEN checked THEN only the exported entries pass", () => {
    const deep = 'import { x } from "@courier-queue/courier/dist/lib/config.js";\n';
    const entry =
      'import { defineConsumer } from "@courier-queue/courier";\nimport { Courier } from "@courier-queue/courier/cdk";\n';
    expect(upwardImports("src/app/planted.ts", deep)).toHaveLength(1);
    expect(upwardImports("src/app/planted.ts", entry)).toEqual([]);
  });

  it("GIVEN a dynamic import of a higher layer WHEN checked THEN it counts as an import", () => {
    const planted = 'const m = await import("../cli/main.ts");\n';
    expect(importsOf("packages/courier/src/worker/x.ts", planted)).toEqual([
      "packages/courier/src/cli/main.ts",
    ]);
    expect(upwardImports("packages/courier/src/worker/x.ts", planted)).toHaveLength(1);
  });

  it("GIVEN the package's exports map WHEN read THEN its entries are exactly the public entry points", () => {
    const pkg = JSON.parse(readFileSync(join(root, "packages/courier/package.json"), "utf8")) as {
      exports: Record<string, unknown>;
    };
    const entries = Object.keys(pkg.exports)
      .filter((key) => key !== "./package.json")
      .map((key) => (key === "." ? PACKAGE_NAME : `${PACKAGE_NAME}/${key.slice(2)}`));
    expect(entries.sort()).toEqual([...PUBLIC_ENTRIES].sort());
  });

  it("GIVEN the layer list WHEN read THEN the package's run from the library up and the example's sit on top", () => {
    expect(LAYERS.map((l) => l.name)).toEqual([
      "library",
      "topology",
      "runtime",
      "testing",
      "constructs",
      "console",
      "cli",
      "package entry",
      "example app",
      "cdk app",
      "dev tooling",
      "entry",
    ]);
  });
});

// Keep these imported helpers honest for relative paths outside the tree too.
void dirname;
void posix;
void relative;
