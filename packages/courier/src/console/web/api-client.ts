/**
 * The page's side of the typed API: `get("GET /api/overview")` returns an `Overview`, and so on
 * for every route in `ConsoleRoutes`. State-changing requests carry the token in a header, read
 * the page learned once from the printed link and keeps in localStorage (per origin: this port only).
 */
import {
  type ActionRequest,
  type ConsoleRoutes,
  type ReplayRequest,
  TOKEN_HEADER,
  TOKEN_META,
  TOKEN_STORAGE_KEY,
} from "../api.ts";

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

/**
 * The printed link's first opening puts the token in the shell's meta element: keep it, and take
 * the one-time code out of the address bar (spent already, but no need to show it).
 */
export function adoptToken(): void {
  const given = document.querySelector<HTMLMetaElement>(`meta[name="${TOKEN_META}"]`)?.content;
  if (given) localStorage.setItem(TOKEN_STORAGE_KEY, given);
  if (location.search) history.replaceState(null, "", `${location.pathname}${location.hash}`);
}

function token(): string {
  return localStorage.getItem(TOKEN_STORAGE_KEY) ?? "";
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

export function startReplay(request: ReplayRequest): Promise<ConsoleRoutes["POST /api/replays"]> {
  return send(
    "POST /api/replays",
    {},
    { method: "POST", body: JSON.stringify(request), headers: { "Content-Type": "application/json" } },
  );
}
