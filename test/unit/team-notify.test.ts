import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PermanentError } from "../../packages/courier/src/lib/consumer/index.ts";
import { WebhookRejectedError, WebhookUnavailableError } from "../../src/app/signup/errors.ts";
import { maskEmail, maskPhone, notifyTeam, signupSummary } from "../../src/app/signup/team-notify.ts";
import { signup, signupWithoutPhone } from "./signup-fixtures.ts";

interface Received {
  readonly method: string | undefined;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
}

// A real local server: the request fetch makes, the status it gets and the timeout are all real.
let server: Server;
let baseUrl: string;
let received: Received[] = [];
let respond: (res: ServerResponse) => void = (res) => res.end("ok");

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      received.push({ method: req.method, headers: req.headers, body });
      respond(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T000/B000/secret-part`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received = [];
  respond = (res) => res.end("ok");
});

function deps(timeoutMs = 5_000) {
  return { config: { webhookUrl: baseUrl, timeoutMs } };
}

function answer(status: number, body = "") {
  return (res: ServerResponse) => {
    res.statusCode = status;
    res.end(body);
  };
}

describe("team-notify", () => {
  it("GIVEN the webhook answers 200 WHEN a sign-up is posted THEN one JSON POST with a Slack-style text arrives", async () => {
    await expect(notifyTeam(deps(), signup())).resolves.toEqual({ status: 200 });
    expect(received).toHaveLength(1);
    expect(received[0]?.method).toBe("POST");
    expect(received[0]?.headers["content-type"]).toBe("application/json");
    const body = JSON.parse(received[0]?.body ?? "{}");
    expect(body.text).toContain("Ada Lovelace");
    expect(body.account.accountId).toBe("acct-0001");
  });

  it("GIVEN a sign-up WHEN posted THEN the body holds neither the full email nor the full phone", async () => {
    // Failure mode: customers' contact details copied in full into a chat channel.
    await notifyTeam(deps(), signup());
    const body = received[0]?.body ?? "";
    expect(body).not.toContain("ada.lovelace@example.com");
    expect(body).not.toContain("4155550123");
    expect(JSON.parse(body).account).toMatchObject({ email: "a***@example.com", phone: "+1********23" });
  });

  it("GIVEN a sign-up WHEN posted THEN the eventId is sent as the Idempotency-Key header", async () => {
    await notifyTeam(deps(), signup());
    expect(received[0]?.headers["idempotency-key"]).toBe(signup().eventId);
  });

  it("GIVEN the webhook answers 500 WHEN posted THEN a retryable WebhookUnavailableError is thrown", async () => {
    respond = answer(500, "boom");
    const error = await notifyTeam(deps(), signup()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookUnavailableError);
    expect(error).not.toBeInstanceOf(PermanentError);
    expect((error as WebhookUnavailableError).status).toBe(500);
  });

  it("GIVEN the webhook answers 429 WHEN posted THEN the error is retryable, not permanent", async () => {
    // Failure mode: rate limiting by the chat service dead-letters notifications that would succeed later.
    respond = answer(429, "rate limited");
    const error = await notifyTeam(deps(), signup()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookUnavailableError);
    expect(error).not.toBeInstanceOf(PermanentError);
  });

  it("GIVEN the webhook answers 400 WHEN posted THEN a PermanentError naming the status is thrown", async () => {
    respond = answer(400, "invalid_payload");
    const error = await notifyTeam(deps(), signup()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookRejectedError);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain("HTTP 400");
    expect((error as Error).message).toContain("invalid_payload");
  });

  it("GIVEN the webhook rejects WHEN the error is built THEN it does not contain the webhook URL (a credential)", async () => {
    respond = answer(404);
    const error = await notifyTeam(deps(), signup()).catch((e: unknown) => e);
    expect((error as Error).message).not.toContain("secret-part");
  });

  it("GIVEN the webhook never answers WHEN posted with a 200 ms timeout THEN a retryable timeout error is thrown", async () => {
    // Failure mode: a hung webhook holds the invocation until the function timeout fails the batch.
    respond = () => {
      // Never answer.
    };
    const error = await notifyTeam(deps(200), signup()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookUnavailableError);
    expect((error as Error).message).toContain("did not answer within 200 ms");
    expect(error).not.toBeInstanceOf(PermanentError);
  });

  it("GIVEN nothing listens at the URL WHEN posted THEN a retryable network error is thrown", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const config = { webhookUrl: `http://127.0.0.1:${port}/`, timeoutMs: 5_000 };
    const error = await notifyTeam({ config }, signup()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookUnavailableError);
    expect((error as Error).message).toContain("ECONNREFUSED");
  });

  it("GIVEN a sign-up without a phone WHEN summarised THEN phone is null and the text names no phone", () => {
    const summary = signupSummary(signupWithoutPhone());
    expect(summary.account.phone).toBeNull();
    expect(summary.text).not.toContain("+");
  });

  it("GIVEN a display name with Slack markup WHEN summarised THEN the markup is escaped", () => {
    // Failure mode: a user named "<!channel>" pings the whole channel.
    const summary = signupSummary(signup({ displayName: "<!channel> hi" }));
    expect(summary.text).toContain("&lt;!channel&gt; hi");
  });

  it("GIVEN addresses WHEN masked THEN only a hint remains", () => {
    expect(maskEmail("ada.lovelace@example.com")).toBe("a***@example.com");
    expect(maskPhone("+14155550123")).toBe("+1********23");
  });
});
