/**
 * cdk-nag's AwsSolutions checks on the courier stack, and the findings courier accepts, each with
 * its reason. Everything else cdk-nag reports fails `cdk synth` and the CDK tests: a finding is
 * either fixed in the stack or acknowledged here, where a reviewer sees why.
 *
 * cdk-nag 3 runs as a CDK policy-validation plugin, and acknowledgements use CDK's own
 * `Validations.of(construct).acknowledge()` (the v3 replacement of `NagSuppressions`). Each
 * acknowledgement names one finding exactly (`Rule[Finding]`), so a new wildcard or a new
 * resource is a new finding rather than being swept in by an earlier one.
 */
import { type App, type CfnElement, Stack, Validations } from "aws-cdk-lib";
import type { CfnFunction } from "aws-cdk-lib/aws-lambda";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { needsOf } from "../packages/courier/src/deployment/consumer-needs.ts";
import type { ConsumerSpec } from "../src/topology.ts";
import { payloadPrefix } from "../packages/courier/src/lib/payload-offloading/payload-store.ts";
import type { CourierStack } from "./stacks/courier-stack.ts";

export interface NagAcknowledgement {
  /** The construct the finding is on (its children are covered too). */
  readonly construct: IConstruct;
  /** The rule, and for rules with several findings per resource, the finding: `AwsSolutions-IAM5[Resource::*]`. */
  readonly id: string;
  /** One line: why this is right for courier. */
  readonly reason: string;
}

/** Registers the AwsSolutions pack on the app: synth fails on any finding not acknowledged. */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}

/** How cdk-nag writes a token in a finding id, e.g. `<UploadsBucket5E5E9B64.Arn>`. */
function arnToken(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return `<${Stack.of(construct).getLogicalId(element)}.Arn>`;
}

/** IAM findings are on the function's role (and its default policy), not under the function. */
function roleOf(fn: { readonly role?: IConstruct }): IConstruct {
  if (!fn.role) throw new Error("a courier function always has a role");
  return fn.role;
}

function isTracedActively(fn: IConstruct): boolean {
  const config = (fn.node.defaultChild as CfnFunction | undefined)?.tracingConfig;
  return (config as CfnFunction.TracingConfigProperty | undefined)?.mode === "Active";
}

/** Why a traced function's role may write trace segments with Resource "*". */
const XRAY_WRITE_REASON =
  "Active tracing: X-Ray's PutTraceSegments and PutTelemetryRecords take no resource ARN.";

/**
 * The findings courier accepts, with their reasons: the stack's own, then each consumer's needs'.
 * One acknowledgement per construct and finding: where two reasons give the same wildcard (an SMS
 * sender's role traced by X-Ray), they are joined.
 */
export function nagAcknowledgements<Topic extends string, Consumer extends string>(
  stack: CourierStack<Topic, Consumer>,
): NagAcknowledgement[] {
  const merged = new Map<string, NagAcknowledgement>();
  for (const ack of stackAcknowledgements(stack)) {
    const key = `${ack.construct.node.path} ${ack.id}`;
    const earlier = merged.get(key);
    merged.set(key, earlier ? { ...earlier, reason: `${earlier.reason} ${ack.reason}` } : ack);
  }
  return [...merged.values()];
}

