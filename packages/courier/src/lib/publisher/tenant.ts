/**
 * A message's tenant (fair delivery per tenant): the value of its topic's `tenant.from` field,
 * sent as `MessageGroupId` on a standard topic, where SQS (fair queues) and courier's local event
 * source serve quiet tenants before a noisy tenant's backlog. On a FIFO topic the group is the
 * ordering's field (ordering.ts), which a tenant may only repeat (topology-problems.ts).
 */
import type { AnyContract } from "../contracts/contract.ts";
import type { TopicSpec } from "../contracts/topic-spec.ts";
import { messageGroupIdFor } from "./ordering.ts";

/** A dotted path's value in the message's data, when it is a non-empty string. */
export function tenantValue(spec: Pick<TopicSpec, "tenant">, data: unknown): string | undefined {
  if (!spec.tenant) return undefined;
  let value: unknown = data;
  for (const key of spec.tenant.from.split(".")) {
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * The `MessageGroupId` a standard topic's message gets from its tenant, or undefined (no tenant
 * declared, the field is empty, or a FIFO topic, whose group comes from its ordering). A value SQS
 * would refuse (over 128 characters, spaces, non-ASCII) becomes its SHA-256: still one group per
 * tenant, so fairness per tenant holds.
 */
export function tenantGroupId(
  spec: Pick<TopicSpec, "tenant" | "ordering">,
  data: unknown,
): string | undefined {
  if (spec.ordering) return undefined;
  const value = tenantValue(spec, data);
  return value === undefined ? undefined : messageGroupIdFor(value);
}

/**
 * The `MessageGroupId` to send a message body of this topic with, for tools that put a message back
 * on a standard queue without the group it came with (a replay from an archive, a copy made by
 * hand): the body is courier's envelope, possibly wrapped in an SNS notification. Undefined when
 * the body is not an envelope or carries no tenant.
 */
export function tenantGroupIdOfBody(
  spec: Pick<TopicSpec, "tenant" | "ordering">,
  body: string,
): string | undefined {
  if (!spec.tenant || spec.ordering) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
    // An SNS notification (raw delivery off) carries the envelope as its Message string.
    const message = (parsed as { Type?: unknown; Message?: unknown } | null)?.Message;
    if ((parsed as { Type?: unknown }).Type === "Notification" && typeof message === "string") {
      parsed = JSON.parse(message);
    }
  } catch {
    return undefined;
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  return tenantGroupId(spec, data);
}

interface SchemaNode {
  readonly def?: { readonly type?: string; readonly innerType?: unknown; readonly in?: unknown };
  readonly shape?: Record<string, unknown>;
}

/** Looks through wrappers that keep the value's type: optional, nullable, default, readonly, a pipe's input. */
function unwrap(schema: unknown): SchemaNode | undefined {
  let node = schema as SchemaNode | undefined;
  for (let depth = 0; node && depth < 10; depth++) {
    const type = node.def?.type;
    if (type === "optional" || type === "nullable" || type === "default" || type === "readonly") {
      node = node.def?.innerType as SchemaNode | undefined;
    } else if (type === "pipe") {
      node = node.def?.in as SchemaNode | undefined;
    } else {
      return node;
    }
  }
  return node;
}

/**
 * Why `path` cannot name the tenant in this contract's data, or undefined when it can: each step an
 * object field, the last a string. A schema this cannot see through (a union, a custom type) is
 * given the benefit of the doubt: the publisher sends no group when the value is not a string.
 */
export function tenantFieldProblem(contract: AnyContract, path: string): string | undefined {
  if (!/^[^.\s]+(\.[^.\s]+)*$/.test(path)) return `tenant.from "${path}" is not a dotted field path`;
  let node = unwrap(contract.data);
  const steps = path.split(".");
  for (const [i, key] of steps.entries()) {
    if (!node) return undefined;
    const shape = node.shape;
    if (node.def?.type !== "object" || !shape) {
      return i === 0
        ? undefined
        : `"${steps.slice(0, i).join(".")}" is not an object in ${contract.type} v${contract.version}`;
    }
    if (!Object.hasOwn(shape, key)) {
      return `"${path}" is not a field of ${contract.type} v${contract.version}`;
    }
    node = unwrap(shape[key]);
  }
  const type = node?.def?.type;
  if (type !== undefined && type !== "string") {
    return `"${path}" is a ${type} in ${contract.type} v${contract.version}, not a string`;
  }
  return undefined;
}

/** Refuses, when a publisher is created, a tenant the topology check would refuse (for topic maps made by hand). */
export function assertTenant(topic: string, spec: TopicSpec): void {
  if (!spec.tenant) return;
  if (spec.ordering && spec.ordering.groupBy !== spec.tenant.from) {
    throw new TypeError(
      `topic "${topic}" is FIFO, grouped by "${spec.ordering.groupBy}": its tenant must name the same field, not "${spec.tenant.from}"`,
    );
  }
  for (const contract of spec.accepts) {
    const problem = tenantFieldProblem(contract, spec.tenant.from);
    if (problem) throw new TypeError(`topic "${topic}": tenant ${problem}`);
  }
}
