/**
 * `startConsole`: loads the page (prebuilt in the package, bundled from sources here), then serves it with its API on a loopback address behind a
 * fresh random token. The URL it returns holds the token; opening it is the only way in.
 */
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createConsoleApp } from "./app.ts";
import { type ConsoleAssets, loadConsoleAssets } from "./assets.ts";
import { ConsoleService, type ConsoleServiceOptions } from "./console-service.ts";
import { LaunchCodes } from "./security.ts";

export interface StartConsoleOptions extends ConsoleServiceOptions {
  /** 0 picks a free port. @default 0 */
  readonly port?: number;
  /** Loopback only: 127.0.0.1 or ::1. @default 127.0.0.1 */
  readonly host?: "127.0.0.1" | "::1";
  /** A fixed token (tests); default: 24 random bytes. */
  readonly token?: string;
}

export interface RunningConsole {
  /** The address to open: it holds a one-time code, and opens the console in one browser once. */
  readonly url: string;
  /** Another one-time address (a second browser, a test). */
  newUrl(): string;
  readonly origin: string;
  readonly token: string;
  readonly assets: ConsoleAssets;
  readonly service: ConsoleService;
  close(): Promise<void>;
}

export async function startConsole(options: StartConsoleOptions): Promise<RunningConsole> {
  const host = options.host ?? "127.0.0.1";
  const token = options.token ?? randomBytes(24).toString("base64url");
  const assets = await loadConsoleAssets();
  const service = new ConsoleService(options);
  const launchCodes = new LaunchCodes();
  let port = 0;
  const hostName = host === "::1" ? "[::1]" : host;
  const app = createConsoleApp({
    service,
    assets,
    token,
    launchCodes,
    allowedHosts: () => [`${hostName}:${port}`, `localhost:${port}`],
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: host }, () => resolve(s));
    s.once("error", reject);
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://${hostName}:${port}`;
  return {
    url: `${origin}/?token=${launchCodes.issue()}`,
    newUrl: () => `${origin}/?token=${launchCodes.issue()}`,
    origin,
    token,
    assets,
    service,
    close: async () => {
      await service.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
