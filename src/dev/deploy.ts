/**
 * Deploys the CDK app's own template to LocalStack's CloudFormation, minus what LocalStack cannot
 * run here (see local-template.ts), and reads the addresses back from the stack outputs. The local
 * topology is therefore what `cdk deploy` would create, not a second hand-written description.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  bundledHandlerModules,
  type DeployedTopology,
  topologyFromOutputs,
} from "@courier-queue/courier/worker";
import { App, type Stack } from "aws-cdk-lib";
import { CourierStack } from "../../cdk/stacks/courier-stack.ts";
import { LOCAL_DEPLOY_SETTINGS } from "../app/deployment/local-run.ts";
import { type DeployAction, deployTemplate } from "./cloudformation.ts";
import { type CfnTemplate, localTemplate, type Removed } from "./local-template.ts";
import { PROJECT_ROOT } from "./localstack.ts";

export { deleteStackOnLocalStack, readDeployedTopology } from "./cloudformation.ts";

/** Builds the stack to deploy into the given app; the default builds the courier stack. */
export type StackFactory = (app: App, stackName: string) => Stack;

// Settings for a local deploy. Only the functions' environments use them, and the functions are
// left out on LocalStack (the local runtime passes its own values), so placeholders suffice.
export { LOCAL_DEPLOY_SETTINGS };

/** The CDK app's own stack, exactly as `cdk deploy` would build it. */
export const buildCourierStack: StackFactory = (app, stackName) =>
  new CourierStack(app, stackName, { settings: LOCAL_DEPLOY_SETTINGS });

export interface LocalDeployOptions {
  readonly stackName: string;
  /** Builds the stack. @default buildCourierStack */
  readonly build?: StackFactory;
  /** @default AWS_ENDPOINT_URL or the harness's LocalStack */
  readonly endpoint?: string;
  /** @default 300 s */
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
  /**
   * A template `synthesizeTemplate` already made, deployed as is under `stackName` (a courier
   * template names no stack, so one synthesis serves many copies). @default synthesized now
   */
  readonly template?: CfnTemplate;
}

export interface LocalDeployment {
  readonly topology: DeployedTopology;
  readonly action: DeployAction;
  /** What the transform left out, with reasons. */
  readonly removed: readonly Removed[];
  readonly seconds: number;
}

function cdkJsonContext(): Record<string, unknown> {
  try {
    const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, "cdk.json"), "utf8")) as { context?: object };
    return { ...cdkJson.context };
  } catch {
    return {};
  }
}

/**
 * Synthesizes the stack in-process with asset bundling off (LocalStack does not run the functions,
 * so bundling them would only cost time) and returns its CloudFormation template.
 */
export function synthesizeTemplate(stackName: string, build: StackFactory): CfnTemplate {
  // cdk.json's context (feature flags) too, so the template is the one `cdk synth` makes.
  // Without CDK's built-in CloudFormation validation (most of a synthesis's time on two cores):
  // LocalStack's CloudFormation checks what it deploys, and `cdk synth` / `cdk deploy` still validate.
  const app = new App({
    context: { ...cdkJsonContext(), "aws:cdk:bundling-stacks": [] },
    builtinCloudFormationValidation: false,
  });
  build(app, stackName);
  return app.synth().getStackByName(stackName).template as CfnTemplate;
}

/**
 * Synthesizes the stack with asset bundling on, as `cdk synth` does, into `outdir`, and returns
 * each consumer's bundle (the files Lambda would run) for the workers to load instead of the sources.
 * `outdir` must lie inside the project: an asset's native modules are Lambda's platform's, and this
 * machine's binary resolves from the project's node_modules (packages/courier/src/worker/bundles.ts).
 */
export function synthesizeBundles(
  stackName: string,
  build: StackFactory,
  outdir: string,
): Record<string, string> {
  rmSync(outdir, { recursive: true, force: true });
  const app = new App({ outdir, context: cdkJsonContext(), builtinCloudFormationValidation: false });
  build(app, stackName);
  app.synth();
  return bundledHandlerModules({ assemblyDir: outdir, stackName });
}

/** Synthesizes, strips what LocalStack cannot run, deploys, and returns the deployed topology. */
export async function deployToLocalStack(options: LocalDeployOptions): Promise<LocalDeployment> {
  const started = performance.now();
  const full = options.template ?? synthesizeTemplate(options.stackName, options.build ?? buildCourierStack);
  const { template, removed } = localTemplate(full, { stackName: options.stackName });
  options.log?.(
    `deploying stack "${options.stackName}" (${Object.keys(template.Resources).length} resources; ` +
      `${removed.length} left out for LocalStack)`,
  );
  const { action, outputs } = await deployTemplate(options.stackName, template, {
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
  return {
    topology: topologyFromOutputs(options.stackName, outputs),
    action,
    removed,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}
