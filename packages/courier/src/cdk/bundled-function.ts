import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy, Stack, Token } from "aws-cdk-lib";
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
   * Tracing. "otel": an OpenTelemetry SDK (`startLambdaTracing` of `@courier-queue/courier/otel`)
   * is bundled and started ahead of the handler, the ADOT collector runs beside it as a Lambda
   * extension layer and forwards the spans to X-Ray, and Lambda's active tracing records the
   * invocation, whose X-Ray sampling decision the spans follow (by default 1 a second plus 5 % of
   * the rest). "none": no layer, no SDK in the bundle, no X-Ray permissions: tracing costs nothing.
   * @default "otel"
   */
  readonly tracing?: TracingMode;
  /**
   * The ADOT collector layer for `tracing: "otel"` (a layer version ARN in the function's region).
   * @default adotCollectorLayerArn(region, architecture): AWS's aws-otel-collector 0.117.0 layer
   */
  readonly otelCollectorLayer?: string;
  /**
   * Where the function's AWS SDK comes from. "bundled": the clients it imports are bundled from
   * the SDK's ES modules, tree-shaken to the commands it uses, pinned to the versions it was tested
   * with; only the credential providers a Lambda function never reaches stay external (and what
   * the code itself loads at run time, as the consumer runtime does S3 and CloudWatch). "runtime":
   * every `@aws-sdk/*` package is left to the copy in the Lambda runtime (NodejsFunction's default),
   * for smaller bundles that load slower (bench/cold-start.bench.ts).
   * @default "bundled"
   */
  readonly awsSdk?: AwsSdkSource;
}

/** How courier's functions are traced: OpenTelemetry to X-Ray, or not at all. */
export type TracingMode = "otel" | "none";
export const TRACING_MODES: readonly TracingMode[] = ["otel", "none"];

/** Where a function's AWS SDK comes from: its own bundle, or the Lambda runtime's copy. */
export type AwsSdkSource = "bundled" | "runtime";
export const AWS_SDK_SOURCES: readonly AwsSdkSource[] = ["bundled", "runtime"];

/**
 * The credential providers of the SDK's default chain that a Lambda function never reaches, left
 * external when the SDK is bundled. Lambda puts the execution role's credentials in environment
 * variables, which the chain's first provider (bundled) reads; the chain imports the others
 * dynamically, only when that one finds nothing: a bundle run off Lambda (`courier work --bundles`
 * with a profile's SSO or assume-role) then loads them from the installed SDK. Bundling them would
 * add ~95 KiB (their STS, SSO and sign-in clients among it) that no invocation runs.
 */
export const OFF_LAMBDA_CREDENTIAL_MODULES: readonly string[] = [
  "@aws-sdk/credential-provider-ini",
  "@aws-sdk/credential-provider-sso",
  "@aws-sdk/credential-provider-process",
  "@aws-sdk/credential-provider-web-identity",
  "@aws-sdk/credential-provider-http",
  "@aws-sdk/credential-provider-login",
  "@aws-sdk/nested-clients",
  "@aws-sdk/token-providers",
  "@smithy/credential-provider-imds",
];

/** The modules esbuild leaves external for an SDK source (native modules are added to these). */
export function awsSdkExternals(awsSdk: AwsSdkSource = "bundled"): string[] {
  return awsSdk === "runtime" ? ["@aws-sdk/*"] : [...OFF_LAMBDA_CREDENTIAL_MODULES];
}

/** Why this `awsSdk` value cannot deploy, or undefined when it can. */
export function awsSdkProblem(awsSdk: unknown): string | undefined {
  if (awsSdk === undefined || AWS_SDK_SOURCES.includes(awsSdk as AwsSdkSource)) return undefined;
  return `awsSdk must be "bundled" or "runtime", got ${JSON.stringify(awsSdk)}`;
}

/** AWS's account that publishes the ADOT Lambda layers, and the collector release courier pins. */
export const ADOT_LAYER_ACCOUNT = "901920570463";
export const ADOT_COLLECTOR_VERSION = "0-117-0";

