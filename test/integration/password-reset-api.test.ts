/**
 * Password resets through the real example API server of the local system (`npm start`'s own
 * startLocalSystem): LocalStack with the stack, the outbox relay publishing to the SNS FIFO topic,
 * password-reset-email and security-audit in their worker processes through the local event source,
 * dynalite holding the audit table, mail read back from LocalStack's record of sent mail.
 *
 * Failure modes covered: an earlier reset link still working after a later one; a reset request
 * that reaches one consumer and not the other; an audit trail whose entries are missing or swapped;
 * a flood of reset requests to one account.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkPassword } from "../../src/app/accounts/passwords.ts";
import { type LocalSystem, startLocalSystem } from "../../src/dev/local-system.ts";
import { call } from "../helpers/api-client.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

const run = randomBytes(4).toString("hex");
let stack: TestStack;
const dataDir = mkdtempSync(join(tmpdir(), "courier-password-reset-"));
let system: LocalSystem;

interface SesMessage {
  readonly Destination: { readonly ToAddresses?: string[] };
  readonly Subject: string;
  readonly Body: { readonly text_part: string | null };
}

/** Polls until `check` holds; the deadline is generous, so no pass or fail hangs on timing. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, deadlineMs = 120_000) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function resetEmailsTo(address: string): Promise<SesMessage[]> {
  const { messages } = (await (await fetch(system.mailboxUrl)).json()) as { messages: SesMessage[] };
  return messages.filter(
    (m) => m.Destination.ToAddresses?.includes(address) && /reset/i.test(m.Subject ?? ""),
  );
}

/** The token of the reset link in an email (`…/reset-password?accountId=…&token=…`). */
function tokenIn(mail: SesMessage): string {
  const link = /(http:\/\/\S+\/reset-password\?\S+)/.exec(mail.Body.text_part ?? "")?.[1];
  const token = link ? new URL(link).searchParams.get("token") : null;
  if (!token) throw new Error(`no reset link in: ${mail.Body.text_part}`);
  return token;
}

/** The request time a token carries in clear (`r1.<requestedAtMs>.<mac>`). */
const requestedAtMs = (token: string) => Number(token.split(".")[1]);

async function signUp(who: string): Promise<{ accountId: string; email: string; credential: string }> {
  const email = `${who}-${run}@example.com`;
  const res = await call(system.apiUrl, "/accounts", { body: { email, displayName: who } });
  expect(res.status).toBe(201);
  return { accountId: String(res.json.accountId), email, credential: String(res.json.credential) };
}

beforeAll(async () => {
  stack = await deployTestStack("password-reset-api");
  system = await startLocalSystem({
    deployment: stack.deployment,
    apiPort: 0,
    dataDir,
    consumers: ["password-reset-email", "security-audit"],
    workerOutput: process.stderr,
    workerWaitSeconds: 2,
  });
}, 300_000);

afterAll(async () => {
  await system?.stop();
  await stack?.cleanup();
}, 300_000);

describe("password resets through the example API on LocalStack", () => {
  it("GIVEN two resets in a row WHEN both emails arrive THEN only the second link's token changes the password and the audit endpoint lists both requests in order", async () => {
    const { accountId, email, credential } = await signUp("reset");
    const agents = ["first-browser/1", "second-browser/2"];
    for (const agent of agents) {
      const res = await call(system.apiUrl, `/accounts/${accountId}/password-reset`, {
        method: "POST",
        headers: { "user-agent": agent },
      });
      expect(res.status).toBe(202);
    }

    const mails = await eventually("two reset emails", async () => {
      const found = await resetEmailsTo(email);
      return found.length >= 2 ? found : undefined;
    });
    expect(mails).toHaveLength(2);
    const tokens = mails.map(tokenIn).sort((a, b) => requestedAtMs(a) - requestedAtMs(b));
    const [first, second] = tokens as [string, string];
    expect(first).not.toBe(second);

    const old = await call(system.apiUrl, `/accounts/${accountId}/password`, {
      body: { token: first, password: "the first new password" },
    });
    expect(old.status).toBe(422);
    expect(old.json.error).toBe("token_invalid");
    const newest = await call(system.apiUrl, `/accounts/${accountId}/password`, {
      body: { token: second, password: "the second new password" },
    });
    expect(newest.status).toBe(200);
    expect(await checkPassword(system.db, accountId, "the second new password")).toBe(true);
    expect(await checkPassword(system.db, accountId, "the first new password")).toBe(false);

    // The outbox's eventIds for this account, in commit order: what the trail must repeat.
    const committed = (
      system.db
        .prepare(
          "SELECT event_id AS eventId, data FROM outbox WHERE topic = 'password-resets' AND message_group = ? ORDER BY id",
        )
        .all(accountId) as Array<{ eventId: string }>
    ).map((row) => row.eventId);
    expect(committed).toHaveLength(2);
    const trail = await eventually("two audit entries", async () => {
      const res = await call(system.apiUrl, `/accounts/${accountId}/audit`, {
        headers: { authorization: `Bearer ${credential}` },
      });
      const entries = res.json.entries as
        | Array<{ eventId: string; sequenceNumber: string; detail: Record<string, string> }>
        | undefined;
      return res.status === 200 && entries && entries.length >= 2 ? entries : undefined;
    });
    expect(trail.map((e) => e.eventId)).toEqual(committed);
    expect(trail.map((e) => e.detail.userAgent)).toEqual(agents);
    expect(BigInt(trail[0]?.sequenceNumber ?? "0")).toBeLessThan(BigInt(trail[1]?.sequenceNumber ?? "0"));
  }, 240_000);

  it("GIVEN an account's reset budget (3 an hour) is spent WHEN a 4th reset is requested THEN 429 rate_limited with Retry-After", async () => {
    const { accountId } = await signUp("flood");
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 4; i++) {
      last = await call(system.apiUrl, `/accounts/${accountId}/password-reset`, { method: "POST" });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([202, 202, 202, 429]);
    expect(last?.json.error).toBe("rate_limited");
    expect(Number(last?.headers["retry-after"])).toBeGreaterThan(0);
  }, 60_000);
});
