/** `courier publish <topic> <json|@file>`: validate one message and publish it to the deployed stack. */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import type { Command } from "commander";
import { LOCALSTACK_MAX_PUBLISH_BYTES } from "../../../../../src/app/deployment/local-run.ts";
import {
  createPublisher,
  type PreparedMessage,
  PublisherError,
  prepareMessage,
  publishableBytes,
  type TopicData,
} from "../../deployment/publisher.ts";
import {
  isTopicName,
  type TopicName,
  type TopicSpec,
  topicNames,
  topics,
} from "../../../../../src/topology.ts";
import { CliError, emit, type OutputOptions } from "../output.ts";
import { commandTarget, deployedTopology, type TargetCliOptions, withTargetOptions } from "../target.ts";

interface PublishOptions extends OutputOptions, TargetCliOptions {
  producer: string;
  dryRun?: boolean;
  eventId?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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

async function publishCommand(topic: string, dataArgument: string, options: PublishOptions): Promise<void> {
  // Check what needs no network first, so a typo fails fast even with LocalStack down.
  if (!isTopicName(topic)) {
    throw new CliError(`unknown topic "${topic}"; known topics: ${topicNames.join(", ")}`, 2);
  }
  if (options.eventId !== undefined && !UUID.test(options.eventId)) {
    throw new CliError(`--event-id must be a UUID, got "${options.eventId}"`, 2);
  }
  // A given eventId republishes the same event on purpose (a retry, a deduplication test): consumers
  // deduplicate side effects on it.
  const identity = options.eventId
    ? { eventId: options.eventId, occurredAt: new Date().toISOString() }
    : undefined;
  const data = await readData(dataArgument);
  const contract = topics[topic].current;
  // Validate before reaching for the stack: a bad message fails the same with LocalStack down.
  let envelope: PreparedMessage["envelope"];
  try {
    envelope = prepareMessage(
      topic,
      contract,
      data,
      {
        producer: options.producer,
        now: () => new Date(),
        newId: identity ? () => identity.eventId : randomUUID,
      },
      // An offloading topic takes any size (the publisher sends a larger body by reference).
      publishableBytes(topics[topic] as TopicSpec),
    ).envelope;
  } catch (error) {
    if (error instanceof PublisherError) throw new CliError(error.message);
    throw error;
  }
  if (options.dryRun) {
    emit(
      options,
      { topic, valid: true, envelope },
      () => `valid ${contract.type} v${contract.version}:\n${JSON.stringify(envelope, null, 2)}`,
    );
    return;
  }
  const where = await commandTarget(options);
  const deployed = await deployedTopology(where);
  const topicArns = Object.fromEntries(topicNames.map((t) => [t, deployed.topics[t].arn])) as Record<
    TopicName,
    string
  >;
  const publisher = createPublisher({
    sns: new SNSClient(where.config),
    topicArns,
    producer: options.producer,
    // A body over an offloading topic's limit goes through the stack's payload bucket.
    ...(deployed.payloadBucket
      ? { payloadStore: { s3: new S3Client(where.config), bucket: deployed.payloadBucket } }
      : {}),
    ...(where.target.kind === "local" ? { maxMessageBytesCeiling: LOCALSTACK_MAX_PUBLISH_BYTES } : {}),
  });
  let published: Awaited<ReturnType<typeof publisher.publish>>;
  try {
    // The data is checked against the contract inside publish; its static type cannot be known here.
    published = await publisher.publish(topic, data as TopicData<typeof topic>, identity);
  } catch (error) {
    if (error instanceof PublisherError) throw new CliError(error.message);
    throw error;
  }
  emit(
    options,
    {
      topic,
      topicArn: topicArns[topic],
      type: contract.type,
      version: contract.version,
      eventId: published.eventId,
      messageId: published.messageId,
      stack: where.stack,
      target: where.target.label,
    },
    () =>
      [
        `published ${contract.type} v${contract.version} to ${topic} (stack ${where.stack} on ${where.target.label})`,
        `eventId    ${published.eventId}`,
        `MessageId  ${published.messageId}`,
      ].join("\n"),
  );
}

export function register(program: Command): void {
  const command = program
    .command("publish")
    .description("Validate a message against its topic's contract and publish it to the deployed stack")
    .argument("<topic>", `topic name: ${topicNames.join(", ")}`)
    .argument("<data>", "the message data as JSON, @file.json, or @- for standard input")
    .option("--producer <name>", "the envelope's producer", "courier-cli")
    .option("--event-id <uuid>", "publish under this eventId (republish an event, or test deduplication)")
    .option("--dry-run", "validate and print the envelope without publishing")
    .option("--json", "print machine-readable JSON");
  withTargetOptions(command).action(publishCommand);
}
