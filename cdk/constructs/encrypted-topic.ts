import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";

export interface EncryptedTopicProps {
  /** @default - none */
  readonly displayName?: string;
  /**
   * Key for the topic's SSE.
   * @default - a new customer-managed key with rotation that SNS may use; the AWS-managed SNS key
   * cannot be granted to anything, so subscribers and AWS service publishers would be locked out
   */
  readonly masterKey?: kms.IKey;
}

/** An SNS topic with SSE under a customer-managed key and a policy that refuses non-TLS requests. */
export class EncryptedTopic extends Construct {
  public readonly topic: sns.Topic;
  public readonly masterKey: kms.IKey;

  constructor(scope: Construct, id: string, props: EncryptedTopicProps = {}) {
    super(scope, id);
    if (props.masterKey) {
      this.masterKey = props.masterKey;
    } else {
      const key = new kms.Key(this, "Key", {
        description: `SSE for the SNS topic ${this.node.path}`,
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.DESTROY,
        pendingWindow: Duration.days(7),
      });
      // Scoped by account, not topic ARN: the topic refers to the key, so the key cannot refer back.
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal("sns.amazonaws.com")],
          actions: ["kms:GenerateDataKey*", "kms:Decrypt"],
          resources: ["*"],
          conditions: { StringEquals: { "aws:SourceAccount": Stack.of(this).account } },
        }),
      );
      this.masterKey = key;
    }
    this.topic = new sns.Topic(this, "Topic", {
      ...(props.displayName ? { displayName: props.displayName } : {}),
      masterKey: this.masterKey,
      enforceSSL: true,
    });
  }
}
