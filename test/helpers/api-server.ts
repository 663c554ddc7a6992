/**
 * The example API server on a loopback port for a unit test: a fresh SQLite file, a clock the test
 * moves, and publishers that accept everything unless the test passes its own. `closeApiServers()`
 * (in an afterEach) closes every server started since the last call.
 */
import { mkdtempSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { S3Client } from "@aws-sdk/client-s3";
import { openAccountsDb } from "../../src/app/accounts/account-store.ts";
import { type ApiServerDeps, createApiServer } from "../../src/app/api/api-server.ts";
import type { VerificationKey } from "../../src/app/signup/verification-code.ts";

export interface TestApi {
  readonly base: string;
  readonly db: DatabaseSync;
  readonly clock: { ms: number };
}

const open: Array<() => Promise<void>> = [];

export async function startApiServer(
  key: VerificationKey,
  options: Partial<ApiServerDeps> = {},
): Promise<TestApi> {
  const db = openAccountsDb(join(mkdtempSync(join(tmpdir(), "courier-api-")), "accounts.db"));
  const clock = { ms: Date.parse("2026-11-28T10:00:00.000Z") };
  const server = createApiServer({
    db,
    verificationKey: async () => key,
    s3: new S3Client({ region: "us-east-1" }),
    uploadsBucket: "uploads",
    imagePublisher: { publish: async () => ({ eventId: "e", messageId: "m" }) },
    now: () => new Date(clock.ms),
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  open.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    db.close();
  });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, db, clock };
}

export async function closeApiServers(): Promise<void> {
  for (const close of open.splice(0)) await close();
}
