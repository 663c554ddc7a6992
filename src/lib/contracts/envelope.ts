import { z } from "zod";

/**
 * The envelope every message travels in. `eventId` is assigned by the producer and is the
 * idempotency key for side effects: SQS gives a redriven message a new MessageId, so the
 * MessageId cannot serve.
 */
export const envelopeHeaderSchema = z.object({
  eventId: z.uuid(),
  type: z.string().min(1).max(64),
  version: z.number().int().positive(),
  occurredAt: z.iso.datetime({ offset: true }),
  producer: z.string().min(1).max(128),
});

/** Any envelope, before its `data` is checked against the contract for its type and version. */
export const anyEnvelopeSchema = envelopeHeaderSchema.extend({ data: z.unknown() });
export type AnyEnvelope = z.infer<typeof anyEnvelopeSchema>;

export interface Envelope<TType extends string, TVersion extends number, TData> {
  eventId: string;
  type: TType;
  version: TVersion;
  occurredAt: string;
  producer: string;
  data: TData;
}
