/**
 * What `npm install` put in a project's node_modules, from npm's hidden lockfile
 * (node_modules/.package-lock.json): every installed package and its size on disk, and which of
 * them are there only because of one dependency (those no other root dependency reaches).
 */
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface LockEntry {
  readonly version?: string;
  readonly link?: boolean;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

export interface PackageSize {
  /** The lockfile path, e.g. node_modules/@aws-sdk/client-sqs. */
  readonly path: string;
  readonly name: string;
  readonly bytes: number;
}

export interface Footprint {
  readonly packages: number;
  readonly bytes: number;
  readonly largest: readonly PackageSize[];
}

export interface InstallFootprint {
  /** Everything in node_modules. */
  readonly total: Footprint;
  /** What only `dependency` brought (not reachable from the project's other dependencies). */
  readonly addedBy: Footprint;
}

/** Bytes of a directory's files, not counting nested node_modules (those are packages of their own). */
function directoryBytes(dir: string): number {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) bytes += directoryBytes(path);
    else if (entry.isFile()) bytes += lstatSync(path).size;
  }
  return bytes;
}

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
}

/** Node's resolution over lockfile paths: the nearest node_modules/<name> from `from` upwards. */
function resolve(
  packages: Readonly<Record<string, LockEntry>>,
  from: string,
  name: string,
): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const cut = base.lastIndexOf("/node_modules/");
    base = cut < 0 ? "" : base.slice(0, cut);
  }
}

function reachable(packages: Readonly<Record<string, LockEntry>>, roots: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const queue = roots.flatMap((name) => resolve(packages, "", name) ?? []);
  while (queue.length > 0) {
    const path = queue.pop() as string;
    if (seen.has(path)) continue;
    seen.add(path);
    const entry = packages[path] ?? {};
    const names = [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      // An installed peer is used from here too.
      ...Object.keys(entry.peerDependencies ?? {}),
    ];
    for (const name of names) {
      const target = resolve(packages, path, name);
      if (target && !seen.has(target)) queue.push(target);
    }
  }
  return seen;
}

function footprint(sizes: readonly PackageSize[]): Footprint {
  return {
    packages: sizes.length,
    bytes: sizes.reduce((sum, s) => sum + s.bytes, 0),
    largest: [...sizes].sort((a, b) => b.bytes - a.bytes).slice(0, 5),
  };
}

export function installFootprint(projectDir: string, dependency: string): InstallFootprint {
  const lock = JSON.parse(readFileSync(join(projectDir, "node_modules/.package-lock.json"), "utf8")) as {
    packages: Record<string, LockEntry>;
  };
  const packages = lock.packages;
  const rootManifest = JSON.parse(readFileSync(join(projectDir, "package.json"), "utf8")) as LockEntry;
  const rootNames = [
    ...Object.keys(rootManifest.dependencies ?? {}),
    ...Object.keys(rootManifest.devDependencies ?? {}),
    ...Object.keys(rootManifest.optionalDependencies ?? {}),
  ];
  const installed = Object.keys(packages).filter((p) => p.startsWith("node_modules/") && !packages[p]?.link);
  const sizes = new Map(
    installed.map((path) => [
      path,
      { path, name: nameOf(path), bytes: directoryBytes(join(projectDir, path)) },
    ]),
  );
  const withoutIt = reachable(
    packages,
    rootNames.filter((n) => n !== dependency),
  );
  const added = installed.filter((p) => !withoutIt.has(p));
  return {
    total: footprint([...sizes.values()]),
    addedBy: footprint(added.flatMap((p) => sizes.get(p) ?? [])),
  };
}

export function mib(bytes: number): string {
  return (bytes / 1_048_576).toFixed(1);
}

export function describeFootprint(label: string, f: Footprint): string {
  const largest = f.largest.map((p) => `${p.name} ${mib(p.bytes)} MiB`).join(", ");
  return `${label}: ${f.packages} packages, ${mib(f.bytes)} MiB (largest: ${largest})`;
}
