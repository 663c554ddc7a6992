/**
 * cdk-nag's AwsSolutions checks on the example's stack, and the findings the example accepts, each
 * with its reason. The Courier construct acknowledges its own findings (@courier-queue/courier/cdk);
 * what is here comes from what the example adds: the uploads bucket, SES, SMS and the uploads
 * prefixes it grants. Any other finding fails `cdk synth` and the CDK tests.
 *
 * cdk-nag 3 runs as a CDK policy-validation plugin, and acknowledgements use CDK's own
 * `Validations.of(construct).acknowledge()`. Each names one finding exactly (`Rule[Finding]`), so a
 * new wildcard or a new resource is a new finding rather than being swept in by an earlier one.
 */
import {
  acknowledgeNagFindings,
  courierNagAcknowledgements,
  type NagAcknowledgement,
  nagArnToken,
} from "@courier-queue/courier/cdk";
import { type App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import type { CourierStack } from "./stacks/courier-stack.ts";
import { exampleNeedsOf } from "./stacks/example-needs.ts";

export type { NagAcknowledgement };

/** Registers the AwsSolutions pack on the app: synth fails on any finding not acknowledged. */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}

function roleOf(fn: { readonly role?: IConstruct | undefined }): IConstruct {
  if (!fn.role) throw new Error("a courier function always has a role");
  return fn.role;
}

/** The findings of what the example adds to the construct, with their reasons. */
export function nagAcknowledgements(stack: CourierStack): NagAcknowledgement[] {
  const found: NagAcknowledgement[] = [
    {
      construct: stack.uploadsBucket,
      id: "AwsSolutions-S1",
      reason:
        "Server access logs belong in the account's central log bucket, which this stack does not own; a bucket per stack would be retained with every copy. Object access is limited to the prefixes consumers declare.",
    },
  ];
  const bucket = nagArnToken(stack.uploadsBucket);
  for (const [name, raw] of Object.entries(stack.needs)) {
    const resolved = exampleNeedsOf(raw);
    const role = roleOf(stack.courier.consumerFunction(name).function);
    const iam5 = (finding: string, reason: string) =>
      found.push({ construct: role, id: `AwsSolutions-IAM5[${finding}]`, reason });
    if (resolved.sendsEmail) {
      iam5(
        "Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*",
        "SES authorizes on the address or the domain identity, whichever is verified; the ses:FromAddress condition limits sending to the configured sender.",
      );
    }
    if (resolved.sendsSms) {
      iam5(
        "Resource::*",
        "An SMS is published to a phone number, which has no ARN; a Deny statement in the same policy forbids publishing to any topic.",
      );
    }
    const { read, write } = resolved.uploads;
    for (const prefix of new Set([...read, ...write])) {
      const access = [read.includes(prefix) ? "reads" : "", write.includes(prefix) ? "writes" : ""]
        .filter(Boolean)
        .join(" and ");
      iam5(
        `Resource::${bucket}/${prefix}*`,
        `The prefix is the scope: ${name} ${access} objects under ${prefix} of the uploads bucket and nothing else.`,
      );
    }
    if (write.length > 0) {
      iam5("Action::s3:Abort*", `grantPut on ${name}'s prefixes only: aborting its own multipart uploads.`);
    }
  }
  // The construct's own cover some already (X-Ray's Resource::* on a traced role covers SMS's).
  const covered = new Set(
    courierNagAcknowledgements(stack.courier).map((a) => `${a.construct.node.path} ${a.id}`),
  );
  return found.filter((a) => !covered.has(`${a.construct.node.path} ${a.id}`));
}

/** Acknowledges the findings the example accepts; call it after the stack is built. */
export function acknowledgeExampleNagFindings(stack: CourierStack): void {
  acknowledgeNagFindings(nagAcknowledgements(stack));
}