function stackAcknowledgements<Topic extends string, Consumer extends string>(
  stack: CourierStack<Topic, Consumer>,
): NagAcknowledgement[] {
  const consumers = Object.keys(stack.topology.consumers) as Consumer[];
  const traced = [...consumers.map((name) => stack.consumerFunctions[name].function), stack.redrive.function]
    .filter((fn) => isTracedActively(fn))
    .map((fn) => ({
      construct: roleOf(fn),
      id: "AwsSolutions-IAM5[Resource::*]",
      reason: XRAY_WRITE_REASON,
    }));
  return [
    {
      construct: stack.uploadsBucket,
      id: "AwsSolutions-S1",
      reason:
        "Server access logs belong in the account's central log bucket, which this stack does not own; a bucket per stack would be retained with every copy. Object access is limited to the prefixes consumers declare.",
    },
    ...(stack.payloadBucket
      ? [
          {
            construct: stack.payloadBucket.bucket,
            id: "AwsSolutions-S1",
            reason:
              "Server access logs belong in the account's central log bucket; payloads are copies of messages, expired by lifecycle, read only under the prefix of the reader's topic.",
          },
        ]
      : []),
    ...Object.entries(stack.topology.secrets).map(([name, spec]) => ({
      construct: stack.secret(name),
      id: "AwsSolutions-SMG4",
      reason: spec.manualRotationReason,
    })),
    ...consumers.flatMap((name) =>
      needsAcknowledgements(
        stack,
        stack.topology.consumers[name],
        roleOf(stack.consumerFunctions[name].function),
      ),
    ),
    ...consumers.map(
      (name): NagAcknowledgement => ({
        construct: stack.consumerQueues[name].subscriptionDeadLetterQueue,
        id: "AwsSolutions-SQS3",
        reason:
          "It is a DLQ: the SNS subscription's redrive policy names it (cdk-nag looks only at SQS redrive policies); alarmed, emptied by courier redrive.",
      }),
    ),
    ...traced,
  ];
}

/** The wildcards a consumer's grants carry, each for a reason its needs give. */
function needsAcknowledgements(
  stack: CourierStack<string, string>,
  spec: ConsumerSpec<string>,
  role: IConstruct,
): NagAcknowledgement[] {
  const needs = needsOf(spec);
  const name = spec.name;
  const found: NagAcknowledgement[] = [];
  const iam5 = (finding: string, reason: string) =>
    found.push({ construct: role, id: `AwsSolutions-IAM5[${finding}]`, reason });
  if (needs.sendsEmail) {
    iam5(
      "Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*",
      "SES authorizes on the address or the domain identity, whichever is verified; the ses:FromAddress condition limits sending to the configured sender.",
    );
  }
  if (needs.sendsSms) {
    iam5(
      "Resource::*",
      "An SMS is published to a phone number, which has no ARN; a Deny statement in the same policy forbids publishing to any topic.",
    );
  }
  const topic = stack.topology.topics[spec.topic];
  if (stack.payloadBucket && topic?.offloadLargePayloads) {
    iam5(
      `Resource::${arnToken(stack.payloadBucket.bucket)}/${payloadPrefix(spec.topic)}*`,
      `${name} reads its topic's offloaded payloads (GetObject) under ${payloadPrefix(spec.topic)} and nothing else.`,
    );
  }
  const { read, write } = needs.uploads;
  const bucket = arnToken(stack.uploadsBucket);
  for (const prefix of new Set([...read, ...write])) {
    const access = [read.includes(prefix) ? "reads" : "", write.includes(prefix) ? "writes" : ""]
      .filter(Boolean)
      .join(" and ");
    iam5(
      `Resource::${bucket}/${prefix}*`,
      `The prefix is the scope: ${name} ${access} objects under ${prefix} of the uploads bucket and nothing else.`,
    );
  }
  if (read.length > 0) {
    iam5(
      "Action::s3:GetObject*",
      `grantRead on ${name}'s prefixes: GetObject and its attribute/version reads; no write or delete.`,
    );
    iam5(
      "Action::s3:GetBucket*",
      "grantRead on the uploads bucket only: bucket metadata reads that S3 clients make.",
    );
    iam5(
      "Action::s3:List*",
      "grantRead on the uploads bucket only: without ListBucket a HeadObject on a missing key is 403, not 404.",
    );
  }
  if (write.length > 0) {
    iam5("Action::s3:Abort*", `grantPut on ${name}'s prefixes only: aborting its own multipart uploads.`);
  }
  return found;
}

/** Acknowledges the findings courier accepts; call it after the stack is built. */
export function acknowledgeNagFindings<Topic extends string, Consumer extends string>(
  stack: CourierStack<Topic, Consumer>,
): void {
  for (const { construct, id, reason } of nagAcknowledgements(stack)) {
    Validations.of(construct).acknowledge({ id, reason });
  }
}
