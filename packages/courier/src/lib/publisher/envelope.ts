import type { MessageAttributeValue } from "@aws-sdk/client-sns";
import * as z from "zod/mini";
import "../zod-locale.ts";
import type { AnyContract, ContractEnvelope } from "../contracts/index.ts";
import type { TraceContext } from "../trace/trace-context.ts";
import {
  InvalidMessageError,
  MessageTooLargeError,
  RESERVED_ATTRIBUTE_PREFIX,
  ReservedAttributeError,
} from "./errors.ts";
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
 * Validates `data` against the topic's contract and builds what SNS receives. `trace`, when given,
 * goes into the envelope (its `trace` field), not into message attributes, because:
 * - SQS keeps at most 10 attributes per message, and courier's are spoken for: type, version, the
 *   contract's filter fields, ExtendedPayloadSize on a pointer, then `courier.failure` on a DLQ copy
 *   and `courier.lineage` on a redriven one. Trace attributes would crowd out the ones filter
 *   policies and redrive depend on (test/unit/trace-attribute-budget.test.ts counts them).
 * - The body travels byte for byte through every hop courier has: SNS raw delivery and the FIFO
 *   notification wrapper, the DLQ copy, StartMessageMoveTask and selective redrive, the subscription
 *   DLQ, an offloaded payload in S3, an outbox republish. Attributes are dropped on some of these.
 * - A consumer decodes the envelope anyway, so reading the trace costs nothing more.
 * X-Ray's own propagation is separate: Lambda's SDK sends the active trace header with Publish,
 * SNS passes it to SQS as the AWSTraceHeader system attribute (which does not count as one of the
 * 10), and the runtime keeps that on DLQ copies; the envelope holds a copy for the logs.
 * Throws InvalidMessageError, or MessageTooLargeError over `maxBytes` (the topic's limit,
 * `topicMaxMessageBytes`; SNS's default 256 KiB when not given).
 */
export function prepareMessage(
  topic: string,
  contract: AnyContract,
  data: unknown,
  source: EnvelopeSource,
  maxBytes: number = SNS_MAX_PAYLOAD_BYTES,
  trace?: TraceContext,
): PreparedMessage {
  const message = buildMessage(topic, contract, data, source, trace);
  if (message.sizeBytes > maxBytes) throw new MessageTooLargeError(topic, message.sizeBytes, maxBytes);
  return message;
}

/** Validates and envelopes like `prepareMessage` but leaves the size to the caller (offloading). */
export function buildMessage(
  topic: string,
  contract: AnyContract,
  data: unknown,
  source: EnvelopeSource,
  trace?: TraceContext,
): PreparedMessage {
  const parsed = z.safeParse(contract.data as z.core.$ZodType, data);
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
    ...(trace ? { trace } : {}),
    data: parsed.data,
  };
  const attributes: Record<string, MessageAttributeValue> = {
    type: stringAttribute(contract.type),
    version: stringAttribute(String(contract.version)),
  };
  for (const [name, value] of Object.entries(contract.filterAttributes(parsed.data))) {
    if (name.toLowerCase().startsWith(RESERVED_ATTRIBUTE_PREFIX))
      throw new ReservedAttributeError(topic, name);
    attributes[name] = stringAttribute(value);
  }
  const body = JSON.stringify(envelope);
  const sizeBytes = snsMessageSize(body, attributes);
  return { envelope, body, attributes, sizeBytes };
}
