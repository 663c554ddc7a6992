import type { AnyContract } from "./contract.ts";

/**
 * How a FIFO topic orders its messages: by the data field that names the message group (SNS and
 * SQS deliver one group's messages in publish order, one at a time; groups run in parallel).
 */
export interface TopicOrdering {
  /** A required string field of every accepted contract's data, e.g. "accountId". */
  readonly groupBy: string;
}

/**
 * Who a message belongs to, for fair delivery: on a standard topic the publisher sets the value of
 * this field as the message's `MessageGroupId`, which makes every subscribed SQS standard queue a
 * fair queue (SQS serves quiet tenants' messages before a noisy tenant's backlog; SNS standard
 * topics forward `MessageGroupId` to their SQS subscriptions). Courier's local event source and
 * test kit schedule tenants the same way, and the consumer runtime reports dwell time per tenant.
 */
export interface TopicTenant {
  /**
   * A dotted path to a string field of every accepted contract's data, e.g. "accountId" or
   * "owner.accountId". A message whose field is absent or empty is published without a tenant.
   */
  readonly from: string;
}

/** A bucket and key prefix a topic's consumers may read payloads from. */
export interface PayloadLocationSpec {
  /** An existing bucket's name. @default - the stack's payload bucket */
  readonly bucketName?: string;
  /** Ends in "/"; "" is the whole bucket (AWS's extended clients write at the root). @default "<topic>/" */
  readonly prefix?: string;
}

/**
 * A topic's archive: every message published to it, kept in S3 for `retentionDays` so a consumer
 * can re-read a time window (`courier replay`). On by default; `archive: false` turns it off.
 */
export interface TopicArchiveSpec {
  /** Days an archived message is kept (S3 lifecycle expiration): 1 to 365. @default 30 */
  readonly retentionDays?: number;
  /**
   * The data field that names whose message it is (e.g. "accountId"): `courier archive erase`
   * removes a subject's messages by it and a replay never re-sends them. A required string field
   * of every accepted contract's data. @default - the topic's messages cannot be erased by subject
   */
  readonly subject?: string;
}

/** A topic as the library sees it: its name and the contracts on it. */
export interface TopicSpec {
  readonly name: string;
  readonly description: string;
  /** The contract producers publish now. */
  readonly current: AnyContract;
  /** Every contract consumers accept (current included): old and new versions during a migration. */
  readonly accepts: readonly AnyContract[];
  /**
   * The largest message SNS takes on this topic, body plus attributes (its `MaximumMessageSize`
   * attribute): 1,024 to 1,048,576. Above 262,144 the topic may have at most 100 subscriptions,
   * all SQS, Lambda or Firehose.
   * @default 262,144 (SNS's default)
   */
  readonly maxMessageBytes?: number;
  /**
   * Messages over `maxMessageBytes` go by reference: the body is put in the payload bucket and a
   * pointer in AWS's extended-client format is published instead (see src/lib/payload-offloading).
   * @default false - such a message is refused with MessageTooLargeError
   */
  readonly offloadLargePayloads?: boolean;
  /**
   * Where this topic's consumers may read offloaded payloads from: the stack's payload bucket under
   * `<topic>/` (what courier's publisher writes), plus any bucket and prefix given here, such as the
   * root of a bucket that AWS's extended clients (Java, Python) write to, so producers already on
   * those clients can feed a courier consumer. A pointer elsewhere is dead-lettered, never read.
   * @default - the stack's payload bucket under `<topic>/` only
   */
  readonly payloadLocations?: readonly PayloadLocationSpec[];
  /**
   * Present on a FIFO topic: SNS FIFO to SQS FIFO queues, MessageGroupId from `groupBy`,
   * MessageDeduplicationId = the eventId.
   * @default - a standard topic: no order, no deduplication
   */
  readonly ordering?: TopicOrdering;
  /**
   * The message's tenant (fair delivery per tenant): its `MessageGroupId` on a standard topic.
   * On a FIFO topic the message group is the ordering's `groupBy`, so a tenant there must name the
   * same field (anything else would change the topic's order semantics, and is refused).
   * @default - no tenant: messages carry no MessageGroupId, every message is served in turn
   */
  readonly tenant?: TopicTenant;
  /**
   * The topic's archive (history for `courier replay`), or false for none.
   * @default { retentionDays: 30 }
   */
  readonly archive?: TopicArchiveSpec | false;
}
