/**
 * A deployed courier stack as the operator tools see it: read back from the manifest its
 * construct left in the CloudFormation outputs, whatever the stack's topology, so `courier status`,
 * `dlq peek`, `redrive`, `pause`, `publish`, `console` and `work` run on any courier stack.
 */
import {
  type ConsumerManifest,
  consumerManifestOutputKey,
  consumerManifestSchema,
  STACK_MANIFEST_OUTPUT,
  type StackManifest,
  stackManifestSchema,
  type TopicManifest,
  topicManifestOutputKey,
  topicManifestSchema,
} from "./manifest.ts";

export type DeployedConsumer = ConsumerManifest;
export type DeployedTopic = TopicManifest;

export interface DeployedTopology {
  readonly stackName: string;
  readonly manifest: StackManifest;
  readonly topics: Readonly<Record<string, DeployedTopic>>;
  readonly consumers: Readonly<Record<string, DeployedConsumer>>;
  /** Every secret of the topology by name: its ARN. */
  readonly secretArns: Readonly<Record<string, string>>;
  /** Absent where the stack was deployed without its DynamoDB table (LocalStack here). */
  readonly idempotencyTable?: string;
  /** Where bodies over an offloading topic's limit go; absent from a stack in which no topic offloads. */
  readonly payloadBucket?: string;
  /** Every output of the stack, for what the team's own stack adds beside courier's. */
  readonly outputs: Readonly<Record<string, string>>;
}

export class MissingStackOutputError extends Error {
  override readonly name = "MissingStackOutputError";
  constructor(stackName: string, key: string) {
    super(
      `stack "${stackName}" has no output "${key}"; is it a courier stack, synthesized with the courier construct?`,
    );
  }
}

export class InvalidManifestError extends Error {
  override readonly name = "InvalidManifestError";
}

function parseOutput<T>(
  stackName: string,
  outputs: Record<string, string>,
  key: string,
  schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: Error } },
): T {
  const raw = outputs[key];
  if (!raw) throw new MissingStackOutputError(stackName, key);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new InvalidManifestError(`stack "${stackName}": output "${key}" is not JSON`);
  }
  const parsed = schema.safeParse(withoutEmptyStrings(json));
  if (!parsed.success) {
    throw new InvalidManifestError(
      `stack "${stackName}": output "${key}" is not a courier manifest this version reads (${parsed.error.message.split("\n")[0]})`,
    );
  }
  return parsed.data;
}

/**
 * An address the deployment left empty (a function or mapping LocalStack does not run here is
 * rendered as "") is an absent one.
 */
function withoutEmptyStrings(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmptyStrings);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== "")
      .map(([k, v]) => [k, withoutEmptyStrings(v)]),
  );
}

export function topologyFromOutputs(stackName: string, outputs: Record<string, string>): DeployedTopology {
  const manifest = parseOutput(stackName, outputs, STACK_MANIFEST_OUTPUT, stackManifestSchema);
  const topics = Object.fromEntries(
    manifest.topics.map((t) => [
      t,
      parseOutput(stackName, outputs, topicManifestOutputKey(t), topicManifestSchema),
    ]),
  );
  const consumers = Object.fromEntries(
    manifest.consumers.map((c) => [
      c,
      parseOutput(stackName, outputs, consumerManifestOutputKey(c), consumerManifestSchema),
    ]),
  );
  return {
    stackName,
    manifest,
    topics,
    consumers,
    secretArns: manifest.secrets,
    ...(manifest.idempotencyTable ? { idempotencyTable: manifest.idempotencyTable } : {}),
    ...(manifest.payloadBucket ? { payloadBucket: manifest.payloadBucket } : {}),
    outputs,
  };
}

export class UnknownConsumerError extends Error {
  override readonly name = "UnknownConsumerError";
  constructor(stackName: string, consumer: string, known: readonly string[]) {
    super(`unknown consumer "${consumer}" in stack "${stackName}"; its consumers: ${known.join(", ")}`);
  }
}

export class UnknownTopicNameError extends Error {
  override readonly name = "UnknownTopicNameError";
  constructor(stackName: string, topic: string, known: readonly string[]) {
    super(`unknown topic "${topic}" in stack "${stackName}"; its topics: ${known.join(", ")}`);
  }
}

/** A consumer of the deployed stack by name, or an error listing the stack's consumers. */
export function deployedConsumer(topology: DeployedTopology, name: string): DeployedConsumer {
  const consumer = Object.hasOwn(topology.consumers, name) ? topology.consumers[name] : undefined;
  if (!consumer) throw new UnknownConsumerError(topology.stackName, name, Object.keys(topology.consumers));
  return consumer;
}

/** A topic of the deployed stack by name, or an error listing the stack's topics. */
export function deployedTopic(topology: DeployedTopology, name: string): DeployedTopic {
  const topic = Object.hasOwn(topology.topics, name) ? topology.topics[name] : undefined;
  if (!topic) throw new UnknownTopicNameError(topology.stackName, name, Object.keys(topology.topics));
  return topic;
}

/** Every topic's ARN by name: what `createPublisher` takes as `topicArns`. */
export function topicArnsOf(topology: Pick<DeployedTopology, "topics">): Record<string, string> {
  return Object.fromEntries(Object.entries(topology.topics).map(([name, topic]) => [name, topic.arn]));
}
