/**
 * What an attacker gets from the example API, with its defences off and on,
 * in the same run: 1,000 wrong SMS codes posted to one account, and a burst of 100 sign-ups from one
 * address. Each scenario runs a fresh API server in this process on loopback with accounts in a
 * temporary SQLite file; requests go one after another over real HTTP, as a single script would
 * send them. "Defences off" is the same server with the attempt limit and rate limits raised out of
 * reach, so the rows differ only in the limits (the counting itself stays).
 *
 * Run alone: npx tsx bench/abuse.bench.ts
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { S3Client } from "@aws-sdk/client-s3";
import { findAccount, openAccountsDb } from "../src/app/accounts/account-store.ts";
import { createApiServer } from "../src/app/api/api-server.ts";
import {
  createEdgeLimiter,
  DEFAULT_EDGE_LIMITS,
  type EdgeLimitSettings,
} from "../src/app/api/edge-limits.ts";
import { outboxCounts } from "../src/app/outbox/index.ts";
import { issueSmsCode, verificationKey } from "../src/app/signup/verification-code.ts";
import { call } from "../test/helpers/api-client.ts";
import type { BenchContext, Benchmark, BenchResult, Row } from "./lib/benchmark.ts";

const WRONG_CODES = 1_000;
const SIGNUPS = 100;
const PHONE = "+14155550123";
const key = verificationKey("b".repeat(43));

const unlimited: EdgeLimitSettings = Object.fromEntries(
  Object.keys(DEFAULT_EDGE_LIMITS).map((action) => [
    action,
    {
      perClient: { points: 1_000_000, durationSeconds: 3600 },
      perTarget: { points: 1_000_000, durationSeconds: 3600 },
    },
  ]),
) as EdgeLimitSettings;

async function withServer<T>(
  defended: boolean,
  work: (base: string, db: ReturnType<typeof openAccountsDb>) => Promise<T>,
) {
  const dir = mkdtempSync(join(tmpdir(), "courier-bench-abuse-"));
  const db = openAccountsDb(join(dir, "accounts.db"));
  const server: Server = createApiServer({
    db,
    verificationKey: async () => key,
    s3: new S3Client({ region: "us-east-1" }),
    uploadsBucket: "uploads",
    imagePublisher: { publish: async () => ({ eventId: "e", messageId: "m" }) },
    edgeLimiter: createEdgeLimiter(defended ? DEFAULT_EDGE_LIMITS : unlimited),
    maxCodeFailures: defended ? 5 : Number.MAX_SAFE_INTEGER,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    return await work(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, db);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function guessCodes(defended: boolean): Promise<Row> {
  return withServer(defended, async (base, db) => {
    const created = await call(base, "/accounts", {
      body: { email: "target@example.com", displayName: "Target", phone: PHONE },
    });
    const accountId = String(created.json.accountId);
    const right = issueSmsCode(
      key,
      { accountId, address: PHONE },
      findAccount(db, accountId)?.createdAt ?? "",
    ).code;
    let compared = 0;
    let refused = 0;
    const started = performance.now();
    for (let i = 0; i < WRONG_CODES; i++) {
      const wrong = String((Number(right) + 1 + i) % 1_000_000).padStart(6, "0");
      const res = await call(base, `/accounts/${accountId}/verify`, {
        body: { code: wrong },
        headers: { authorization: `Bearer ${String(created.json.credential)}` },
      });
      if (res.status === 422) compared++;
      else if (res.status === 429) refused++;
    }
    const seconds = (performance.now() - started) / 1000;
    // Guesses the server compares per hour: unlimited, the rate; limited, 5 per code and the
    // re-sends a target may have an hour.
    const perHour = defended
      ? 5 *
        DEFAULT_EDGE_LIMITS["code-resend"].perTarget.points *
        (3600 / DEFAULT_EDGE_LIMITS["code-resend"].perTarget.durationSeconds)
      : (WRONG_CODES / seconds) * 3600;
    const expectedHours = 500_000 / perHour;
    return {
      attack: defended
        ? `${WRONG_CODES} wrong SMS codes, defences on`
        : `${WRONG_CODES} wrong SMS codes, defences off`,
      requests: WRONG_CODES,
      "accepted (compared / created)": compared,
      "refused 429": refused,
      "req/s": Math.round(WRONG_CODES / seconds),
      "what the attacker gets": `${Math.round(perHour).toLocaleString("en-US")} guesses/h: a code in ${formatHours(expectedHours)} on average`,
    };
  });
}

async function floodSignups(defended: boolean): Promise<Row> {
  return withServer(defended, async (base, db) => {
    let created = 0;
    let refused = 0;
    const started = performance.now();
    for (let i = 0; i < SIGNUPS; i++) {
      const res = await call(base, "/accounts", {
        body: { email: `flood-${i}@example.com`, displayName: "Flood", phone: PHONE },
      });
      if (res.status === 201) created++;
      else if (res.status === 429) refused++;
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      attack: defended
        ? `${SIGNUPS} sign-ups to one phone from one address, defences on`
        : `${SIGNUPS} sign-ups to one phone from one address, defences off`,
      requests: SIGNUPS,
      "accepted (compared / created)": created,
      "refused 429": refused,
      "req/s": Math.round(SIGNUPS / seconds),
      "what the attacker gets": `${outboxCounts(db).pending} sign-up messages queued, each an email and an SMS`,
    };
  });
}

function formatHours(hours: number): string {
  if (hours < 1) return `${Math.round(hours * 60)} min`;
  if (hours < 48) return `${hours.toFixed(1)} h`;
  if (hours < 24 * 365) return `${Math.round(hours / 24)} days`;
  return `${(hours / (24 * 365)).toFixed(1)} years`;
}

export async function measureAbuse(): Promise<BenchResult> {
  const rows = [
    await guessCodes(false),
    await guessCodes(true),
    await floodSignups(false),
    await floodSignups(true),
  ];
  return {
    rows,
    notes: [
      "One API server per row, in this process, on loopback; requests one after another over HTTP (node:http), accounts in SQLite.",
      "Defences off = the same server with maxCodeFailures and every rate limit raised out of reach; it still writes " +
        "each wrong code's count to SQLite, so it answers slower than the server before issue 17, which wrote nothing " +
        "(170 wrong codes/s measured on that code in the same way: see the README's threat model).",
      `Guesses/h with defences on: 5 wrong codes lock a code; a new code needs a re-send, ${DEFAULT_EDGE_LIMITS["code-resend"].perTarget.points} per phone an hour. ` +
        "A code is found on average after half the 10^6 codes.",
      "The sign-up flood's SMS are capped again at the sender (3 per number a day; test/integration/abuse.test.ts).",
    ],
  };
}

export const benchmark: Benchmark = {
  name: "abuse",
  description:
    "What an attacker gets from the example API: code guessing and a sign-up flood, defences off vs on",
  usesLocalStack: false,
  run: (_context: BenchContext) => measureAbuse(),
};
export default benchmark;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await measureAbuse();
  console.table(result.rows);
  for (const note of result.notes ?? []) console.log(`- ${note}`);
}