/** AWS's ADOT collector layer (an extension that receives OTLP and exports to X-Ray) for a region. */
export function adotCollectorLayerArn(region: string, architecture: lambda.Architecture): string {
  const arch = architecture.name === lambda.Architecture.ARM_64.name ? "arm64" : "amd64";
  return `arn:aws:lambda:${region}:${ADOT_LAYER_ACCOUNT}:layer:aws-otel-collector-${arch}-ver-${ADOT_COLLECTOR_VERSION}:1`;
}

const LAYER_VERSION_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+$/;

/** Why these tracing props cannot deploy, or undefined when they can. */
export function tracingProblem(tracing: unknown, otelCollectorLayer: unknown): string | undefined {
  if (tracing !== undefined && !TRACING_MODES.includes(tracing as TracingMode)) {
    return `tracing must be "otel" or "none", got ${JSON.stringify(tracing)}`;
  }
  if (otelCollectorLayer === undefined) return undefined;
  if (tracing === "none") return 'otelCollectorLayer is set but tracing is "none": nothing would use it';
  if (
    typeof otelCollectorLayer !== "string" ||
    (!Token.isUnresolved(otelCollectorLayer) && !LAYER_VERSION_ARN.test(otelCollectorLayer))
  ) {
    return `otelCollectorLayer must be a Lambda layer version ARN (arn:aws:lambda:<region>:<account>:layer:<name>:<version>), got ${JSON.stringify(otelCollectorLayer)}`;
  }
  return undefined;
}

/**
 * The variables `tracing: "otel"` sets: the SDK exports OTLP/HTTP JSON to the collector extension
 * on localhost, whose default configuration sends traces to X-Ray.
 */
export const OTEL_LAMBDA_ENVIRONMENT: Readonly<Record<string, string>> = {
  OTEL_EXPORTER_OTLP_ENDPOINT: "http://localhost:4318",
  OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
  OTEL_PROPAGATORS: "tracecontext",
};

/** The OpenTelemetry packages `tracing: "otel"` bundles: optional peers of courier, the team installs them. */
export const OTEL_SDK_PACKAGES: readonly string[] = [
  "@opentelemetry/api",
  "@opentelemetry/sdk-trace",
  "@opentelemetry/core",
  "@opentelemetry/resources",
  "@opentelemetry/context-async-hooks",
  "@opentelemetry/exporter-trace-otlp-http",
];

/**
 * The SDK packages esbuild could not find from courier's install (where it resolves them when it
 * bundles `tracing: "otel"`): checked at synth, so a missing one is a clear error, not a bundling
 * failure deep in `cdk deploy`.
 */
