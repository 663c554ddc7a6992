import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import type * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cloudwatchActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import { Construct } from "constructs";
import { InvalidConstructPropsError } from "./errors.ts";

/** Who hears about an alarm; every field may be empty, the topic is made either way. */
export interface AlarmNotificationSettings {
  /**
   * Email addresses subscribed to the alarm topic (each confirms by the link SNS mails it).
   * @default - none
   */
  readonly emails?: readonly string[];
  /**
   * An HTTPS endpoint subscribed to the alarm topic (an incident tool's SNS integration URL).
   * @default - none
   */
  readonly httpsEndpoint?: string;
  /**
   * An existing SNS topic (the account's on-call topic) every alarm also notifies. An SNS topic
   * cannot subscribe to another, so it is a second alarm action rather than a subscription.
   * @default - none
   */
  readonly topicArn?: string;
}

export interface AlarmTopicProps extends AlarmNotificationSettings {
  /**
   * A topic of the team's to send every alarm to instead of a new one (its key, if any, must let
   * CloudWatch publish). `emails` and `httpsEndpoint` subscribe to it.
   * @default - a new topic under a new customer-managed key
   */
  readonly existingTopic?: sns.ITopic;
}

/**
 * The stack's alarm topic: SSE under a customer-managed key CloudWatch may use (the AWS-managed SNS
 * key cannot be granted to CloudWatch, so alarms would fail to publish), TLS only, subscribed from
 * the deploy's settings. `notify(alarm)` makes an alarm send both ALARM and OK to it, so the
 * people who were told of a problem are also told when it cleared.
 */
export class AlarmTopic extends Construct {
  public readonly topic: sns.ITopic;
  /** The key of the topic this construct made; undefined for an existing topic. */
  public readonly masterKey: kms.Key | undefined;
  /** The actions every alarm gets, for ALARM and for OK. */
  public readonly actions: readonly cloudwatch.IAlarmAction[];

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    validateAlarmTopicProps(scope, id, props);
    super(scope, id);
    if (props.existingTopic) {
      this.topic = props.existingTopic;
      this.masterKey = undefined;
    } else {
      const masterKey = new kms.Key(this, "Key", {
        description: `SSE for the alarm topic ${this.node.path}`,
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.DESTROY,
        pendingWindow: Duration.days(7),
      });
      // CloudWatch encrypts what it publishes; scoped by account because the topic refers to the key.
      masterKey.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
          actions: ["kms:GenerateDataKey*", "kms:Decrypt"],
          resources: ["*"],
          conditions: { StringEquals: { "aws:SourceAccount": Stack.of(this).account } },
        }),
      );
      const topic = new sns.Topic(this, "Topic", {
        displayName: "courier alarms",
        masterKey,
        enforceSSL: true,
      });
      topic.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
          actions: ["sns:Publish"],
          resources: [topic.topicArn],
          conditions: { StringEquals: { "aws:SourceAccount": Stack.of(this).account } },
        }),
      );
      this.topic = topic;
      this.masterKey = masterKey;
    }
    for (const email of props.emails ?? []) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
    if (props.httpsEndpoint) {
      this.topic.addSubscription(
        new subscriptions.UrlSubscription(props.httpsEndpoint, { protocol: sns.SubscriptionProtocol.HTTPS }),
      );
    }
    const actions: cloudwatch.IAlarmAction[] = [new cloudwatchActions.SnsAction(this.topic)];
    if (props.topicArn) {
      actions.push(
        new cloudwatchActions.SnsAction(sns.Topic.fromTopicArn(this, "ExistingTopic", props.topicArn)),
      );
    }
    this.actions = actions;
  }

  /** Sends the alarm's ALARM and OK transitions to the topic (and the existing topic, if given). */
  notify(alarm: cloudwatch.Alarm): void {
    alarm.addAlarmAction(...this.actions);
    alarm.addOkAction(...this.actions);
  }
}

const EMAIL = /^[^\s@<>,]+@[^\s@<>,]+\.[^\s@<>,]+$/;
const SNS_TOPIC_ARN = /^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]{1,256}$/;

function validateAlarmTopicProps(scope: Construct, id: string, props: AlarmTopicProps): void {
  const fail = (problem: string): never => {
    throw new InvalidConstructPropsError(scope, id, problem);
  };
  for (const email of props.emails ?? []) {
    if (!EMAIL.test(email)) fail(`alarm email "${email}" is not an email address`);
  }
  const endpoint = props.httpsEndpoint;
  if (endpoint !== undefined && (!URL.canParse(endpoint) || new URL(endpoint).protocol !== "https:")) {
    fail(`alarm HTTPS endpoint must be an https:// URL, got "${endpoint}"`);
  }
  if (props.topicArn !== undefined && !SNS_TOPIC_ARN.test(props.topicArn)) {
    fail(`alarm topic ARN must be an SNS topic ARN, got "${props.topicArn}"`);
  }
}
