/**
 * The bundles a stack deploys, run here: each consumer's handler module read from a synthesized
 * cloud assembly (`cdk synth`'s `cdk.out`), so a worker runs the very file Lambda would, not its
 * TypeScript sources. A bundling mistake (a dynamic import esbuild could not follow, a native module
 * left out, an ESM/CommonJS mix) then fails here, loudly, instead of first on Lambda.
 *
 * The assembly names each function's code by asset hash (the template's `Code.S3Key`); its asset
 * manifest maps the hash to the asset directory; the function's `Handler` names the file, and its
 * `COURIER_CONSUMER` variable the consumer. Native modules the asset carries for Lambda's platform
 * (sharp's linux-arm64 binary) resolve on this machine only when the assembly lies inside the
 * project, whose node_modules holds this machine's binary: keep `cdk.out` where `cdk synth` puts it.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ARCHIVE_ENV } from "../lib/archive/archiver-config.ts";
import { RUNTIME_ENV } from "../lib/runtime-env.ts";
import { ARCHIVE_WORKER_PREFIX } from "./archive-worker.ts";

/** An assembly that cannot be read, or that lacks the stack or a consumer's bundle. */
export class BundleNotFoundError extends Error {
  override readonly name = "BundleNotFoundError";
}

/**
 * A bundle that exists but cannot be imported (a module it needs is missing, a native binary will
 * not load, its top level throws): names the consumer (the function) and the cause.
 */
export class BundleImportError extends Error {
  override readonly name = "BundleImportError";
  constructor(
    readonly consumer: string,
    readonly modulePath: string,
    override readonly cause: unknown,
  ) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`the bundle of ${consumer} (${modulePath}) cannot load: ${reason}`, { cause });
  }
}

interface AssemblyManifest {
  readonly artifacts?: Record<
    string,
    {
      readonly type?: string;
      readonly displayName?: string;
      readonly properties?: {
        readonly templateFile?: string;
        readonly stackName?: string;
        readonly file?: string;
      };
    }
  >;
}

interface TemplateFunction {
  readonly Type?: string;
  readonly Properties?: {
    readonly Handler?: string;
    readonly Code?: { readonly S3Key?: unknown };
    readonly Environment?: { readonly Variables?: Record<string, unknown> };
  };
}

function readJson<T>(path: string, what: string): T {
  if (!existsSync(path))
    throw new BundleNotFoundError(`${what} not found: ${path} (run \`cdk synth\` first)`);
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch (error) {
    throw new BundleNotFoundError(`${what} is not JSON: ${path}: ${(error as Error).message}`);
  }
}

export interface BundledHandlerOptions {
  /** The cloud assembly directory (`cdk.out`). */
  readonly assemblyDir: string;
  /**
   * The stack whose functions to read. An assembly holding a single stack is used whatever its
   * name (a copy of a stack deployed under another name runs the same bundles).
   */
  readonly stackName: string;
}

/**
 * Each consumer's bundled handler module in a synthesized assembly, by consumer name (absolute
 * paths). Throws BundleNotFoundError when the assembly, the stack or a bundle file is missing.
 */
export function bundledHandlerModules(options: BundledHandlerOptions): Record<string, string> {
  const dir = resolve(options.assemblyDir);
  const manifest = readJson<AssemblyManifest>(join(dir, "manifest.json"), "cloud assembly manifest");
  const artifacts = Object.entries(manifest.artifacts ?? {});
  const stacks = artifacts.filter(([, a]) => a.type === "aws:cloudformation:stack");
  const named = stacks.find(
    ([id, a]) =>
      (a.properties?.stackName ?? a.displayName ?? id) === options.stackName || id === options.stackName,
  );
  const stack = named ?? (stacks.length === 1 ? stacks[0] : undefined);
  if (!stack) {
    throw new BundleNotFoundError(
      `stack "${options.stackName}" is not in the assembly ${dir} (it holds: ${stacks.map(([id]) => id).join(", ") || "no stack"})`,
    );
  }
  const [stackId, artifact] = stack;
  const templateFile = artifact.properties?.templateFile ?? `${stackId}.template.json`;
  const template = readJson<{ Resources?: Record<string, TemplateFunction> }>(
    join(dir, templateFile),
    "stack template",
  );
  const assetManifest = artifacts.find(
    ([id, a]) => a.type === "cdk:asset-manifest" && id === `${stackId}.assets`,
  )?.[1];
  const assets = readJson<{ files?: Record<string, { source?: { path?: string } }> }>(
    join(dir, assetManifest?.properties?.file ?? `${stackId}.assets.json`),
    "asset manifest",
  );
  const modules: Record<string, string> = {};
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== "AWS::Lambda::Function") continue;
    const variables = resource.Properties?.Environment?.Variables;
    // A consumer's function names its consumer; a topic's archiver its topic (worker `archive:<topic>`).
    const archived = variables?.[ARCHIVE_ENV.topic];
    const consumer =
      typeof archived === "string"
        ? `${ARCHIVE_WORKER_PREFIX}${archived}`
        : variables?.[RUNTIME_ENV.consumer];
    if (typeof consumer !== "string") continue;
    const key = resource.Properties?.Code?.S3Key;
    const hash = typeof key === "string" ? key.replace(/\.zip$/, "") : undefined;
    const assetPath = hash ? assets.files?.[hash]?.source?.path : undefined;
    if (!assetPath) {
      throw new BundleNotFoundError(
        `${consumer} (${logicalId}): its code is not a file asset of ${dir}; synthesize with bundling on`,
      );
    }
    const file = (resource.Properties?.Handler ?? "index.handler").replace(/\.[^.]+$/, "");
    const candidates = [".mjs", ".js", ".cjs"].map((ext) => join(dir, assetPath, `${file}${ext}`));
    const found = candidates.find((path) => existsSync(path));
    if (!found) {
      throw new BundleNotFoundError(
        `${consumer}: no bundle in ${join(dir, assetPath)} (looked for ${candidates.join(", ")}); was the stack synthesized with bundling skipped?`,
      );
    }
    modules[consumer] = found;
  }
  return modules;
}
