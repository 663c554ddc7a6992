import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { InvalidConstructPropsError } from "./errors.ts";
import { ABORT_INCOMPLETE_UPLOADS_RULE, PRIVATE_BUCKET_PROPS } from "./private-bucket.ts";

export interface PayloadBucketProps {
  /**
   * Days an offloaded payload is kept. It must outlive every message that points to it: each
   * dead-letter copy and each redrive is a new message with a whole retention of its own, so the
   * Courier construct passes `payloadExpirationDays` (the longest chain, topology/payload-lifetime.ts).
   * At least above the longest queue or DLQ retention.
   */
  readonly expirationDays: number;
  /** The longest retention of any queue or DLQ that may hold a pointer. */
  readonly longestRetentionDays: number;
}

/**
 * Where publishers put message bodies too large for their topic (AWS's extended-client pattern):
 * encrypted, private, TLS only, and emptied by a lifecycle rule rather than by consumers, so a
 * message that is retried, dead-lettered or redriven still finds its payload.
 */
export class PayloadBucket extends Construct {
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: PayloadBucketProps) {
    if (!Number.isInteger(props.expirationDays) || props.expirationDays <= props.longestRetentionDays) {
      throw new InvalidConstructPropsError(
        scope,
        id,
        `expirationDays (${props.expirationDays}) must be a whole number above the longest queue or DLQ retention (${props.longestRetentionDays} days): a redriven pointer would otherwise point to nothing`,
      );
    }
    super(scope, id);
    this.bucket = new s3.Bucket(this, "Bucket", {
      ...PRIVATE_BUCKET_PROPS,
      lifecycleRules: [
        { id: "expire-payloads", expiration: Duration.days(props.expirationDays) },
        ABORT_INCOMPLETE_UPLOADS_RULE,
      ],
      // Payloads are copies of messages that expire anyway; nothing to keep after the stack.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: false,
    });
  }

  /**
   * Read of one topic's payloads: GetObject under `<prefix>`, and ListBucket limited to that prefix
   * so a missing payload is NoSuchKey (dead-lettered with its reason), not AccessDenied (retried).
   */
  public grantReadPayloads(grantee: iam.IGrantable, prefix: string): void {
    grantReadPayloadLocation(grantee, this.bucket, prefix);
  }

  /** Write of one topic's payloads, for a publisher's role. */
  public grantWritePayloads(grantee: iam.IGrantable, prefix: string): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["s3:PutObject"],
        resources: [this.bucket.arnForObjects(`${prefix}*`)],
      }),
    );
  }
}

/**
 * Read of offloaded payloads in any bucket (the stack's or one that AWS's extended clients write
 * to): GetObject under `prefix` ("" is the whole bucket) and ListBucket, limited to the prefix when
 * there is one, so a missing payload is NoSuchKey (dead-lettered with its reason), not AccessDenied.
 */
export function grantReadPayloadLocation(grantee: iam.IGrantable, bucket: s3.IBucket, prefix: string): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ["s3:GetObject"], resources: [bucket.arnForObjects(`${prefix}*`)] }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ["s3:ListBucket"],
      resources: [bucket.bucketArn],
      ...(prefix === "" ? {} : { conditions: { StringLike: { "s3:prefix": [`${prefix}*`] } } }),
    }),
  );
}
