import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { InvalidConstructPropsError } from "./errors.ts";

export interface BundledFunctionProps {
  /** Path of the TypeScript module that exports the handler. */
  readonly entry: string;
  /**
   * Exported name of the handler function in `entry`.
   * @default "handler"
   */
  readonly handler?: string;
  /** @default - none */
  readonly description?: string;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default - no variables besides NODE_OPTIONS */
  readonly environment?: Record<string, string>;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Packages installed into the asset's node_modules instead of bundled, for packages with native
   * binaries (sharp). They are installed for the function's platform (linux, its architecture,
   * glibc), not the machine that synthesizes.
   * @default - everything is bundled
   */
  readonly nativeModules?: readonly string[];
  /** @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
  /**
   * A Node.js runtime, nodejs22.x or newer.
   * @default newestNodejsRuntime(): the newest Node.js LTS runtime the installed aws-cdk-lib knows
   */
  readonly runtime?: lambda.Runtime;
  /**
   * Escape hatch: NodejsFunction props merged over courier's (entry, role, log group and
   * environment stay courier's; add variables with `addEnvironment`).
   * @default - none
   */
  readonly functionProps?: Partial<nodejs.NodejsFunctionProps>;
  /**
   * Escape hatch: esbuild bundling options merged over courier's (minified ESM with source maps).
   * @default - none
   */
  readonly bundling?: nodejs.BundlingOptions;
  /**
   * X-Ray tracing. Active: Lambda samples invocations and records them, and continues the trace
   * an SQS message's AWSTraceHeader carries (SNS passes the publisher's on), so X-Ray links the
   * request's trace to each consumer's invocation; the handlers' Powertools Tracer adds the AWS
   * calls they make (the side effects) as subsegments. Costs X-Ray's per-trace price on sampled
   * invocations only (by default 1 a second plus 5 % of the rest).
   * @default lambda.Tracing.ACTIVE
   */
  readonly tracing?: lambda.Tracing;
}

/** npm settings that make `npm ci` fetch the optional native packages of another platform. */
export function npmPlatformEnvironment(architecture: lambda.Architecture): Record<string, string> {
  const cpu = architecture.name === lambda.Architecture.ARM_64.name ? "arm64" : "x64";
  return { npm_config_os: "linux", npm_config_cpu: cpu, npm_config_libc: "glibc" };
}

/**
 * The newest Node.js LTS runtime the installed aws-cdk-lib knows: nodejs26.x from aws-cdk-lib
 * 2.278, nodejs24.x before. cdk-nag's AwsSolutions-L1 flags any function on an older one.
 */
export function newestNodejsRuntime(): lambda.Runtime {
  return (
    (lambda.Runtime as unknown as { NODEJS_26_X?: lambda.Runtime }).NODEJS_26_X ?? lambda.Runtime.NODEJS_24_X
  );
}

/** What courier's bundling of a function depends on. */
export interface LambdaBundlingTarget {
  readonly runtime: lambda.Runtime;
  readonly architecture: lambda.Architecture;
  /** Installed into the asset's node_modules (and so external to the bundle), for native binaries. */
  readonly nativeModules?: readonly string[];
}

/** `import { createRequire } ...`: CommonJS dependencies call require(); ESM output has none unless we make one. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __courierCreateRequire } from 'module';const require = __courierCreateRequire(import.meta.url);";

/**
 * CommonJS stand-ins for `node:http` and `node:https`, bundled in place of them. An ESM import of
 * node:http (Powertools Tracer's provider has one) builds the builtin's ESM facade, which reads every
 * export and so wakes http's lazy undici getters: measured ~60 ms of each cold start on Node.js 26
 * (bench/cold-start.bench.ts). A require of the same module reads none; behaviour is unchanged.
 */
export const BUILTIN_SHIMS: Readonly<Record<string, string>> = Object.fromEntries(
  ["http", "https"].flatMap((name) => {
    const shim = fileURLToPath(new URL(`../../bundling/node-${name}.cjs`, import.meta.url));
    return [
      [name, shim],
      [`node:${name}`, shim],
    ];
  }),
);

/**
 * courier's bundling of a function (minified ESM with source maps, the AWS SDK left to the
 * runtime): the one definition BundledFunction deploys and `lambdaEsbuildOptions` turns into
 * esbuild's options for a benchmark or a local run of the same bundle.
 */
export function lambdaBundling(target: LambdaBundlingTarget): nodejs.BundlingOptions {
  const nativeModules = target.nativeModules ?? [];
  return {
    minify: true,
    sourceMap: true,
    sourcesContent: false,
    target: `node${nodeMajorOf(target.runtime)}`,
    format: nodejs.OutputFormat.ESM,
    mainFields: ["module", "main"],
    banner: ESM_REQUIRE_BANNER,
    esbuildArgs: Object.fromEntries(
      Object.entries(BUILTIN_SHIMS).map(([from, to]) => [`--alias:${from}`, to]),
    ),
    ...(nativeModules.length > 0
      ? { nodeModules: [...nativeModules], environment: npmPlatformEnvironment(target.architecture) }
      : {}),
  };
}

/** esbuild's build options (the subset these bundles use), so callers need no esbuild types. */
export interface LambdaEsbuildOptions {
  readonly bundle: true;
  readonly platform: "node";
  readonly format: "esm" | "cjs";
  readonly target: string;
  readonly minify: boolean;
  readonly sourcemap: boolean;
  readonly sourcesContent: boolean;
  readonly mainFields: string[];
  readonly external: string[];
  readonly banner?: { js: string };
  readonly define?: Record<string, string>;
  readonly alias?: Record<string, string>;
  /** The file name NodejsFunction gives the bundle: index.mjs for ESM, index.js for CommonJS. */
  readonly outputFileName: "index.mjs" | "index.js";
}

