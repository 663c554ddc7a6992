/** security-audit: turns a PasswordResetRequested event into an audit trail entry. */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PermanentError } from "@courier-queue/courier";
import type { PasswordResetRequestedV1 } from "../contracts/index.ts";
import { appendAuditEntry } from "./audit-table.ts";

/** The record carries no sequence number: it did not come through a FIFO topic. */
export class MissingSequenceNumberError extends PermanentError {
  override readonly name: string = "MissingSequenceNumberError";
}

export interface AuditedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly occurredAt: string;
  readonly data: PasswordResetRequestedV1;
}

export async function recordSecurityEvent(
  deps: { readonly dynamo: Pick<DynamoDBClient, "send">; readonly table: string },
  event: AuditedEvent,
  sequenceNumber: string | undefined,
): Promise<{ appended: boolean }> {
  if (!sequenceNumber) {
    throw new MissingSequenceNumberError(
      `event ${event.eventId} has no topic sequence number to order it by`,
    );
  }
  const { data } = event;
  const appended = await appendAuditEntry(deps.dynamo, deps.table, {
    accountId: data.accountId,
    sequenceNumber,
    eventId: event.eventId,
    type: event.type,
    occurredAt: event.occurredAt,
    detail: {
      requestedAt: data.requestedAt,
      ...(data.ip ? { ip: data.ip } : {}),
      ...(data.userAgent ? { userAgent: data.userAgent } : {}),
    },
  });
  return { appended };
}
