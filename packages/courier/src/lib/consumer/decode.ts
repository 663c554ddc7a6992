/**
 * Turns an SQS record body into a contract-checked envelope, or throws a `PermanentError`
 * subclass that says exactly what is wrong with it (the reason the DLQ message will carry).
 */
import * as z from "zod/mini";
import "../zod-locale.ts";
import { type AnyContract, type AnyEnvelope, anyEnvelopeSchema } from "../contracts/index.ts";
import {
  InvalidDataError,
  MalformedBodyError,
  MissingEnvelopeError,
  UnsupportedMessageError,
} from "./errors.ts";

/**
 * Only the two fields that identify an SNS notification (raw delivery off): LocalStack's and AWS's
 * notifications differ in the signing fields, which a consumer behind SQS does not verify anyway.
 * The same as Powertools parser's `SnsSqsNotificationSchema.pick({ Type, Message })`, written here
 * because the parser's schemas import zod as `{ z }`, which bundles all of zod (every locale:
 * 360 KiB more in each Lambda bundle; see the cold-start benchmark).
 */
const snsNotificationSchema = z.object({
  Type: z.literal("Notification"),
  Message: z.string(),
  // A FIFO topic numbers each message; the number travels in the notification, so it survives redrive.
  SequenceNumber: z.optional(z.string()),
});

export interface DecodedMessage {
  readonly contract: AnyContract;
  readonly message: AnyEnvelope;
  /** The SNS FIFO topic's SequenceNumber, when the record is an SNS notification from one. */
  readonly snsSequenceNumber?: string;
}

/** Indexes the accepted contracts by type and version once, so decoding a record is one lookup. */
export function contractIndex(accepts: readonly AnyContract[]): ReadonlyMap<string, AnyContract> {
  return new Map(accepts.map((c) => [contractKey(c.type, c.version), c]));
}

function contractKey(type: string, version: number): string {
  return `${type}@${version}`;
}

export function decodeBody(body: string, contracts: ReadonlyMap<string, AnyContract>): DecodedMessage {
  let parsed = parseJson(body, "body");
  // The schema needs both keys; checking for them first spares every raw-delivery record a failed parse.
  let snsSequenceNumber: string | undefined;
  if (mayBeSnsNotification(parsed)) {
    const notification = snsNotificationSchema.safeParse(parsed);
    if (notification.success) {
      parsed = parseJson(notification.data.Message, "SNS notification Message");
      snsSequenceNumber = notification.data.SequenceNumber;
    }
  }

  // The common case: the header names an accepted contract, and one parse of that contract's
  // envelope checks header and data at once (one zod pass, one output object).
  const named = namedContract(parsed, contracts);
  let decoded: DecodedMessage | undefined;
  if (named) {
    const whole = z.safeParse(named.envelope, parsed);
    if (whole.success) decoded = { contract: named, message: whole.data as AnyEnvelope };
  }
  decoded ??= decodeFailure(parsed, contracts);
  return snsSequenceNumber === undefined ? decoded : { ...decoded, snsSequenceNumber };
}

function mayBeSnsNotification(value: unknown): boolean {
  return typeof value === "object" && value !== null && "Type" in value && "Message" in value;
}

function namedContract(value: unknown, contracts: ReadonlyMap<string, AnyContract>): AnyContract | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { type, version } = value as { type?: unknown; version?: unknown };
  return typeof type === "string" && typeof version === "number"
    ? contracts.get(contractKey(type, version))
    : undefined;
}

/**
 * Checks the parts in order (envelope header, accepted contract, data) so the error says exactly
 * what is wrong; also returns the message if it is valid after all.
 */
function decodeFailure(parsed: unknown, contracts: ReadonlyMap<string, AnyContract>): DecodedMessage {
  const envelope = anyEnvelopeSchema.safeParse(parsed);
  if (!envelope.success) {
    throw new MissingEnvelopeError(`not a courier envelope: ${describeIssues(envelope.error)}`);
  }
  const { type, version } = envelope.data;
  const contract = contracts.get(contractKey(type, version));
  if (!contract) {
    const accepted = [...contracts.values()].map((c) => `${c.type} v${c.version}`).join(", ");
    throw new UnsupportedMessageError(`${type} v${version} is not accepted here; accepted: ${accepted}`);
  }
  // The header is already checked; only the data needs the contract's schema.
  const data = z.safeParse(contract.data, envelope.data.data);
  if (!data.success) {
    throw new InvalidDataError(`${type} v${version} data is invalid: ${describeIssues(data.error)}`);
  }
  return { contract, message: { ...envelope.data, data: data.data } };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new MalformedBodyError(`${what} is not JSON: ${(error as Error).message}`);
  }
}

/** One line per issue, "path: message", so the DLQ reason says which field failed and why. */
function describeIssues(error: z.core.$ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(root)"}: ${issue.message}`)
    .join("; ");
}
