import { Duration, Names, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import {
  maxMessageBytesProblem,
  SNS_MAX_PAYLOAD_BYTES,
  SNS_RAISED_TOPIC_MAX_SUBSCRIPTIONS,
} from "../lib/publisher/size.ts";
import { InvalidConstructPropsError } from "./errors.ts";

export interface EncryptedTopicProps {
  /** @default - none */
  readonly displayName?: string;
  /**
   * Key for the topic's SSE.
   * @default - a new customer-managed key with rotation that SNS may use; the AWS-managed SNS key
   * cannot be granted to anything, so subscribers and AWS service publishers would be locked out
   */
  readonly masterKey?: kms.IKey;
  /**
   * The topic's `MaximumMessageSize`: 1,024 to 1,048,576 bytes, body plus attributes. Above 262,144
   * SNS allows at most 100 subscriptions, all SQS, Lambda or Firehose; checked when the app synthesizes.
   * @default - not set: SNS's default of 262,144
   */
  readonly maxMessageBytes?: number;
  /**
   * A FIFO topic: it delivers each message group in publish order, deduplicates on the
   * MessageDeduplicationId, and may only have FIFO queues as subscribers. Throughput is scoped to
   * the message group (high-throughput FIFO), since groups are independent orders.
   * @default false
   */
  readonly fifo?: boolean;
}

/** Protocols SNS allows on a topic whose MaximumMessageSize is above 256 KiB. */
const RAISED_TOPIC_PROTOCOLS: readonly string[] = ["sqs", "lambda", "firehose"];

/** An SNS topic (standard or FIFO) with SSE under a customer-managed key and a policy that refuses non-TLS requests. */
export class EncryptedTopic extends Construct {
  public readonly topic: sns.Topic;
  public readonly masterKey: kms.IKey;

  constructor(scope: Construct, id: string, props: EncryptedTopicProps = {}) {
    if (props.maxMessageBytes !== undefined) {
      const problem = maxMessageBytesProblem(props.maxMessageBytes);
      if (problem) throw new InvalidConstructPropsError(scope, id, problem);
    }
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
      ...(props.fifo
        ? {
            fifo: true,
            fifoThroughputScope: sns.FifoThroughputScope.MESSAGE_GROUP,
            // A FIFO topic must be named (ending in .fifo); derived from the path, stack name included, so copies differ.
            topicName: `${Names.uniqueResourceName(this, { maxLength: 256 - ".fifo".length, separator: "-", allowedSpecialCharacters: "-_" })}.fifo`,
          }
        : {}),
    });
    if (props.maxMessageBytes !== undefined) {
      // The L2 Topic has no prop for it; the L1 has (AWS::SNS::Topic MaximumMessageSize).
      (this.topic.node.defaultChild as sns.CfnTopic).maximumMessageSize = props.maxMessageBytes;
      if (props.maxMessageBytes > SNS_MAX_PAYLOAD_BYTES) {
        this.node.addValidation({ validate: () => this.raisedTopicProblems() });
      }
    }
  }

  /**
   * SNS's rules for a raised topic, over the subscriptions the app made to it (wherever in the
   * stack they live: a queue's subscription is the queue's child, not the topic's).
   */
  private raisedTopicProblems(): string[] {
    const stack = Stack.of(this);
    const topicArn = JSON.stringify(stack.resolve(this.topic.topicArn));
    const subscriptions = stack.node
      .findAll()
      .filter((c): c is sns.CfnSubscription => c instanceof sns.CfnSubscription)
      .filter((s) => JSON.stringify(stack.resolve(s.topicArn)) === topicArn);
    const problems: string[] = [];
    if (subscriptions.length > SNS_RAISED_TOPIC_MAX_SUBSCRIPTIONS) {
      problems.push(
        `a topic with MaximumMessageSize above ${SNS_MAX_PAYLOAD_BYTES} may have at most ${SNS_RAISED_TOPIC_MAX_SUBSCRIPTIONS} subscriptions; it has ${subscriptions.length}`,
      );
    }
    for (const s of subscriptions) {
      if (!RAISED_TOPIC_PROTOCOLS.includes(s.protocol)) {
        problems.push(
          `a topic with MaximumMessageSize above ${SNS_MAX_PAYLOAD_BYTES} takes only SQS, Lambda or Firehose subscriptions; ${s.node.path} is ${s.protocol}`,
        );
      }
    }
    return problems;
  }
}
