import * as z from "zod/mini";
import "../zod-locale.ts";
import { envelopeTraceSchema, type TraceContext } from "../trace/trace-context.ts";

/**
 * The envelope every message travels in. `eventId` is assigned by the producer and is the
 * idempotency key for side effects: SQS gives a redriven message a new MessageId, so the
 * MessageId cannot serve.
 */
export const envelopeHeaderSchema = z.object({
  eventId: z.uuid(),
  type: z.string().check(z.minLength(1), z.maxLength(64)),
  version: z.int().check(z.positive()),
  occurredAt: z.iso.datetime({ offset: true }),
  producer: z.string().check(z.minLength(1), z.maxLength(128)),
  /**
   * Where the message came from, for logs and traces (src/lib/trace). In the envelope rather than
   * in message attributes: see publisher/envelope.ts. Optional, and dropped rather than refused
   * when malformed: a trace never makes a message fail.
   */
  trace: envelopeTraceSchema,
});

/** Any envelope, before its `data` is checked against the contract for its type and version. */
export const anyEnvelopeSchema = z.extend(envelopeHeaderSchema, { data: z.unknown() });
export type AnyEnvelope = z.infer<typeof anyEnvelopeSchema>;

export interface Envelope<TType extends string, TVersion extends number, TData> {
  eventId: string;
  type: TType;
  version: TVersion;
  occurredAt: string;
  producer: string;
  trace?: TraceContext | undefined;
  data: TData;
}
