/**
 * `courier publish <topic> <json|@file>`: publish one message to a deployed stack's topic.
 *
 * A stack carries each topic's contract type and version, not its schema. With `--topology
 * <module>` (the team's own topology) the data is validated against the contract and the message
 * gets the contract's filter attributes, exactly as the team's producers send it. Without it the
 * envelope is built from the stack's current type and version and the data is not validated
 * (the output says so); a topic whose contract sets filter attributes is refused then, because
 * subscriptions filtering on them would silently drop the message.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import type { Command } from "commander";
import * as z from "zod";
import { LOCALSTACK_MAX_PUBLISH_BYTES } from "../../deployment/aws-target.ts";
import type { DeployedTopic } from "../../deployment/deployed-topology.ts";
import { type AnyContract, defineContract } from "../../lib/contracts/contract.ts";
import type { TopicSpec } from "../../lib/contracts/topic-spec.ts";
import { buildMessage, type PreparedMessage, prepareMessage } from "../../lib/publisher/envelope.ts";
import { PublisherError } from "../../lib/publisher/errors.ts";
import { createTopicPublisher, type EventIdentity, type Published } from "../../lib/publisher/publisher.ts";
import { publishableBytes, topicMaxMessageBytes } from "../../lib/publisher/size.ts";
import { CliError, emit, type OutputOptions } from "../output.ts";
import {
  commandTarget,
  deployedTopology,
  stackTopic,
  type TargetCliOptions,
  withTargetOptions,
} from "../target.ts";
import { type LoadedTopology, loadTopologyModule, moduleTopic } from "../topology-module.ts";

interface PublishOptions extends OutputOptions, TargetCliOptions {
  producer: string;
  dryRun?: boolean;
  eventId?: string;
  topology?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const NOT_VALIDATED_NOTE = "not validated: pass --topology <module> to validate against the contract";

/** The message data: inline JSON, `@path` to a JSON file, or `@-` for standard input. */
async function readData(argument: string): Promise<unknown> {
  let text = argument;
  let source = "the argument";
  if (argument.startsWith("@")) {
    const path = argument.slice(1);
    source = path === "-" ? "standard input" : path;
    try {
      // File descriptor 0 is standard input.
      text = path === "-" ? readFileSync(0, "utf8") : await readFile(path, "utf8");
    } catch (error) {
      throw new CliError(`cannot read ${source}: ${(error as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
}

const label = (c: { type: string; version: number }) => `${c.type} v${c.version}`;

/**
 * The stack's current contract without its schema: any JSON data, except that a FIFO topic's
 * group field must be there (the publisher takes the message group from it).
 */
function unvalidatedContract(topic: DeployedTopic): AnyContract {
  return defineContract({
    type: topic.current.type,
    version: topic.current.version,
    data: topic.groupBy ? z.looseObject({ [topic.groupBy]: z.string().min(1) }) : z.unknown(),
  });
}

/** The topic as the publisher sees it: the stack's limits, the module's contracts or the stack's type. */
function publishSpec(deployed: DeployedTopic, module: TopicSpec | undefined, stackName: string): TopicSpec {
  const limits = {
    maxMessageBytes: deployed.maxMessageBytes,
    offloadLargePayloads: deployed.offloadLargePayloads,
  };
  if (module) {
    const accepted = deployed.accepts.some(
      (c) => c.type === module.current.type && c.version === module.current.version,
    );
    if (!accepted) {
      throw new CliError(
        `topic "${deployed.name}" of stack "${stackName}" accepts ${deployed.accepts.map(label).join(", ")}, not ${label(module.current)} from --topology; deploy the new contract first`,
      );
    }
    return { ...module, ...limits };
  }
  if (deployed.filterAttributeNames.length > 0) {
    throw new CliError(
      `topic "${deployed.name}" sets message attributes from its data (${deployed.filterAttributeNames.join(", ")}) that filter policies match on; pass --topology <module> to publish with its contract`,
      2,
    );
  }
  if (deployed.fifo && !deployed.groupBy) {
    throw new CliError(
      `topic "${deployed.name}" is FIFO but stack "${stackName}" does not say its group field`,
    );
  }
  const contract = unvalidatedContract(deployed);
  return {
    name: deployed.name,
    description: deployed.description,
    current: contract,
    accepts: [contract],
    ...limits,
    ...(deployed.groupBy ? { ordering: { groupBy: deployed.groupBy } } : {}),
  };
}

function prepared(run: () => PreparedMessage): PreparedMessage["envelope"] {
  try {
    return run().envelope;
  } catch (error) {
    if (error instanceof PublisherError) throw new CliError(error.message);
    throw error;
  }
}

async function publishCommand(topic: string, dataArgument: string, options: PublishOptions): Promise<void> {
  // Check what needs no network first, so a typo fails fast even with the stack out of reach.
  if (options.eventId !== undefined && !UUID.test(options.eventId)) {
    throw new CliError(`--event-id must be a UUID, got "${options.eventId}"`, 2);
  }
  // A given eventId republishes the same event on purpose (a retry, a deduplication test): consumers
  // deduplicate side effects on it.
  const identity: EventIdentity | undefined = options.eventId
    ? { eventId: options.eventId, occurredAt: new Date().toISOString() }
    : undefined;
  const data = await readData(dataArgument);
  const loaded: LoadedTopology | undefined = options.topology
    ? await loadTopologyModule(options.topology)
    : undefined;
  const moduleSpec = loaded ? moduleTopic(loaded, topic) : undefined;
  const source = {
    producer: options.producer,
    now: () => new Date(),
    newId: identity ? () => identity.eventId : randomUUID,
  };
  if (moduleSpec) {
    // Validate before reaching for the stack: a bad message fails the same with the stack out of reach.
    const envelope = prepared(() =>
      // An offloading topic takes any size (the publisher sends a larger body by reference).
      prepareMessage(topic, moduleSpec.current, data, source, publishableBytes(moduleSpec)),
    );
    if (options.dryRun) {
      emit(
        options,
        { topic, valid: true, validated: true, envelope },
        () => `valid ${label(moduleSpec.current)}:\n${JSON.stringify(envelope, null, 2)}`,
      );
      return;
    }
  }
  const where = await commandTarget(options);
  const deployed = await deployedTopology(where);
  const deployedSpec = stackTopic(deployed, topic);
  const spec = publishSpec(deployedSpec, moduleSpec, where.stack);
  const validated = moduleSpec !== undefined;
  const contract = spec.current;
  if (options.dryRun) {
    const envelope = prepared(() => buildMessage(topic, contract, data, source));
    emit(
      options,
      { topic, validated: false, note: NOT_VALIDATED_NOTE, envelope },
      () => `${label(contract)} (${NOT_VALIDATED_NOTE}):\n${JSON.stringify(envelope, null, 2)}`,
    );
    return;
  }
  const local = where.target.kind === "local";
  const publisher = createTopicPublisher({
    topics: {
      [topic]: local
        ? { ...spec, maxMessageBytes: Math.min(topicMaxMessageBytes(spec), LOCALSTACK_MAX_PUBLISH_BYTES) }
        : spec,
    },
    sns: new SNSClient(where.config),
    topicArns: { [topic]: deployedSpec.arn },
    producer: options.producer,
    // A body over an offloading topic's limit goes through the stack's payload bucket.
    ...(deployed.payloadBucket
      ? { payloadStore: { s3: new S3Client(where.config), bucket: deployed.payloadBucket } }
      : {}),
  });
  let published: Published;
  try {
    published = await publisher.publish(topic, data, identity);
  } catch (error) {
    if (error instanceof PublisherError) throw new CliError(error.message);
    throw error;
  }
  emit(
    options,
    {
      topic,
      topicArn: deployedSpec.arn,
      type: contract.type,
      version: contract.version,
      validated,
      eventId: published.eventId,
      messageId: published.messageId,
      stack: where.stack,
      target: where.target.label,
    },
    () =>
      [
        `published ${label(contract)} to ${topic} (stack ${where.stack} on ${where.target.label})`,
        `eventId    ${published.eventId}`,
        `MessageId  ${published.messageId}`,
        ...(validated ? [] : [NOT_VALIDATED_NOTE]),
      ].join("\n"),
  );
}

export function register(program: Command): void {
  const command = program
    .command("publish")
    .description(
      "Publish a message to a topic of the deployed stack: validated against its contract with --topology, else enveloped with the stack's current type and version as given",
    )
    .argument("<topic>", "a topic of the stack")
    .argument("<data>", "the message data as JSON, @file.json, or @- for standard input")
    .option(
      "--topology <module>",
      "your project's topology module (.js, or .ts on Node.js 22.18+; its default or `topology` export, or its only topology made by defineTopology): validate and set filter attributes from its contracts",
    )
    .option("--producer <name>", "the envelope's producer", "courier-cli")
    .option("--event-id <uuid>", "publish under this eventId (republish an event, or test deduplication)")
    .option("--dry-run", "print the envelope without publishing (with --topology: validate, no AWS call)")
    .option("--json", "print machine-readable JSON");
  withTargetOptions(command).action(publishCommand);
}
