/**
 * The security audit trail: one DynamoDB item per event, keyed by account and the topic's sequence
 * number, so a Query returns an account's trail in the order the events were published.
 *
 * The key is SNS's SequenceNumber (it rides in the SNS envelope the FIFO subscription delivers),
 * not SQS's: a redriven message keeps its body, hence its SNS number and its place in the trail,
 * while SQS numbers it anew on every send. Writes are conditional on the key being new, so a
 * redelivery of the same notification appends nothing.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from "@aws-sdk/client-dynamodb";

export const AUDIT_PARTITION_KEY = "accountId";
export const AUDIT_SORT_KEY = "sequence";

/** Sequence numbers are decimal strings of up to 128 bits (39 digits): padded, they sort as text. */
const SEQUENCE_DIGITS = 40;

export function sortableSequence(sequenceNumber: string): string {
  if (!/^\d{1,40}$/.test(sequenceNumber)) throw new RangeError(`not a sequence number: "${sequenceNumber}"`);
  return sequenceNumber.padStart(SEQUENCE_DIGITS, "0");
}

export interface AuditEntry {
  readonly accountId: string;
  /** The topic's sequence number of the event (decimal string). */
  readonly sequenceNumber: string;
  readonly eventId: string;
  readonly type: string;
  readonly occurredAt: string;
  readonly detail: Readonly<Record<string, string>>;
}

/** Appends an entry; false when that account and sequence number were already recorded. */
export async function appendAuditEntry(
  dynamo: Pick<DynamoDBClient, "send">,
  table: string,
  entry: AuditEntry,
  now: Date = new Date(),
): Promise<boolean> {
  try {
    await dynamo.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          [AUDIT_PARTITION_KEY]: { S: entry.accountId },
          [AUDIT_SORT_KEY]: { S: sortableSequence(entry.sequenceNumber) },
          eventId: { S: entry.eventId },
          type: { S: entry.type },
          occurredAt: { S: entry.occurredAt },
          recordedAt: { S: now.toISOString() },
          detail: { S: JSON.stringify(entry.detail) },
        },
        ConditionExpression: "attribute_not_exists(#pk)",
        ExpressionAttributeNames: { "#pk": AUDIT_PARTITION_KEY },
      }),
    );
    return true;
  } catch (error) {
    if (
      error instanceof ConditionalCheckFailedException ||
      (error as Error).name === "ConditionalCheckFailedException"
    ) {
      return false;
    }
    throw error;
  }
}

export interface AuditTrailItem extends AuditEntry {
  readonly recordedAt: string;
}

/** An account's trail, oldest first (all pages). */
export async function readAuditTrail(
  dynamo: Pick<DynamoDBClient, "send">,
  table: string,
  accountId: string,
): Promise<AuditTrailItem[]> {
  const items: AuditTrailItem[] = [];
  let startKey: QueryCommand["input"]["ExclusiveStartKey"];
  do {
    const page = await dynamo.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "#pk = :account",
        ExpressionAttributeNames: { "#pk": AUDIT_PARTITION_KEY },
        ExpressionAttributeValues: { ":account": { S: accountId } },
        ScanIndexForward: true,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      items.push({
        accountId: item[AUDIT_PARTITION_KEY]?.S ?? accountId,
        sequenceNumber: (item[AUDIT_SORT_KEY]?.S ?? "").replace(/^0+(?=\d)/, ""),
        eventId: item.eventId?.S ?? "",
        type: item.type?.S ?? "",
        occurredAt: item.occurredAt?.S ?? "",
        recordedAt: item.recordedAt?.S ?? "",
        detail: JSON.parse(item.detail?.S ?? "{}") as Record<string, string>,
      });
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}
