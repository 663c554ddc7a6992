/**
 * Which client a request comes from, for per-client limits. By default the socket's peer address:
 * X-Forwarded-For is written by whoever sends the request, so trusting it lets any client pick a
 * fresh "address" per request. Only behind a proxy the operator controls (an ALB, API Gateway,
 * CloudFront) does it say something, and then only the entries that trusted proxies appended:
 * with `trustedProxyHops` = N, the client is the N-th address from the right of the list the
 * last proxy delivered (each proxy appends the address it received the request from).
 */
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";

export interface ClientAddressOptions {
  /** Proxies in front of the server that append to X-Forwarded-For. @default 0: use the socket */
  readonly trustedProxyHops?: number;
}

/** IPv4 as is; IPv6 by its /64, which one subscriber usually holds whole (so cannot rotate within). */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (isIP(address) !== 6) return address;
  const [head = "", tail = ""] = address.split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const groups = address.includes("::")
    ? [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups]
    : headGroups;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g || "0", 16).toString(16))
    .join(":")}::/64`;
}

export function clientAddress(req: IncomingMessage, options: ClientAddressOptions = {}): string {
  const socketAddress = req.socket.remoteAddress ?? "unknown";
  const hops = options.trustedProxyHops ?? 0;
  if (hops <= 0) return clientKey(socketAddress);
  const header = req.headers["x-forwarded-for"];
  const list = (Array.isArray(header) ? header.join(",") : (header ?? ""))
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  // The socket peer is the last proxy; the entries before it were appended by the proxies behind it.
  const candidate = list[list.length - hops];
  return candidate && isIP(candidate) ? clientKey(candidate) : clientKey(socketAddress);
}
