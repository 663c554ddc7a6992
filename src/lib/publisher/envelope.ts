import type { MessageAttributeValue } from "@aws-sdk/client-sns";
import type { z } from "zod";
import type { AnyContract, ContractEnvelope } from "../contracts/index.ts";
import { InvalidMessageError, MessageTooLargeError } from "./errors.ts";
import { SNS_MAX_PAYLOAD_BYTES, snsMessageSize } from "./size.ts";

/** A message ready for SNS: validated, enveloped, with its attributes and the size SNS will count. */
export interface PreparedMessage {
  readonly envelope: ContractEnvelope<AnyContract>;
  readonly body: string;
  readonly attributes: Record<string, MessageAttributeValue>;
  readonly sizeBytes: number;
}

export interface EnvelopeSource {
  readonly producer: string;
  readonly now: () => Date;
  readonly newId: () => string;
}

/** "phone", "tags.0.name"; "(root)" for an issue on the data as a whole. */
function issuePath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? "(root)" : path.map(String).join(".");
}

function stringAttribute(value: string): MessageAttributeValue {
  return { DataType: "String", StringValue: value };
}

/**
 * Validates `data` against the topic's contract and builds what SNS receives.
 * Throws InvalidMessageError, or MessageTooLargeError over `maxBytes` (the topic's limit,
 * `topicMaxMessageBytes`; SNS's default 256 KiB when not given).
 */
export function prepareMessage(
  topic: string,
  contract: AnyContract,
  data: unknown,
  source: EnvelopeSource,
  maxBytes: number = SNS_MAX_PAYLOAD_BYTES,
): PreparedMessage {
  const message = buildMessage(topic, contract, data, source);
  if (message.sizeBytes > maxBytes) throw new MessageTooLargeError(topic, message.sizeBytes, maxBytes);
  return message;
}

/** Validates and envelopes like `prepareMessage` but leaves the size to the caller (offloading). */
export function buildMessage(
  topic: string,
  contract: AnyContract,
  data: unknown,
  source: EnvelopeSource,
): PreparedMessage {
  const parsed = (contract.data as z.ZodType).safeParse(data);
  if (!parsed.success) {
    throw new InvalidMessageError(
      topic,
      `${contract.type} v${contract.version}`,
      parsed.error.issues.map((issue) => ({ path: issuePath(issue.path), reason: issue.message })),
    );
  }
  const envelope: ContractEnvelope<AnyContract> = {
    eventId: source.newId(),
    type: contract.type,
    version: contract.version,
    occurredAt: source.now().toISOString(),
    producer: source.producer,
    data: parsed.data,
  };
  const attributes: Record<string, MessageAttributeValue> = {
    type: stringAttribute(contract.type),
    version: stringAttribute(String(contract.version)),
  };
  for (const [name, value] of Object.entries(contract.filterAttributes(parsed.data))) {
    attributes[name] = stringAttribute(value);
  }
  const body = JSON.stringify(envelope);
  const sizeBytes = snsMessageSize(body, attributes);
  return { envelope, body, attributes, sizeBytes };
}
