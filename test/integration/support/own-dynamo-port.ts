/**
 * Per-file setup for the integration project: integration files run side by side, and a file that
 * needs a DynamoDB-API server starts dynalite in its own process (src/dev/dynamodb-local.ts). On the
 * shared default port (8000) the second file would reuse the first file's server and lose it when
 * that file ends, so each file gets a free port of its own; worker processes it spawns inherit it.
 */
import { createServer } from "node:net";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP port was assigned");
  return address.port;
}

process.env.COURIER_DYNAMODB_PORT = String(await freePort());
