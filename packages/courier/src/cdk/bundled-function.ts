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
      bundling: {
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: `node${nodeMajorOf(runtime)}`,
        format: nodejs.OutputFormat.ESM,
        mainFields: ["module", "main"],
        // CommonJS dependencies call require(); ESM output has none unless we make one.
        banner:
          "import { createRequire as __courierCreateRequire } from 'module';const require = __courierCreateRequire(import.meta.url);",
        ...(nativeModules.length > 0
          ? { nodeModules: [...nativeModules], environment: npmPlatformEnvironment(architecture) }
          : {}),
        ...overrideBundling,
        ...props.bundling,
      },
    });
  }
}
