/**
 * The DynamoDB-API server for local runs. LocalStack's own DynamoDB downloads its engine at first
 * use, which cannot happen here, so courier embeds dynalite (from npm: nothing else to install,
 * no JRE as DynamoDB Local would need). It implements the conditional writes Powertools
 * idempotency relies on; it does not expire items by TTL, which Powertools does not need (it
 * checks each record's expiry itself).
 */
import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
} from "@aws-sdk/client-dynamodb";
import { IDEMPOTENCY_PARTITION_KEY } from "@courier-queue/courier";
import dynalite from "dynalite";
import { AUDIT_PARTITION_KEY, AUDIT_SORT_KEY } from "../app/security-audit/audit-table.ts";
import { localClientConfig } from "./local-aws-config.ts";

export const DEFAULT_DYNAMODB_PORT = 8000;

export interface LocalDynamo {
  readonly endpoint: string;
  /** True when this process started the server (and `close` stops it). */
  readonly started: boolean;
  close(): Promise<void>;
}

export function dynamoClient(endpoint: string): DynamoDBClient {
  const { region, credentials } = localClientConfig();
  return new DynamoDBClient({ endpoint, region, credentials });
}

async function answers(endpoint: string): Promise<boolean> {
  const client = dynamoClient(endpoint);
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

export class DynamoPortTakenError extends Error {
  override readonly name = "DynamoPortTakenError";
}

/**
 * Reuses a DynamoDB-API server already answering on the port (or at `AWS_ENDPOINT_URL_DYNAMODB`),
 * else starts dynalite in this process: in memory, or persisted under `path`.
 */
export async function ensureLocalDynamo(
  options: { port?: number; path?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<LocalDynamo> {
  const env = options.env ?? process.env;
  const configured = env.AWS_ENDPOINT_URL_DYNAMODB;
  if (configured) return { endpoint: configured, started: false, close: async () => {} };
  const port = options.port ?? Number(env.COURIER_DYNAMODB_PORT ?? DEFAULT_DYNAMODB_PORT);
  const endpoint = `http://127.0.0.1:${port}`;
  if (await answers(endpoint)) return { endpoint, started: false, close: async () => {} };

  if (options.path) mkdirSync(options.path, { recursive: true });
  const server: Server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path ? { path: options.path } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new DynamoPortTakenError(`port ${port} is taken by something that does not speak DynamoDB`)
          : error,
      ),
    );
    server.listen(port, "127.0.0.1", () => resolve());
  });
  // Embedded in a CLI or test process: do not keep it alive on its own.
  server.unref();
  return {
    endpoint,
    started: true,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Creates the idempotency table with the key the CDK stack gives it, if it is not there yet. */
export async function ensureIdempotencyTable(endpoint: string, tableName: string): Promise<void> {
  const client = dynamoClient(endpoint);
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        KeySchema: [{ AttributeName: IDEMPOTENCY_PARTITION_KEY, KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: IDEMPOTENCY_PARTITION_KEY, AttributeType: "S" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await client.send(new DescribeTableCommand({ TableName: tableName }));
  client.destroy();
}

/** Creates the audit trail table with the key the CDK stack gives it, if it is not there yet. */
export async function ensureAuditTable(endpoint: string, tableName: string): Promise<void> {
  const client = dynamoClient(endpoint);
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        KeySchema: [
          { AttributeName: AUDIT_PARTITION_KEY, KeyType: "HASH" },
          { AttributeName: AUDIT_SORT_KEY, KeyType: "RANGE" },
        ],
        AttributeDefinitions: [
          { AttributeName: AUDIT_PARTITION_KEY, AttributeType: "S" },
          { AttributeName: AUDIT_SORT_KEY, AttributeType: "S" },
        ],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await client.send(new DescribeTableCommand({ TableName: tableName }));
  client.destroy();
}
