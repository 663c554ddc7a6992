/**
 * The idempotency record's key, which outlives every deploy: a change in how it is derived would
 * make every message already handled look new (its effect repeated once more) for the 15 days its
 * records live. The key is Powertools' hash of the eventId (or "<eventId>#<replay scope>") under
 * the consumer's prefix, once picked from an object with the JMESPath expression "key", now passed
 * as the hashed argument itself (which spares each cold start compiling JMESPath). Failure mode
 * covered: a key that differs from the one stored by earlier releases (this test passes on both).
 */
import { createHash } from "node:crypto";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, it } from "vitest";
import { oncePerEvent } from "../../packages/courier/src/lib/idempotency/once-per-event.ts";
import { idempotencyKeyPrefix } from "../../packages/courier/src/lib/idempotency/table-schema.ts";

const dynamo = mockClient(DynamoDBClient);

/** The key earlier releases stored: Powertools' md5 (base64) of the JSON of the extracted string. */
function storedKey(consumer: string, value: string): string {
  const hash = createHash("md5").update(JSON.stringify(value)).digest("base64");
  return `${idempotencyKeyPrefix(consumer)}#${hash}`;
}

describe("the idempotency key of oncePerEvent", () => {
  it("GIVEN an event WHEN its effect runs once per event THEN the record's key is the hash of its eventId under the consumer's prefix, as stored before", async () => {
    dynamo.reset();
    dynamo.on(PutItemCommand).resolves({});
    dynamo.on(UpdateItemCommand).resolves({});
    dynamo.on(GetItemCommand).resolves({});
    const store = new DynamoDBPersistenceLayer({
      tableName: "idempotency",
      keyAttr: "id",
      awsSdkV3Client: new DynamoDBClient({ region: "us-east-1" }),
    });
    let runs = 0;
    const once = oncePerEvent(
      async (input: { eventId: string; n: number }) => {
        runs += 1;
        return input.n * 2;
      },
      { persistenceStore: store, consumer: "verification-email" },
    );
    const eventId = "0b8f4c4e-3f35-4a47-9a0e-58a1b9a7c001";

    await expect(once({ eventId, n: 21 })).resolves.toBe(42);

    const put = dynamo.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(unmarshall(put?.Item ?? {}).id).toBe(storedKey("verification-email", eventId));
    expect(runs).toBe(1);
  });
});