export function missingOtelPackages(from: string = otelLambdaStartEntry()): string[] {
  const require = createRequire(from);
  return OTEL_SDK_PACKAGES.filter((name) => {
    try {
      require.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
}

/**
 * The module `tracing: "otel"` injects ahead of the handler: compiled JavaScript in an installed
 * package (dist/), TypeScript in courier's own repository (src/).
 */
export function otelLambdaStartEntry(): string {
  for (const extension of [".js", ".ts"]) {
    const path = fileURLToPath(new URL(`../otel/lambda-start${extension}`, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error("courier's otel/lambda-start module is missing beside its construct (a broken install?)");
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
  /** "otel" bundles the OpenTelemetry SDK and starts it ahead of the handler. @default "none" */
  readonly tracing?: TracingMode;
  /** @default "bundled" */
  readonly awsSdk?: AwsSdkSource;
}

/** `import { createRequire } ...`: CommonJS dependencies call require(); ESM output has none unless we make one. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __courierCreateRequire } from 'module';const require = __courierCreateRequire(import.meta.url);";

/**
 * CommonJS stand-ins for `node:http` and `node:https`, bundled in place of them. An ESM import of
 * node:http (the OTLP exporter's transport has one) builds the builtin's ESM facade, which reads every
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
 * courier's bundling of a function (minified ESM with source maps, the AWS SDK bundled unless
 * `awsSdk: "runtime"`): the one definition BundledFunction deploys and `lambdaEsbuildOptions` turns into
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
    // "module" first: the SDK's ES modules, which esbuild tree-shakes to the commands a function uses.
    mainFields: ["module", "main"],
    externalModules: awsSdkExternals(target.awsSdk),
    banner: ESM_REQUIRE_BANNER,
    ...(target.tracing === "otel" ? { inject: [otelLambdaStartEntry()] } : {}),
    esbuildArgs: {
      ...Object.fromEntries(Object.entries(BUILTIN_SHIMS).map(([from, to]) => [`--alias:${from}`, to])),
      // esbuild drops its default "module" condition once any custom condition is set (a team's
      // --conditions): the SDK's subpath exports (@smithy/core/client, ...) then resolve to their
      // CommonJS builds beside the ES modules the package entries give, two copies of the core in one
      // bundle. Named here, it stays; mergeBundling adds a team's conditions to it.
      "--conditions": "module",
    },
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
  /** esbuild's custom conditions (`--conditions`), "module" among them. */
  readonly conditions?: string[];
  /** Modules run ahead of the entry (the OpenTelemetry start of `tracing: "otel"`). */
  readonly inject?: string[];
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
  "inject",
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
  let conditions: string[] | undefined;
  for (const [flag, value] of Object.entries(bundling.esbuildArgs ?? {})) {
    if (flag === "--conditions" && typeof value === "string") {
      conditions = conditionList(value);
      continue;
    }
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
    ...(conditions ? { conditions } : {}),
    ...(bundling.inject && bundling.inject.length > 0 ? { inject: [...bundling.inject] } : {}),
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
    const problem =
      runtimeProblem(runtime) ??
      tracingProblem(props.tracing, props.otelCollectorLayer) ??
      awsSdkProblem(props.awsSdk);
    if (problem) throw new InvalidConstructPropsError(scope, id, problem);
    const tracing = props.tracing ?? "otel";
    const missing = tracing === "otel" ? missingOtelPackages() : [];
    if (missing.length > 0) {
      throw new InvalidConstructPropsError(
        scope,
        id,
        `tracing "otel" bundles the OpenTelemetry SDK, and ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not installed: npm install ${missing.join(" ")} (or set tracing: "none")`,
      );
    }
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
      // Active: Lambda records the invocation (the spans' parent) and grants X-Ray's writes.
      tracing: tracing === "otel" ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      ...(tracing === "otel"
        ? {
            layers: [
              lambda.LayerVersion.fromLayerVersionArn(
                this,
                "OtelCollectorLayer",
                props.otelCollectorLayer ?? adotCollectorLayerArn(Stack.of(this).region, architecture),
              ),
            ],
          }
        : {}),
      ...overrides,
      entry: props.entry,
      role,
      logGroup: this.logGroup,
      environment: {
        NODE_OPTIONS: "--enable-source-maps",
        ...(tracing === "otel" ? OTEL_LAMBDA_ENVIRONMENT : {}),
        ...overrideEnvironment,
        ...props.environment,
      },
      bundling: mergeBundling(
        lambdaBundling({ runtime, architecture, nativeModules, tracing, awsSdk: props.awsSdk ?? "bundled" }),
        overrideBundling,
        props.bundling,
      ),
    });
  }
}

/** `--conditions`' value as a list: comma-separated, as esbuild reads it. */
function conditionList(value: string): string[] {
  return value
    .split(",")
    .map((c) => c.trim())
    .filter(Boolean);
}

/**
 * Later options win, except `esbuildArgs`, which are merged flag by flag (an override that adds
 * one flag keeps courier's builtin aliases), and `--conditions`, whose lists are joined (a team's
 * condition keeps courier's "module").
 */
export function mergeBundling(...layers: Array<nodejs.BundlingOptions | undefined>): nodejs.BundlingOptions {
  let merged: nodejs.BundlingOptions = {};
  for (const layer of layers) {
    if (!layer) continue;
    const esbuildArgs = { ...merged.esbuildArgs, ...layer.esbuildArgs };
    const before = merged.esbuildArgs?.["--conditions"];
    const added = layer.esbuildArgs?.["--conditions"];
    if (typeof before === "string" && typeof added === "string") {
      esbuildArgs["--conditions"] = [...new Set([...conditionList(before), ...conditionList(added)])].join(
        ",",
      );
    }
    merged = { ...merged, ...layer, esbuildArgs };
  }
  return merged;
}
