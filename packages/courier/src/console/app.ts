/** The console's HTTP surface: the page shell, its bundled assets, and the typed JSON API. */
import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type ConsoleRoutes, TOKEN_META } from "./api.ts";
import { actionRequestSchema, replayRequestSchema } from "./api-schema.ts";
import type { ConsoleAssets } from "./assets.ts";
import { ConsoleError, type ConsoleService } from "./console-service.ts";
import { guard, type LaunchCodes } from "./security.ts";

export interface ConsoleAppOptions {
  readonly service: ConsoleService;
  readonly assets: ConsoleAssets;
  readonly token: string;
  /** The printed link's one-time codes: a page opened with one gets the token. */
  readonly launchCodes: LaunchCodes;
  readonly allowedHosts: () => readonly string[];
}

/** Escapes text for an HTML attribute or element: the shell holds only the title and, once, the token. */
function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch] ?? ch,
  );
}

export function createConsoleApp(options: ConsoleAppOptions) {
  const { service, assets } = options;
  const app = new Hono();

  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        connectSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      referrerPolicy: "no-referrer",
      crossOriginResourcePolicy: "same-origin",
      crossOriginOpenerPolicy: "same-origin",
    }),
  );
  app.use(async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  });
  app.use(guard({ token: options.token, allowedHosts: options.allowedHosts }));

  app.onError((error, c) => {
    if (error instanceof ConsoleError) return c.json({ error: error.message }, error.status);
    return c.json({ error: `console: ${error.message}` }, 500);
  });

  /** A route's answer, typed against the shared route table. */
  const reply = <K extends keyof ConsoleRoutes>(
    c: { json: (value: ConsoleRoutes[K], status?: ContentfulStatusCode) => Response },
    value: ConsoleRoutes[K],
    status?: ContentfulStatusCode,
  ) => c.json(value, status);

  app.get("/", (c) => {
    // Only the first opening of a printed link gets the token; the page keeps it (localStorage)
    // and takes the code out of the address bar. Any other opening gets the shell alone.
    const token = options.launchCodes.redeem(c.req.query("token")) ? options.token : "";
    return c.html(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="${TOKEN_META}" content="${escapeHtml(token)}">
<title>courier console</title>
<link rel="stylesheet" href="${assets.stylePath}">
<script type="module" src="${assets.scriptPath}"></script>
</head>
<body>
<div id="app"><p class="loading">Loading the console…</p></div>
<noscript>The courier console needs JavaScript.</noscript>
</body>
</html>`);
  });

  app.get("/assets/:file", (c) => {
    const file = assets.files.get(c.req.path);
    if (!file) return c.text("not found", 404);
    return c.body(file.body as Uint8Array<ArrayBuffer>, 200, { "Content-Type": file.contentType });
  });

  // Browsers ask for it unprompted; an empty answer keeps the console free of 404s.
  app.get("/favicon.ico", (c) => c.body(null, 204));
  app.get("/api/overview", async (c) => reply<"GET /api/overview">(c, await service.overview()));
  app.get("/api/consumers/:consumer/triage", async (c) =>
    reply<"GET /api/consumers/:consumer/triage">(c, await service.triage(c.req.param("consumer"))),
  );
  app.get("/api/consumers/:consumer/messages/:messageId", async (c) =>
    reply<"GET /api/consumers/:consumer/messages/:messageId">(
      c,
      await service.message(c.req.param("consumer"), c.req.param("messageId"), c.req.query("reveal") === "1"),
    ),
  );
  app.get("/api/messages/:id/journey", async (c) =>
    reply<"GET /api/messages/:id/journey">(c, await service.findMessage(c.req.param("id"))),
  );
  app.post("/api/actions", async (c) => {
    const body = await c.req.json().catch(() => undefined);
    const parsed = actionRequestSchema.safeParse(body);
    if (!parsed.success) return c.json({ error: `invalid action: ${parsed.error.issues[0]?.message}` }, 400);
    return reply<"POST /api/actions">(c, await service.start(parsed.data), 202);
  });
  app.get("/api/jobs/:id", (c) => reply<"GET /api/jobs/:id">(c, service.job(c.req.param("id"))));
  app.get("/api/archive", async (c) => reply<"GET /api/archive">(c, await service.archive()));
  app.post("/api/replays", async (c) => {
    const body = await c.req.json().catch(() => undefined);
    const parsed = replayRequestSchema.safeParse(body);
    if (!parsed.success) return c.json({ error: `invalid replay: ${parsed.error.issues[0]?.message}` }, 400);
    return reply<"POST /api/replays">(c, await service.startReplay(parsed.data), 202);
  });
  app.get("/api/replays/:id", (c) => reply<"GET /api/replays/:id">(c, service.replayJob(c.req.param("id"))));
  app.notFound((c) => c.json({ error: "no such route" }, 404));
  return app;
}
