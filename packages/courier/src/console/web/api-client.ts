/**
 * The page's side of the typed API: `get("GET /api/overview")` returns an `Overview`, and so on
 * for every route in `ConsoleRoutes`. State-changing requests carry the token in a header, read
 * from the page's meta element (the cookie alone is not enough for them).
 */
import { type ActionRequest, type ConsoleRoutes, TOKEN_HEADER, TOKEN_META } from "../api.ts";

type Route = keyof ConsoleRoutes;
type PathOf<R extends Route> = R extends `${string} ${infer P}` ? P : never;
type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | ParamNames<Rest>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;
type Params<R extends Route> = Record<ParamNames<PathOf<R>>, string>;

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

function token(): string {
  return document.querySelector<HTMLMetaElement>(`meta[name="${TOKEN_META}"]`)?.content ?? "";
}

function pathOf<R extends Route>(route: R, params: Params<R>, query?: Record<string, string>): string {
  const template = route.slice(route.indexOf(" ") + 1);
  const path = template.replace(/:(\w+)/g, (_, name: string) =>
    encodeURIComponent((params as Record<string, string>)[name] ?? ""),
  );
  const search = query ? `?${new URLSearchParams(query)}` : "";
  return `${path}${search}`;
}

async function send<R extends Route>(
  route: R,
  params: Params<R>,
  init: RequestInit,
  query?: Record<string, string>,
): Promise<ConsoleRoutes[R]> {
  const response = await fetch(pathOf(route, params, query), {
    ...init,
    credentials: "same-origin",
    headers: { ...(init.headers ?? {}), [TOKEN_HEADER]: token(), Accept: "application/json" },
  });
  const body = (await response.json().catch(() => ({}))) as unknown;
  if (!response.ok) {
    const message = (body as { error?: string }).error ?? `${response.status} ${response.statusText}`;
    throw new ApiError(message, response.status);
  }
  return body as ConsoleRoutes[R];
}

export function get<R extends Extract<Route, `GET ${string}`>>(
  route: R,
  params: Params<R>,
  query?: Record<string, string>,
): Promise<ConsoleRoutes[R]> {
  return send(route, params, { method: "GET" }, query);
}

export function startAction(request: ActionRequest): Promise<ConsoleRoutes["POST /api/actions"]> {
  return send(
    "POST /api/actions",
    {},
    { method: "POST", body: JSON.stringify(request), headers: { "Content-Type": "application/json" } },
  );
}
