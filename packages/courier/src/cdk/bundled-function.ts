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
 * A Node.js 24 function bundled by esbuild (minified ESM with source maps) with its own log group,
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

    this.function = new nodejs.NodejsFunction(this, "Function", {
      entry: props.entry,
      role,
      handler: props.handler ?? "handler",
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture,
      memorySize,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: props.tracing ?? lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      environment: { NODE_OPTIONS: "--enable-source-maps", ...props.environment },
      bundling: {
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: "node24",
        format: nodejs.OutputFormat.ESM,
        mainFields: ["module", "main"],
        // CommonJS dependencies call require(); ESM output has none unless we make one.
        banner:
          "import { createRequire as __courierCreateRequire } from 'module';const require = __courierCreateRequire(import.meta.url);",
        ...(nativeModules.length > 0
          ? { nodeModules: [...nativeModules], environment: npmPlatformEnvironment(architecture) }
          : {}),
      },
    });
  }
}
