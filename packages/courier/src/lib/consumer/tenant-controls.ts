/**
 * Per-tenant controls on one consumer: pause one tenant (its messages wait) or quarantine it (its
 * messages go to the DLQ with the reason `tenant-quarantined`) while the consumer serves everyone
 * else; release it again. A tenant is a standard queue's `MessageGroupId` (fair queues, the
 * topic's `tenant`).
 *
 * Stored where `courier pause` keeps a whole consumer's pause: tags on the consumer's queue
 * (deployment/consumer-pause.ts says why a tag), one per tenant: `courier:tenant:<tenant>` =
 * `paused@<ISO time>` or `quarantined@<ISO time>`. The consumer runtime reads them (ListQueueTags,
 * cached for a few seconds), on Lambda and in workers alike, so one mechanism serves both; SQS
 * allows 50 tags per queue, so a few dozen tenants can be held at once.
 *
 * A paused tenant's message is sent back to the queue with a delay (SendMessage, DelaySeconds) and
 * its delivery acknowledged, rather than left to its visibility timeout: every receive counts
 * towards maxReceiveCount, and a long pause would otherwise dead-letter the tenant's backlog.
 */

import { createHash } from "node:crypto";
// Types only: the SDK's SQS module loads when the controls are first read, not with the handler
// module (cold start; test/unit/bundle-imports.test.ts).
import {
  ListQueueTagsCommand,
  type SendMessageCommandInput,
  type SQSClient,
  TagQueueCommand,
  UntagQueueCommand,
} from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import { sendAttributesOf } from "./dead-letter.ts";

/** Prefix of a tenant control's queue tag. */
export const TENANT_TAG_PREFIX = "courier:tenant:";
/** How long a paused tenant's message waits before it is looked at again (SQS's longest delay is 900). */
export const PAUSED_TENANT_DELAY_SECONDS = 60;
/** How long the runtime trusts what it read of the controls. */
export const TENANT_CONTROLS_TTL_MS = 5_000;
/** The error class on a quarantined tenant's dead letter. */
export const TENANT_QUARANTINED_ERROR = "TenantQuarantined";

export type TenantState = "paused" | "quarantined";

export interface TenantControl {
  /** The tenant as the tag names it: its MessageGroupId, or `sha256-<hex>` of one a tag cannot hold. */
  readonly tenant: string;
  readonly state: TenantState;
  /** When it was set (ISO time). */
  readonly since: string;
}

/** SQS tag keys and values: letters, digits, spaces and `_ . : / = + - @`; keys up to 128 characters. */
const TAG_SAFE = /^[\p{L}\p{N} _.:/=+\-@]+$/u;
const MAX_TAG_KEY = 128;

/** The tag key of a tenant (its MessageGroupId): as it is when a tag can hold it, else its SHA-256. */
export function tenantTagKey(groupId: string): string {
  const key = `${TENANT_TAG_PREFIX}${groupId}`;
  if (key.length <= MAX_TAG_KEY && TAG_SAFE.test(groupId)) return key;
  return `${TENANT_TAG_PREFIX}sha256-${createHash("sha256").update(groupId, "utf8").digest("hex").slice(0, 64)}`;
}

/** The controls a queue's tags hold, by tag key. Tags of other kinds, or malformed values, are ignored. */
export function tenantControlsOf(tags: Readonly<Record<string, string>>): Map<string, TenantControl> {
  const controls = new Map<string, TenantControl>();
  for (const [key, value] of Object.entries(tags)) {
    if (!key.startsWith(TENANT_TAG_PREFIX)) continue;
    const match = /^(paused|quarantined)@(.+)$/.exec(value);
    if (!match) continue;
    controls.set(key, {
      tenant: key.slice(TENANT_TAG_PREFIX.length),
      state: match[1] as TenantState,
      since: match[2] as string,
    });
  }
  return controls;
}

export async function readTenantControls(
  sqs: SQSClient,
  queueUrl: string,
): Promise<Map<string, TenantControl>> {
  const { Tags = {} } = await sqs.send(new ListQueueTagsCommand({ QueueUrl: queueUrl }));
  return tenantControlsOf(Tags);
}

/** Pauses or quarantines a tenant (by its MessageGroupId) on a queue, or releases it (`undefined`). */
export async function setTenantControl(
  sqs: SQSClient,
  queueUrl: string,
  groupId: string,
  state: TenantState | undefined,
  now: Date = new Date(),
): Promise<void> {
  const key = tenantTagKey(groupId);
  if (state === undefined) {
    await sqs.send(new UntagQueueCommand({ QueueUrl: queueUrl, TagKeys: [key] }));
    return;
  }
  await sqs.send(
    new TagQueueCommand({ QueueUrl: queueUrl, Tags: { [key]: `${state}@${now.toISOString()}` } }),
  );
}

/**
 * What the runtime reads of the controls: at most once per `ttlMs`, shared by concurrent batches.
 * A read that fails keeps what was known (nothing, at first): an unreachable tag store must neither
 * release a held tenant nor stop the consumer.
 */
export class TenantControlCache {
  private known = new Map<string, TenantControl>();
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<Map<string, TenantControl>> | undefined;

  constructor(
    private readonly options: {
      readonly read: () => Promise<Map<string, TenantControl>>;
      readonly now: () => number;
      readonly ttlMs?: number;
      readonly onError?: (error: unknown) => void;
    },
  ) {}

  async get(): Promise<Map<string, TenantControl>> {
    if (this.options.now() - this.readAt < (this.options.ttlMs ?? TENANT_CONTROLS_TTL_MS)) return this.known;
    this.reading ??= this.options
      .read()
      .then(
        (controls) => {
          this.known = controls;
          return controls;
        },
        (error: unknown) => {
          this.options.onError?.(error);
          return this.known;
        },
      )
      .finally(() => {
        this.readAt = this.options.now();
        this.reading = undefined;
      });
    return this.reading;
  }
}

/** The control that applies to a record's tenant (its MessageGroupId); none without one. */
export function controlOf(
  tenant: string | undefined,
  controls: ReadonlyMap<string, TenantControl>,
): TenantControl | undefined {
  if (controls.size === 0 || !tenant) return undefined;
  return controls.get(tenantTagKey(tenant));
}

/**
 * The send that parks a paused tenant's record: the same body, attributes and group, back on its
 * own queue after `delaySeconds`. Its receive count starts again; its envelope (eventId, occurredAt)
 * is unchanged, so idempotency and dwell time still hold.
 */
export function parkedMessage(
  record: SQSRecord,
  queueUrl: string,
  delaySeconds: number = PAUSED_TENANT_DELAY_SECONDS,
): SendMessageCommandInput {
  const group = (record.attributes as { MessageGroupId?: string } | undefined)?.MessageGroupId;
  const traceHeader = record.attributes?.AWSTraceHeader;
  return {
    QueueUrl: queueUrl,
    MessageBody: record.body,
    MessageAttributes: sendAttributesOf(record),
    DelaySeconds: delaySeconds,
    ...(group ? { MessageGroupId: group } : {}),
    ...(traceHeader
      ? { MessageSystemAttributes: { AWSTraceHeader: { DataType: "String", StringValue: traceHeader } } }
      : {}),
  };
}
