/**
 * The layout is the architecture: each layer imports only from layers below it, so what ships
 * (library, deployment knowledge, worker, example app, CDK app, CLI) never depends on what only
 * serves a laptop (src/dev). Failure mode covered: an upward import slips in unnoticed.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { importsOf, LAYERS, layerOf, upwardImports } from "../helpers/layers.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|mjs)$/.test(name) && !name.endsWith(".d.ts") ? [path.split("\\").join("/")] : [];
  });
}

const shipped = ["src", "cdk", "lambdas", "scripts", "bin"].flatMap(sourceFiles);

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
    const planted = 'import { startLocalSystem } from "../../dev/local-system.ts";\n';
    expect(upwardImports("src/lib/consumer/planted.ts", planted)).toEqual([
      "src/lib/consumer/planted.ts (library) imports src/dev/local-system.ts (dev tooling)",
    ]);
  });

  it("GIVEN a dynamic import of a higher layer WHEN checked THEN it counts as an import", () => {
    const planted = 'const m = await import("../app/signup/config.ts");\n';
    expect(importsOf("src/worker/x.ts", planted)).toEqual(["src/app/signup/config.ts"]);
    expect(upwardImports("src/worker/x.ts", planted)).toHaveLength(1);
  });

  it("GIVEN the layer list WHEN read THEN it runs from the library up to dev tooling", () => {
    expect(LAYERS.map((l) => l.name)).toEqual([
      "library",
      "deployment",
      "worker",
      "example app",
      "cdk app",
      "console",
      "cli",
      "dev tooling",
      "entry",
    ]);
  });
});

// Keep these imported helpers honest for relative paths outside the tree too.
void dirname;
void posix;
void relative;
