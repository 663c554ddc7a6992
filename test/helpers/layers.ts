/**
 * The project's layers, lowest first, as path prefixes. A file may import from its own layer and
 * from any layer listed before it. README's "Layout" section describes the same list.
 */
import { posix } from "node:path";

export interface Layer {
  readonly name: string;
  readonly paths: readonly string[];
}

export const LAYERS: readonly Layer[] = [
  { name: "library", paths: ["src/lib/", "src/types/"] },
  { name: "deployment", paths: ["src/deployment/"] },
  { name: "worker", paths: ["src/worker/"] },
  { name: "example app", paths: ["src/app/", "lambdas/"] },
  { name: "cdk app", paths: ["cdk/"] },
  // The operator console's server and page: reads the deployment, acts through the library.
  { name: "console", paths: ["src/console/"] },
  { name: "cli", paths: ["src/cli/"] },
  { name: "dev tooling", paths: ["src/dev/", "scripts/"] },
  // The executable's composition root: the operator CLI plus the dev-only commands.
  { name: "entry", paths: ["src/main.ts", "bin/"] },
];

export function layerOf(file: string): number | undefined {
  const index = LAYERS.findIndex((layer) => layer.paths.some((p) => file === p || file.startsWith(p)));
  return index < 0 ? undefined : index;
}

const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s[^"'`;]*?from\s*["']([^"']+)["']|(?:^|[^\w.])import\s*\(\s*["']([^"']+)["']\s*\)/gm;

/** Repository-relative paths of the relative modules a file imports, statically or dynamically. */
export function importsOf(file: string, source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(SPECIFIER)) {
    const spec = match[1] ?? match[2];
    if (spec?.startsWith(".")) found.push(posix.normalize(posix.join(posix.dirname(file), spec)));
  }
  return found;
}

export function upwardImports(file: string, source: string): string[] {
  const own = layerOf(file);
  if (own === undefined) return [];
  return importsOf(file, source).flatMap((target) => {
    const theirs = layerOf(target);
    if (theirs === undefined || theirs <= own) return [];
    return [`${file} (${LAYERS[own]?.name}) imports ${target} (${LAYERS[theirs]?.name})`];
  });
}
