/**
 * The example API server against slow and endless clients, over real sockets on loopback. Failure
 * modes covered: a slow-loris client (headers a byte at a time) holding a connection for as long as
 * it likes; an upload of unknown length (chunked) read without end; an answer quoting the request
 * body or a secret back.
 */
import { mkdtempSync } from "node:fs";
import type { Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { S3Client } from "@aws-sdk/client-s3";
import { afterEach, describe, expect, it } from "vitest";
import { openAccountsDb } from "../../src/app/accounts/account-store.ts";
import { createApiServer } from "../../src/app/api/api-server.ts";
import { DEFAULT_SERVER_TIMEOUTS, type ServerTimeouts } from "../../src/app/api/server-hardening.ts";
import { outboxCounts } from "../../src/app/outbox/index.ts";
import { verificationKey } from "../../src/app/signup/verification-code.ts";
import { call } from "../helpers/api-client.ts";

const SECRET = "s3cr3t-verification-key-material-xxxxxxxxxxx";
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function startApi(
  timeouts: Partial<ServerTimeouts> = {},
): Promise<{ base: string; port: number; db: DatabaseSync }> {
  const db = openAccountsDb(join(mkdtempSync(join(tmpdir(), "courier-hardening-")), "accounts.db"));
  const server: Server = createApiServer({
    db,
    verificationKey: async () => verificationKey(SECRET),
    s3: new S3Client({ region: "us-east-1" }),
    uploadsBucket: "uploads",
    imagePublisher: { publish: async () => ({ eventId: "e", messageId: "m" }) },
    maxUploadBytes: 64 * 1024,
    timeouts: { ...DEFAULT_SERVER_TIMEOUTS, ...timeouts },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    db.close();
  });
  const port = (server.address() as AddressInfo).port;
  return { base: `http://127.0.0.1:${port}`, port, db };
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Resolves when the server ends the connection, with what it sent and how long it took. */
function whenClosed(socket: Socket): Promise<{ received: string; afterMs: number }> {
  const started = Date.now();
  let received = "";
  socket.on("data", (d: Buffer) => {
    received += d.toString("latin1");
  });
  return new Promise((resolve) => {
    socket.once("close", () => resolve({ received, afterMs: Date.now() - started }));
    socket.on("error", () => {});
  });
}

describe("server hardening", () => {
  it("GIVEN a client sending its headers one byte a second WHEN headersTimeout passes THEN it is cut off, while a normal client is served meanwhile", async () => {
    const headersTimeoutMs = 2_000;
    const { base, port } = await startApi({
      headersTimeoutMs,
      requestTimeoutMs: 5_000,
      checkIntervalMs: 250,
    });
    const loris = await openSocket(port);
    const closed = whenClosed(loris);
    const request = "POST /accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Slow: ";
    let i = 0;
    const drip = setInterval(() => {
      if (!loris.destroyed) loris.write(request[i++ % request.length] ?? "a");
    }, 1_000);
    try {
      // Served while the slow client holds its connection.
      const normal = await call(base, "/accounts", {
        body: { email: "normal@example.com", displayName: "N" },
      });
      expect(normal.status).toBe(201);
      const { received, afterMs } = await closed;
      // Bounded by the test's own timeout: without the server's limit the drip would go on for ever.
      expect(afterMs).toBeLessThan(headersTimeoutMs + 3_000);
      expect(received).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(drip);
      loris.destroy();
    }
  }, 20_000);

  it("GIVEN an upload of unknown length (chunked) that never ends WHEN it passes the body limit THEN the server answers 413 and closes the connection", async () => {
    const { port } = await startApi();
    const socket = await openSocket(port);
    const closed = whenClosed(socket);
    socket.write(
      "POST /images HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    const chunk = Buffer.alloc(16 * 1024, 1);
    let sent = 0;
    // Keeps sending until the server hangs up (or 50 MiB, far past the 64 KiB limit).
    const pump = async () => {
      while (!socket.destroyed && sent < 50 * 1024 * 1024) {
        const ok =
          socket.write(`${chunk.length.toString(16)}\r\n`) && socket.write(chunk) && socket.write("\r\n");
        sent += chunk.length;
        if (!ok) await new Promise((r) => socket.once("drain", r).once("close", r));
      }
    };
    await Promise.race([pump().catch(() => {}), closed]);
    const { received } = await closed;
    expect(received).toMatch(/^HTTP\/1\.1 413/);
    expect(received).toContain("payload_too_large");
    expect(sent).toBeLessThan(50 * 1024 * 1024);
  }, 20_000);

  it("GIVEN a chunked JSON body over the 64 KiB JSON limit WHEN posted to /accounts THEN 413 and nothing is stored", async () => {
    const { port, db } = await startApi();
    const socket = await openSocket(port);
    const closed = whenClosed(socket);
    socket.write(
      "POST /accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    const piece = `{"email":"a@example.com","displayName":"${"x".repeat(100 * 1024)}"}`;
    socket.write(`${Buffer.byteLength(piece).toString(16)}\r\n${piece}\r\n0\r\n\r\n`);
    const { received } = await closed;
    expect(received).toMatch(/^HTTP\/1\.1 413/);
    expect(outboxCounts(db).pending).toBe(0);
  });

  it("GIVEN bad requests carrying a marker in their body WHEN refused THEN no answer quotes the marker or the key", async () => {
    const { base } = await startApi();
    const marker = "CANARY-7f3a9c";
    await call(base, "/accounts", { body: { email: "dup@example.com", displayName: "D" } });
    const answers = await Promise.all([
      call(base, "/accounts", { body: { email: `${marker}@`, displayName: marker } }),
      call(base, "/accounts", { body: { email: "dup@example.com", displayName: marker } }),
      call(base, "/accounts", { body: { email: "b@example.com", displayName: "B", [marker]: marker } }),
      call(base, "/accounts", { body: { email: "c@example.com", displayName: "C", phone: marker } }),
      call(base, "/accounts", { body: { email: "c@example.com", displayName: "C", locale: marker } }),
      call(base, `/accounts/${marker}/verify`, { body: { code: "123456" } }),
      call(base, `/accounts/${marker}/verification/resend`, { body: { channel: marker } }),
      call(base, `/${marker}`, { method: "DELETE" }),
    ]);
    for (const a of answers) {
      expect(a.status).toBeGreaterThanOrEqual(400);
      expect(a.text).not.toContain(marker);
      expect(a.text).not.toContain(SECRET);
    }
  });
});
