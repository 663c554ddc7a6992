/**
 * The cdk-nag (AwsSolutions) findings the Courier construct cannot avoid, each with its reason. The
 * construct acknowledges them itself, so a team's stack holding only the construct passes the pack
 * with no acknowledgement of its own; findings from what the team adds remain theirs.
 *
 * Acknowledgements use CDK's `Validations.of(construct).acknowledge()` (what cdk-nag 3 reads), one
 * exact finding each (`Rule[Finding]`), so a new wildcard is a new finding, not swept in.
 */
import { type CfnElement, Stack, Validations } from "aws-cdk-lib";
import type { CfnFunction } from "aws-cdk-lib/aws-lambda";
import type { IConstruct } from "constructs";
import type { Courier } from "./courier.ts";

export interface NagAcknowledgement {
  /** The construct the finding is on (its children are covered too). */
  readonly construct: IConstruct;
  /** The rule, and for rules with several findings per resource, the finding: `AwsSolutions-IAM5[Resource::*]`. */
  readonly id: string;
  /** One line: why this is right. */
  readonly reason: string;
}

/** How cdk-nag writes a resource's ARN token in a finding, e.g. `<PayloadBucket5E5E9B64.Arn>`. */
export function nagArnToken(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return `<${Stack.of(construct).getLogicalId(element)}.Arn>`;
}

/** IAM findings are on the function's role (and its default policy), not under the function. */
function roleOf(fn: { readonly role?: IConstruct | undefined }): IConstruct {
  if (!fn.role) throw new Error("a courier function always has a role");
  return fn.role;
}

function isTracedActively(fn: IConstruct): boolean {
  const config = (fn.node.defaultChild as CfnFunction | undefined)?.tracingConfig;
  return (config as CfnFunction.TracingConfigProperty | undefined)?.mode === "Active";
}

const XRAY_WRITE_REASON =
  "Active tracing: X-Ray's PutTraceSegments and PutTelemetryRecords take no resource ARN.";

/** The findings the construct's own resources carry, with their reasons. */
export function courierNagAcknowledgements(courier: Courier<string, string>): NagAcknowledgement[] {
  const consumers = Object.keys(courier.topology.consumers);
  const found: NagAcknowledgement[] = [];
  for (const name of consumers) {
    const fn = courier.consumerFunctions[name]?.function;
    const queue = courier.consumerQueues[name];
    if (!fn || !queue) continue;
    const role = roleOf(fn);
    found.push({
      construct: queue.subscriptionDeadLetterQueue,
      id: "AwsSolutions-SQS3",
      reason:
        "It is a DLQ: the SNS subscription's redrive policy names it (cdk-nag looks only at SQS redrive policies); alarmed, emptied by courier redrive.",
    });
    for (const location of courier.payloadLocations[name] ?? []) {
      const stackBucket = courier.payloadBucket?.bucket;
      const bucket =
        stackBucket && location.bucket === stackBucket.bucketName
          ? nagArnToken(stackBucket)
          : `arn:<AWS::Partition>:s3:::${location.bucket}`;
      const where =
        location.prefix === ""
          ? "anywhere in the bucket (AWS's extended clients write at its root)"
          : `under ${location.prefix}`;
      found.push({
        construct: role,
        id: `AwsSolutions-IAM5[Resource::${bucket}/${location.prefix}*]`,
        reason: `${name} reads offloaded payloads (GetObject) ${where}, the location its topic declares, and nothing else.`,
      });
    }
  }
  const archives = Object.entries(courier.archives).flatMap(([topic, a]) =>
    a ? [{ topic, archive: a }] : [],
  );
  for (const { topic, archive } of archives) {
    found.push({
      construct: archive.queue.subscriptionDeadLetterQueue,
      id: "AwsSolutions-SQS3",
      reason:
        "It is a DLQ: the archive subscription's redrive policy names it (cdk-nag looks only at SQS redrive policies); alarmed.",
    });
    for (const location of archive.payloadLocations) {
      const stackBucket = courier.payloadBucket?.bucket;
      const bucket =
        stackBucket && location.bucket === stackBucket.bucketName
          ? nagArnToken(stackBucket)
          : `arn:<AWS::Partition>:s3:::${location.bucket}`;
      found.push({
        construct: roleOf(archive.archiver.function),
        id: `AwsSolutions-IAM5[Resource::${bucket}/${location.prefix}*]`,
        reason: `The ${topic} archiver reads offloaded payloads (GetObject) under ${location.prefix || "the bucket's root"}, its topic's location, for their envelope and subject, and nothing else.`,
      });
    }
    if (courier.archiveBucket) {
      found.push({
        construct: roleOf(archive.archiver.function),
        id: `AwsSolutions-IAM5[Resource::${nagArnToken(courier.archiveBucket.bucket)}/archive/${topic}/*]`,
        reason: `The ${topic} archiver writes new batch objects (PutObject) under its topic's prefix, and nowhere else.`,
      });
    }
  }
  for (const fn of [
    ...consumers.flatMap((n) => courier.consumerFunctions[n]?.function ?? []),
    ...archives.map((a) => a.archive.archiver.function),
    courier.redrive.function,
  ]) {
    if (isTracedActively(fn))
      found.push({ construct: roleOf(fn), id: "AwsSolutions-IAM5[Resource::*]", reason: XRAY_WRITE_REASON });
  }
  if (courier.payloadBucket) {
    found.push({
      construct: courier.payloadBucket.bucket,
      id: "AwsSolutions-S1",
      reason:
        "Server access logs belong in the account's central log bucket; payloads are copies of messages, expired by lifecycle, read only under their topic's prefix.",
    });
  }
  if (courier.archiveBucket) {
    found.push({
      construct: courier.archiveBucket.bucket,
      id: "AwsSolutions-S1",
      reason:
        "Server access logs belong in the account's central log bucket; the archive is written only by each topic's archiver under its prefix and expired by lifecycle.",
    });
  }
  for (const [name, spec] of Object.entries(courier.topology.secrets)) {
    const secret = courier.secrets[name];
    if (secret) found.push({ construct: secret, id: "AwsSolutions-SMG4", reason: spec.manualRotationReason });
  }
  // One acknowledgement per construct and finding; reasons for the same one are joined.
  const merged = new Map<string, NagAcknowledgement>();
  for (const ack of found) {
    const key = `${ack.construct.node.path} ${ack.id}`;
    const earlier = merged.get(key);
    merged.set(key, earlier ? { ...earlier, reason: `${earlier.reason} ${ack.reason}` } : ack);
  }
  return [...merged.values()];
}

/** Acknowledges the construct's own findings; the construct calls it when it is built. */
export function acknowledgeCourierNagFindings(courier: Courier<string, string>): void {
  for (const { construct, id, reason } of courierNagAcknowledgements(courier)) {
    Validations.of(construct).acknowledge({ id, reason });
  }
}

/** Acknowledges any findings with their reasons (for a team's own, as courier does for its). */
export function acknowledgeNagFindings(acknowledgements: readonly NagAcknowledgement[]): void {
  for (const { construct, id, reason } of acknowledgements) {
    Validations.of(construct).acknowledge({ id, reason });
  }
}
