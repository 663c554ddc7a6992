/**
 * The console's guard, through the Hono app itself (no socket): token on every request,
 * same-origin plus header token on state changes, loopback Host only, CSP without inline script,
 * --read-only refusing actions.
 * Failure modes: an API request without the token answered; a printed link that works twice (the
 * browser's history keeps it); a cookie another local server would receive; a cross-site request
 * (no header token, other origin) changing state; a DNS-rebinding Host accepted; a CSP that allows
 * inline script; a read-only console that still acts.
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import { beforeAll, describe, expect, it } from "vitest";
import { createConsoleApp } from "../../packages/courier/src/console/app.ts";
import { bundleConsoleAssets, type ConsoleAssets } from "../../packages/courier/src/console/assets.ts";
import { ConsoleService } from "../../packages/courier/src/console/console-service.ts";
import { LaunchCodes } from "../../packages/courier/src/console/security.ts";
import type { DeployedTopology } from "../../packages/courier/src/deployment/deployed-topology.ts";

const TOKEN = "test-token-0123456789";
const HOST = "127.0.0.1:7000";
const ORIGIN = `http://${HOST}`;
let assets: ConsoleAssets;
const launchCodes = new LaunchCodes();

beforeAll(async () => {
  assets = await bundleConsoleAssets();
});

function app(readOnly = false) {
  const service = new ConsoleService({
    sqs: new SQSClient({ region: "us-east-1" }),
    // No route used here reads the stack; a request that reached AWS would fail the test.
    topology: { stackName: "unit", consumers: {} } as unknown as DeployedTopology,
    endpoint: "http://127.0.0.1:1",
    readOnly,
    oldestAge: async () => null,
    maxRedrives: 3,
  });
  return createConsoleApp({ service, assets, token: TOKEN, launchCodes, allowedHosts: () => [HOST] });
}

const request = (
  path: string,
  init: RequestInit & { headers?: Record<string, string> } = {},
  readOnly = false,
) => app(readOnly).request(`${ORIGIN}${path}`, { ...init, headers: { host: HOST, ...(init.headers ?? {}) } });

const action = JSON.stringify({
  action: "redrive",
  consumer: "no-such-consumer",
  selection: { messageIds: ["m1"] },
  dryRun: true,
});

describe("console guard", () => {
  it("GIVEN no header token WHEN the API is asked THEN 401, the token in the query or a cookie not accepted", async () => {
    expect((await request("/api/overview")).status).toBe(401);
    expect((await request(`/api/overview?token=${TOKEN}`)).status).toBe(401);
    expect(
      (await request("/api/overview", { headers: { cookie: `courier_console_token_7000=${TOKEN}` } })).status,
    ).toBe(401);
  });

  it("GIVEN no link WHEN the shell is asked THEN it is served without the token", async () => {
    const page = await request("/");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`<script type="module" src="${assets.scriptPath}">`);
    expect(html).not.toContain(TOKEN);
  });

  it("GIVEN a printed link WHEN opened twice THEN the first opening gets the token and the second (from history) does not", async () => {
    const link = `/?token=${launchCodes.issue()}`;
    expect(await (await request(link)).text()).toContain(`content="${TOKEN}"`);
    expect(await (await request(link)).text()).not.toContain(TOKEN);
  });

  it("GIVEN a code never issued WHEN the page is opened with it THEN no token", async () => {
    expect(await (await request(`/?token=${TOKEN}`)).text()).not.toContain(`content="${TOKEN}"`);
  });

  it("GIVEN any answer WHEN served THEN it sets no cookie (a cookie for 127.0.0.1 reaches every port's server)", async () => {
    const answers = await Promise.all([
      request(`/?token=${launchCodes.issue()}`),
      request("/"),
      request(assets.scriptPath),
      Promise.resolve(request("/api/overview", { headers: { "x-courier-token": TOKEN } })).catch(
        () => undefined,
      ),
    ]);
    for (const answer of answers) expect(answer?.headers.get("set-cookie") ?? null).toBeNull();
  });

  it("GIVEN a page WHEN served THEN its CSP forbids inline script and framing", async () => {
    const page = await request("/", { headers: { "x-courier-token": TOKEN } });
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    // The shell itself holds no inline script.
    expect(await page.text()).not.toMatch(/<script>(?!<)/);
  });

  it("GIVEN another Host WHEN a request carries the right token THEN 403 (DNS rebinding)", async () => {
    const response = await app().request(`http://evil.example/api/overview?token=${TOKEN}`, {
      headers: { host: "evil.example:7000" },
    });
    expect(response.status).toBe(403);
  });

  it("GIVEN a state change WHEN it has no header token THEN 401", async () => {
    const response = await request("/api/actions", {
      method: "POST",
      body: action,
      headers: {
        "content-type": "application/json",
        origin: ORIGIN,
      },
    });
    expect(response.status).toBe(401);
  });

  it("GIVEN a state change WHEN it comes from another origin THEN 403 even with the header token", async () => {
    const response = await request("/api/actions", {
      method: "POST",
      body: action,
      headers: {
        "content-type": "application/json",
        origin: "http://evil.example",
        "x-courier-token": TOKEN,
      },
    });
    expect(response.status).toBe(403);
  });

  it("GIVEN a same-origin state change with the header token WHEN the body is invalid THEN 400 naming it", async () => {
    const response = await request("/api/actions", {
      method: "POST",
      body: JSON.stringify({ action: "explode" }),
      headers: { "content-type": "application/json", origin: ORIGIN, "x-courier-token": TOKEN },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/invalid action/);
  });

  it("GIVEN a well-formed action WHEN it passes the guard THEN the service judges it (unknown consumer: 404)", async () => {
    const response = await request("/api/actions", {
      method: "POST",
      body: action,
      headers: { "content-type": "application/json", origin: ORIGIN, "x-courier-token": TOKEN },
    });
    expect(response.status).toBe(404);
  });

  it("GIVEN --read-only WHEN an action arrives THEN 403", async () => {
    const response = await request(
      "/api/actions",
      {
        method: "POST",
        body: action,
        headers: { "content-type": "application/json", origin: ORIGIN, "x-courier-token": TOKEN },
      },
      true,
    );
    expect(response.status).toBe(403);
  });
});
