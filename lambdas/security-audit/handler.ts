/**
 * security-audit: appends each security event to its account's audit trail in DynamoDB, in the
 * order the events were published (FIFO topic; the key is the topic's sequence number).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { defineConsumer, tracedClient } from "@courier-queue/courier";
import { securityAuditConfig } from "../../src/app/security-audit/config.ts";
import { type AuditedEvent, recordSecurityEvent } from "../../src/app/security-audit/record-event.ts";
import { onceWhereConfigured } from "../../src/app/signup/once-where-configured.ts";
import { courierTopology } from "../../src/topology.ts";

const { auditTable } = securityAuditConfig();
// Its calls are the side effects: a span each under the record that caused them (OpenTelemetry).
const dynamo = tracedClient("security-audit", new DynamoDBClient({}));

// A republish of the same eventId after SNS's 5-minute deduplication window gets a new sequence
// number; the idempotency record keeps it from becoming a second entry.
const recordOnce = onceWhereConfigured(
  "security-audit",
  (input: AuditedEvent & { readonly sequenceNumber: string | undefined }) =>
    recordSecurityEvent({ dynamo, table: auditTable }, input, input.sequenceNumber),
);

export const handler = defineConsumer(courierTopology, {
  name: "security-audit",
  handle: async (message, ctx) => {
    const result = await recordOnce({ ...message, sequenceNumber: ctx.sequenceNumber }, ctx);
    ctx.logger.info("security event recorded", { ...result, sequenceNumber: ctx.sequenceNumber });
  },
});
