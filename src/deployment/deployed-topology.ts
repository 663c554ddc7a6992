/** Addresses of a deployed courier stack, read back from its CloudFormation outputs. */
import type { ConsumerResources } from "./consumer-environment.ts";
import {
  AUDIT_TABLE_OUTPUT,
  consumerOutputKey,
  IDEMPOTENCY_TABLE_OUTPUT,
  PAYLOAD_BUCKET_OUTPUT,
  secretOutputKey,
  topicOutputKey,
  UPLOADS_BUCKET_OUTPUT,
  VERIFICATION_SECRET_OUTPUT,
} from "./stack-outputs.ts";
import {
  type ConsumerName,
  consumerNames,
  consumers as consumerSpecs,
  secrets,
  type TopicName,
  type TopicSpec,
  topicNames,
  topics as topicSpecs,
} from "./topology.ts";

export interface DeployedConsumer {
  readonly name: ConsumerName;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
  /** Where SNS puts what it could not deliver to the queue; absent on stacks deployed before it existed. */
  readonly subscriptionDlqUrl?: string;
  readonly subscriptionDlqArn?: string;
  /** The Lambda event source mapping (`courier pause`); absent where no function is deployed (LocalStack). */
  readonly eventSourceMappingId?: string;
}

export interface DeployedTopology {
  readonly stackName: string;
  readonly topics: Record<TopicName, { readonly arn: string }>;
  readonly consumers: Record<ConsumerName, DeployedConsumer>;
  readonly uploadsBucket: string;
  readonly verificationSecretArn: string;
  /** Every secret of the topology by name: its ARN. */
  readonly secretArns: Readonly<Record<string, string>>;
  /** Absent where the stack was deployed without its DynamoDB table (LocalStack here). */
  readonly idempotencyTable?: string;
  /** Absent where the stack was deployed without its DynamoDB tables (LocalStack here). */
  readonly auditTable?: string;
  /**
   * Where bodies over an offloading topic's limit go (publishers write, its consumers read);
   * absent from a stack in which no topic offloads.
   */
  readonly payloadBucket?: string;
}

export class MissingStackOutputError extends Error {
  override readonly name = "MissingStackOutputError";
  constructor(stackName: string, key: string) {
    super(`stack "${stackName}" has no output "${key}"; is it a courier stack, deployed from this version?`);
  }
}

export function topologyFromOutputs(stackName: string, outputs: Record<string, string>): DeployedTopology {
  const need = (key: string): string => {
    const value = outputs[key];
    if (!value) throw new MissingStackOutputError(stackName, key);
    return value;
  };
  const optional = <K extends string>(field: K, key: string): Partial<Record<K, string>> => {
    const value = outputs[key];
    return value ? ({ [field]: value } as Record<K, string>) : {};
  };
  const topics = Object.fromEntries(
    topicNames.map((t) => [t, { arn: need(topicOutputKey(t, "TopicArn")) }]),
  ) as DeployedTopology["topics"];
  const consumers = Object.fromEntries(
    consumerNames.map((c) => [
      c,
      {
        name: c,
        queueUrl: need(consumerOutputKey(c, "QueueUrl")),
        queueArn: need(consumerOutputKey(c, "QueueArn")),
        dlqUrl: need(consumerOutputKey(c, "DlqUrl")),
        dlqArn: need(consumerOutputKey(c, "DlqArn")),
        ...optional("subscriptionDlqUrl", consumerOutputKey(c, "SubscriptionDlqUrl")),
        ...optional("subscriptionDlqArn", consumerOutputKey(c, "SubscriptionDlqArn")),
        ...optional("eventSourceMappingId", consumerOutputKey(c, "EventSourceMappingId")),
      },
    ]),
  ) as DeployedTopology["consumers"];
  const idempotencyTable = outputs[IDEMPOTENCY_TABLE_OUTPUT];
  const auditTable = outputs[AUDIT_TABLE_OUTPUT];
  // Output by a stack in which a topic offloads. Optional: without it a publisher refuses what is
  // over a topic's limit (MessageTooLargeError), and a consumer fails a pointer with a
  // ConsumerConfigError naming COURIER_PAYLOAD_BUCKET (retried like any transient failure, not lost).
  const payloadBucket = outputs[PAYLOAD_BUCKET_OUTPUT];
  return {
    stackName,
    topics,
    consumers,
    uploadsBucket: need(UPLOADS_BUCKET_OUTPUT),
    verificationSecretArn: need(VERIFICATION_SECRET_OUTPUT),
    secretArns: Object.fromEntries(Object.keys(secrets).map((s) => [s, need(secretOutputKey(s))])),
    ...(idempotencyTable ? { idempotencyTable } : {}),
    ...(auditTable ? { auditTable } : {}),
    ...(payloadBucket ? { payloadBucket } : {}),
  };
}

function offloads(topic: TopicName): boolean {
  return (topicSpecs[topic] as TopicSpec).offloadLargePayloads === true;
}

/**
 * What `consumerEnvironment()` needs of a deployed stack for one consumer. `idempotencyTable` stands
 * in where the stack has none (LocalStack) but a local DynamoDB-API server has one.
 */
export function consumerResources(
  topology: DeployedTopology,
  consumer: ConsumerName,
  idempotencyTable = topology.idempotencyTable,
  auditTable = topology.auditTable,
): ConsumerResources {
  const deployed = topology.consumers[consumer];
  return {
    queueUrl: deployed.queueUrl,
    dlqUrl: deployed.dlqUrl,
    secretArns: topology.secretArns,
    uploadsBucket: topology.uploadsBucket,
    ...(idempotencyTable ? { idempotencyTable } : {}),
    ...(auditTable ? { auditTable } : {}),
    // Only a consumer of an offloading topic reads payloads, as only its role may (the stack's grant).
    ...(topology.payloadBucket && offloads(consumerSpecs[consumer].topic)
      ? { payloadBucket: topology.payloadBucket }
      : {}),
  };
}
