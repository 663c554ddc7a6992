/**
 * The project's layers, lowest first, as path prefixes: the package's own (packages/courier), then
 * the example application's, which sits on the package's public entry points only. A file may
 * import from its own layer and from any layer listed before it within its part; README's "Layout"
 * section describes the same lists.
 */
import { posix } from "node:path";

export interface Layer {
  readonly name: string;
  readonly paths: readonly string[];
}

export const PACKAGE_ROOT = "packages/courier/";
export const PACKAGE_NAME = "@courier-queue/courier";
/** What the package exports (its package.json "exports", without ./package.json). */
export const PUBLIC_ENTRIES = [
  PACKAGE_NAME,
  `${PACKAGE_NAME}/cdk`,
  `${PACKAGE_NAME}/worker`,
  `${PACKAGE_NAME}/cli`,
  `${PACKAGE_NAME}/testing`,
  `${PACKAGE_NAME}/otel`,
];

export const PACKAGE_LAYERS: readonly Layer[] = [
  { name: "library", paths: ["packages/courier/src/lib/"] },
  { name: "topology", paths: ["packages/courier/src/topology/", "packages/courier/src/deployment/"] },
  // Runs consumers and the redrive function: the worker mode and the Lambda handler the construct deploys.
  // The OpenTelemetry SDK start (`./otel`) sits here too: Lambda functions and workers run it.
  {
    name: "runtime",
    paths: [
      "packages/courier/src/worker/",
      "packages/courier/src/redrive-function/",
      "packages/courier/src/otel/",
      "packages/courier/src/archive-function/",
    ],
  },
  // The test kit: the runtime's event source on an in-memory queue and a clock the test moves.
  { name: "testing", paths: ["packages/courier/src/testing/"] },
  { name: "constructs", paths: ["packages/courier/src/cdk/"] },
  { name: "console", paths: ["packages/courier/src/console/"] },
  { name: "cli", paths: ["packages/courier/src/cli/"] },
  {
    name: "package entry",
    paths: ["packages/courier/src/index.ts", "packages/courier/scripts/", "packages/courier/bin/"],
  },
];

export const EXAMPLE_LAYERS: readonly Layer[] = [
  { name: "example app", paths: ["src/app/", "src/topology.ts", "lambdas/"] },
  { name: "cdk app", paths: ["cdk/"] },
  { name: "dev tooling", paths: ["src/dev/", "src/types/", "scripts/"] },
  // The executable's composition root: the package's operator CLI plus the dev-only commands.
  { name: "entry", paths: ["src/main.ts", "bin/"] },
];

export const LAYERS: readonly Layer[] = [...PACKAGE_LAYERS, ...EXAMPLE_LAYERS];

function indexIn(layers: readonly Layer[], file: string): number | undefined {
  const index = layers.findIndex((layer) => layer.paths.some((p) => file === p || file.startsWith(p)));
  return index < 0 ? undefined : index;
}

/** The file's layer, as an index into LAYERS. */
export function layerOf(file: string): number | undefined {
  return indexIn(LAYERS, file);
}

const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s[^"'`;]*?from\s*["']([^"']+)["']|(?:^|[^\w.])import\s*\(\s*["']([^"']+)["']\s*\)/gm;

function specifiersOf(source: string): string[] {
  return [...source.matchAll(SPECIFIER)].flatMap((match) => {
    const spec = match[1] ?? match[2];
    return spec ? [spec] : [];
  });
}

/** Repository-relative paths of the relative modules a file imports, statically or dynamically. */
export function importsOf(file: string, source: string): string[] {
  return specifiersOf(source)
    .filter((spec) => spec.startsWith("."))
    .map((spec) => posix.normalize(posix.join(posix.dirname(file), spec)));
}

/** Imports that break the layering: upward within a part, across the package boundary, or deep into the package. */
export function upwardImports(file: string, source: string): string[] {
  const own = layerOf(file);
  if (own === undefined) return [];
  const inPackage = file.startsWith(PACKAGE_ROOT);
  const problems: string[] = [];
  for (const target of importsOf(file, source)) {
    const targetInPackage = target.startsWith(PACKAGE_ROOT);
    if (inPackage && !targetInPackage) {
      problems.push(`${file} (package) imports ${target}, outside the package`);
      continue;
    }
    if (!inPackage && targetInPackage) {
      problems.push(`${file} (${LAYERS[own]?.name}) imports ${target} by path; use a public entry point`);
      continue;
    }
    const theirs = layerOf(target);
    if (theirs === undefined || theirs <= own) continue;
    problems.push(`${file} (${LAYERS[own]?.name}) imports ${target} (${LAYERS[theirs]?.name})`);
  }
  for (const spec of specifiersOf(source)) {
    if (spec.startsWith(PACKAGE_NAME) && !PUBLIC_ENTRIES.includes(spec)) {
      problems.push(`${file} imports ${spec}, which is not one of the package's entry points`);
    }
  }
  return problems;
}