/** The bundling options `lambdaEsbuildOptions` knows how to translate; anything else is refused. */
const TRANSLATED_BUNDLING_KEYS = new Set([
  "minify",
  "sourceMap",
  "sourcesContent",
  "target",
  "format",
  "mainFields",
  "banner",
  "nodeModules",
  "externalModules",
  "environment",
  "define",
  "esbuildArgs",
]);

/**
 * The esbuild options NodejsFunction runs for these bundling options (its flags: --bundle,
 * --platform=node, --external for `externalModules` (default @aws-sdk/*) and `nodeModules`).
 * Throws on an option it does not translate, so a benchmark or local run never silently builds
 * something other than what deploys.
 */
export function lambdaEsbuildOptions(bundling: nodejs.BundlingOptions): LambdaEsbuildOptions {
  const unknown = Object.keys(bundling).filter(
    (key) =>
      !TRANSLATED_BUNDLING_KEYS.has(key) && bundling[key as keyof nodejs.BundlingOptions] !== undefined,
  );
  if (unknown.length > 0)
    throw new Error(`bundling options not translated to esbuild: ${unknown.join(", ")}`);
  const alias: Record<string, string> = {};
  for (const [flag, value] of Object.entries(bundling.esbuildArgs ?? {})) {
    const name = /^--alias:(.+)$/.exec(flag)?.[1];
    if (!name || typeof value !== "string") throw new Error(`esbuild argument not translated: ${flag}`);
    alias[name] = value;
  }
  const format = bundling.format === nodejs.OutputFormat.ESM ? "esm" : "cjs";
  return {
    bundle: true,
    platform: "node",
    format,
    target: bundling.target ?? "node22",
    minify: bundling.minify ?? false,
    sourcemap: bundling.sourceMap ?? false,
    sourcesContent: bundling.sourcesContent ?? true,
    mainFields: [...(bundling.mainFields ?? [])],
    external: [...(bundling.externalModules ?? ["@aws-sdk/*"]), ...(bundling.nodeModules ?? [])],
    ...(bundling.banner ? { banner: { js: bundling.banner } } : {}),
    ...(bundling.define ? { define: { ...bundling.define } } : {}),
    ...(Object.keys(alias).length > 0 ? { alias } : {}),
    outputFileName: format === "esm" ? "index.mjs" : "index.js",
  };
}

/** The oldest runtime a courier function may use (nodejs20.x is deprecated). */
const OLDEST_NODE_MAJOR = 22;

/** 24 for nodejs24.x; undefined for a runtime that is not Node.js. */
export function nodeMajorOf(runtime: lambda.Runtime): number | undefined {
  const match = /^nodejs(\d+)\.x$/.exec(runtime.name);
  return match ? Number(match[1]) : undefined;
}

/** Why the runtime cannot run a courier function, or undefined when it can. */
export function runtimeProblem(runtime: lambda.Runtime): string | undefined {
  const major = nodeMajorOf(runtime);
  if (major === undefined) return `runtime must be a Node.js runtime, got ${runtime.name}`;
  if (major < OLDEST_NODE_MAJOR) {
    return `runtime must be nodejs${OLDEST_NODE_MAJOR}.x or newer, got ${runtime.name}`;
  }
  return undefined;
}

/**
 * A Node.js function bundled by esbuild (minified ESM with source maps) with its own log group,
 * so retention is a plain CloudFormation property rather than the custom resource behind
 * `logRetention`.
 */
export class BundledFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BundledFunctionProps) {
    const memorySize = props.memorySize ?? 256;
    if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10_240) {
      throw new InvalidConstructPropsError(scope, id, `memorySize must be 128..10240 MB, got ${memorySize}`);
    }
    const runtime = props.functionProps?.runtime ?? props.runtime ?? newestNodejsRuntime();
    const problem = runtimeProblem(runtime);
    if (problem) throw new InvalidConstructPropsError(scope, id, problem);
    super(scope, id);
    const architecture = props.architecture ?? lambda.Architecture.ARM_64;
    const nativeModules = props.nativeModules ?? [];

    this.logGroup = new logs.LogGroup(this, "LogGroup", {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      // Logs of a deleted function are of no use; copies of the stack must clean up after themselves.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Its own role rather than the default one with AWSLambdaBasicExecutionRole, which may create any
    // log group and write to every one in the account: this role writes to its own log group only.
    const role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `Execution role of ${this.node.path}`,
    });
    this.logGroup.grantWrite(role);

    const {
      bundling: overrideBundling,
      environment: overrideEnvironment,
      ...overrides
    } = props.functionProps ?? {};
    this.function = new nodejs.NodejsFunction(this, "Function", {
      handler: props.handler ?? "handler",
      description: props.description,
      runtime,
      architecture,
      memorySize,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: props.tracing ?? lambda.Tracing.ACTIVE,
      ...overrides,
      entry: props.entry,
      role,
      logGroup: this.logGroup,
      environment: { NODE_OPTIONS: "--enable-source-maps", ...overrideEnvironment, ...props.environment },
      bundling: mergeBundling(
        lambdaBundling({ runtime, architecture, nativeModules }),
        overrideBundling,
        props.bundling,
      ),
    });
  }
}

/**
 * Later options win, except `esbuildArgs`, which are merged flag by flag: an override that adds
 * one flag (say `--conditions`) keeps courier's builtin aliases.
 */
function mergeBundling(...layers: Array<nodejs.BundlingOptions | undefined>): nodejs.BundlingOptions {
  let merged: nodejs.BundlingOptions = {};
  for (const layer of layers) {
    if (!layer) continue;
    merged = { ...merged, ...layer, esbuildArgs: { ...merged.esbuildArgs, ...layer.esbuildArgs } };
  }
  return merged;
}
