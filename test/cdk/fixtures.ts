/**
 * Shared by the CDK tests: one way to build the stack (bundling off) and small readers over the
 * synthesized template, so each test states its invariant rather than template plumbing.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, type CfnElement, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type { IConstruct } from "constructs";
import { acknowledgeExampleNagFindings, addNagChecks } from "../../cdk/nag-suppressions.ts";
import { CourierStack } from "../../cdk/stacks/courier-stack.ts";
import type { Courier } from "../../packages/courier/src/cdk/courier.ts";
import type { PayloadBucket } from "../../packages/courier/src/cdk/payload-bucket.ts";
import type { DeploySettings } from "../../src/app/deployment/deploy-settings.ts";
import type { ConsumerName, TopicName } from "../../src/topology.ts";

// CDK's built-in CloudFormation validation adds ~25 s per synth on two cores and can only warn here;
// `npm run synth` still runs it.
process.env.CDK_VALIDATION = "false"; // same as App({ builtinCloudFormationValidation: false })

export const TEST_SETTINGS: DeploySettings = {
  mailFrom: "Courier <no-reply@courier.example.com>",
  verifyUrlBase: "https://app.courier.example.com/verify",
  teamWebhookUrl: "https://hooks.courier.example.com/services/T000/B000",
};

/** An App that skips asset bundling: templates only, no esbuild runs. */
export function appWithoutBundling(): App {
  return new App({ context: { "aws:cdk:bundling-stacks": [] } });
}

export interface SynthesizedCourier {
  readonly stack: CourierStack;
  /** The stack's Courier construct, typed by the example's names. */
  readonly courier: Courier<TopicName, ConsumerName>;
  /** The construct's idempotency table (the example's consumers need one). */
  readonly idempotencyTable: dynamodb.Table;
  /** The construct's payload bucket (account-exports offloads). */
  readonly payloadBucket: PayloadBucket;
  readonly template: Template;
  readonly json: CfnTemplate;
}

export function synthCourierStack(stackName = "courier-test"): SynthesizedCourier {
  const stack = new CourierStack(appWithoutBundling(), stackName, { settings: TEST_SETTINGS });
  const template = Template.fromStack(stack);
  const courier = stack.courier as unknown as Courier<TopicName, ConsumerName>;
  if (!courier.idempotencyTable || !courier.payloadBucket) throw new Error("the example's stack has both");
  return {
    stack,
    courier,
    idempotencyTable: courier.idempotencyTable,
    payloadBucket: courier.payloadBucket,
    template,
    json: template.toJSON() as CfnTemplate,
  };
}

export interface NagFinding {
  readonly rule: string;
  readonly severity: string;
  readonly path: string;
}

interface ValidationReport {
  pluginReports: Array<{
    pluginName: string;
    violations: Array<{
      ruleName: string;
      severity: string;
      violatingConstructs: Array<{ constructPath?: string }>;
    }>;
  }>;
}

/**
 * Synthesizes a stack (bundling off) under cdk-nag's AwsSolutions pack, as cdk/app.ts does, and
 * returns what the pack reported. A finding makes synth throw, as it makes `cdk synth` fail; the
 * report is on disk either way.
 */
export function nagFindings<S extends Stack>(
  build: (app: App) => S,
  acknowledge: boolean | ((stack: S) => void),
): { findings: NagFinding[]; stack: S } {
  const outdir = mkdtempSync(join(tmpdir(), "courier-nag-"));
  try {
    const app = new App({ outdir, context: { "aws:cdk:bundling-stacks": [] } });
    const stack = build(app);
    addNagChecks(app);
    if (typeof acknowledge === "function") acknowledge(stack);
    else if (acknowledge) acknowledgeExampleNagFindings(stack as unknown as CourierStack);
    try {
      app.synth();
    } catch (error) {
      if ((error as Error).name !== "ValidationFailed") throw error;
    }
    const report = JSON.parse(
      readFileSync(join(outdir, "validation-report.json"), "utf8"),
    ) as ValidationReport;
    const findings = report.pluginReports
      .filter((r) => r.pluginName === "AwsSolutions")
      .flatMap((r) =>
        r.violations.flatMap((v) =>
          v.violatingConstructs.map((c) => ({
            rule: v.ruleName,
            severity: v.severity,
            path: c.constructPath ?? "?",
          })),
        ),
      );
    return { findings, stack };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
  [key: string]: unknown;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown }>;
  [key: string]: unknown;
}

