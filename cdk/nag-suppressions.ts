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
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
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

/** The findings courier accepts, with their reasons. */
export function nagAcknowledgements(stack: CourierStack): NagAcknowledgement[] {
  const thumbnails = roleOf(stack.consumerFunctions.thumbnails.function);
  const bucket = arnToken(stack.uploadsBucket);
  const thumbnailsS3 = (finding: string, reason: string): NagAcknowledgement => ({
    construct: thumbnails,
    id: `AwsSolutions-IAM5[${finding}]`,
    reason,
  });
  return [
    {
      construct: stack.uploadsBucket,
      id: "AwsSolutions-S1",
      reason:
        "Server access logs belong in the account's central log bucket, which this stack does not own; a bucket per stack would be retained with every copy. Object access is limited to two prefixes of one role.",
    },
    {
      construct: stack.verificationSecret,
      id: "AwsSolutions-SMG4",
      reason:
        "An HMAC key for short-lived verification codes, not a credential of another system: rotating it needs no partner and would void the codes already sent, so it is rotated by hand.",
    },
    {
      construct: roleOf(stack.consumerFunctions["verification-email"].function),
      id: "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]",
      reason:
        "SES authorizes on the address or the domain identity, whichever is verified; the ses:FromAddress condition limits sending to the configured sender.",
    },
    {
      construct: roleOf(stack.consumerFunctions["verification-sms"].function),
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "An SMS is published to a phone number, which has no ARN; a Deny statement in the same policy forbids publishing to any topic.",
    },
    thumbnailsS3(
      `Resource::${bucket}/originals/*`,
      "The prefix is the scope: thumbnails reads any original under originals/ and nothing else.",
    ),
    thumbnailsS3(
      `Resource::${bucket}/renditions/*`,
      "The prefix is the scope: thumbnails writes (and checks) renditions under renditions/ only.",
    ),
    thumbnailsS3(
      "Action::s3:GetObject*",
      "grantRead on the two prefixes: GetObject and its attribute/version reads; no write or delete.",
    ),
    thumbnailsS3(
      "Action::s3:GetBucket*",
      "grantRead on the uploads bucket only: bucket metadata reads that S3 clients make.",
    ),
    thumbnailsS3(
      "Action::s3:List*",
      "grantRead on the uploads bucket only: without ListBucket a HeadObject on a missing rendition is 403, not 404.",
    ),
    thumbnailsS3(
      "Action::s3:Abort*",
      "grantPut on renditions/* only: aborting its own multipart uploads of renditions.",
    ),
    ...Object.values(stack.consumerQueues).map(
      (queue): NagAcknowledgement => ({
        construct: queue.subscriptionDeadLetterQueue,
        id: "AwsSolutions-SQS3",
        reason:
          "It is a DLQ: the SNS subscription's redrive policy names it (cdk-nag looks only at SQS redrive policies); alarmed, emptied by courier redrive.",
      }),
    ),
  ];
}

/** Acknowledges the findings courier accepts; call it after the stack is built. */
export function acknowledgeNagFindings(stack: CourierStack): void {
  for (const { construct, id, reason } of nagAcknowledgements(stack)) {
    Validations.of(construct).acknowledge({ id, reason });
  }
}