export interface PolicyStatement {
  Effect: "Allow" | "Deny";
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** The logical id CloudFormation knows a construct's main resource by. */
export function logicalId(construct: IConstruct): string {
  const child = construct.node.defaultChild ?? construct;
  return Stack.of(construct).getLogicalId(child as CfnElement);
}

export function resourcesOfType(json: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(json.Resources).filter(([, r]) => r.Type === type);
}

export function resource(json: CfnTemplate, id: string): CfnResource {
  const found = json.Resources[id];
  if (!found) throw new Error(`template has no resource ${id}`);
  return found;
}

export function props(json: CfnTemplate, id: string): Record<string, unknown> {
  return resource(json, id).Properties ?? {};
}

export function actionsOf(statement: PolicyStatement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

export function resourcesOf(statement: PolicyStatement): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** Every statement of every inline IAM policy attached to the role. */
export function roleStatements(json: CfnTemplate, roleId: string): PolicyStatement[] {
  // With many grants CDK moves what exceeds a role's inline policy size into an attached managed
  // "OverflowPolicy" (the redrive role, which names every queue): both are the role's rights.
  return [...resourcesOfType(json, "AWS::IAM::Policy"), ...resourcesOfType(json, "AWS::IAM::ManagedPolicy")]
    .filter(([, p]) => JSON.stringify(p.Properties?.Roles ?? []).includes(`"${roleId}"`))
    .flatMap(([, p]) => policyStatements(p));
}

/**
 * The one statement active X-Ray tracing adds to a function's role: its two write actions, on "*"
 * (they take no resource ARN). Held exactly (test/cdk/tracing.test.ts), and set aside by the
 * least-privilege checks, which would otherwise see a Resource "*".
 */
export function isXrayWriteStatement(statement: PolicyStatement): boolean {
  const actions = [...actionsOf(statement)].sort();
  return (
    statement.Effect === "Allow" &&
    actions.length === 2 &&
    actions[0] === "xray:PutTelemetryRecords" &&
    actions[1] === "xray:PutTraceSegments" &&
    statement.Resource === "*"
  );
}

/** The statements of an IAM, queue, topic or bucket policy resource. */
export function policyStatements(policy: CfnResource): PolicyStatement[] {
  const document = policy.Properties?.PolicyDocument as { Statement?: PolicyStatement[] } | undefined;
  return document?.Statement ?? [];
}

/** A resource reference as the template writes it, for comparing IAM resources and policies. */
export const ref = (id: string) => ({ Ref: id });
export const arnOf = (id: string) => ({ "Fn::GetAtt": [id, "Arn"] });

/**
 * Reads a JSON document that CloudFormation assembles with Fn::Join (a manifest output), keeping
 * the tokens as objects; a plain string is parsed as it is.
 */
export function parseJoinedJson(value: unknown): unknown {
  if (typeof value === "string") return JSON.parse(value);
  const parts = (value as { "Fn::Join": [string, unknown[]] })["Fn::Join"][1];
  const tokens: unknown[] = [];
  const source = parts
    .map((part) => {
      if (typeof part === "string") return part;
      tokens.push(part);
      return `@token${tokens.length - 1}@`;
    })
    .join("");
  return JSON.parse(source, (_key, v: unknown) => {
    const m = typeof v === "string" ? /^@token(\d+)@$/.exec(v) : null;
    return m ? tokens[Number(m[1])] : v;
  });
}

/** A fake deployed value for a token: `ref:<id>`, `arn:fake:<id>` for an Arn, `<attr>:<id>` else. */
export function fakeValue(token: unknown): string {
  if (typeof token === "string") return token;
  const record = token as Record<string, unknown>;
  if (typeof record.Ref === "string") return `ref:${record.Ref}`;
  const getAtt = record["Fn::GetAtt"] as [string, string] | undefined;
  if (getAtt) return getAtt[1] === "Arn" ? `arn:fake:${getAtt[0]}` : `${getAtt[1]}:${getAtt[0]}`;
  if (record["Fn::Join"]) {
    const [sep, parts] = record["Fn::Join"] as [string, unknown[]];
    return parts.map(fakeValue).join(sep);
  }
  return JSON.stringify(token);
}

/** The stack's outputs as CloudFormation would report them, every token replaced by `fakeValue`. */
export function fakeOutputs(json: CfnTemplate): Record<string, string> {
  return Object.fromEntries(
    Object.entries(json.Outputs ?? {}).map(([key, output]) => [key, fakeValue(output.Value)]),
  );
}
