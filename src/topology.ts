/**
 * The single declaration of courier's topics and consumers. `cdk/` renders it to CloudFormation,
 * the local runtime reads the same declaration (and the stack that CloudFormation made from it),
 * and a CDK test holds the synthesized template against it. Nothing about a queue is written twice.
 */
import type { BackoffSpec } from "../packages/courier/src/lib/consumer/backoff.ts";
import { type TopicSpec } from "../packages/courier/src/lib/contracts/index.ts";
import { AccountExportRequestedV1Contract, ImageUploadedV1Contract, NewAccountV1Contract, PasswordResetRequestedV1Contract } from "./app/contracts/index.ts";
import type { SettingName } from "./app/deployment/deploy-settings.ts";

export type { BackoffSpec, TopicSpec };

/**
 * What a consumer's work needs besides its own queue and DLQ. The function's environment, its IAM
 * grants (least privilege: exactly these) and the cdk-nag acknowledgements those grants call for
 * are derived from it; nothing else in the stack names a consumer.
 */
export interface ConsumerNeeds {
  /** Deploy settings the function reads from its environment (`DEPLOY_SETTINGS`). */
  readonly settings?: readonly SettingName[];
  /** Secrets of the topology (`TopologySpec.secrets`) the function reads: their ARNs and read rights. */
  readonly secrets?: readonly string[];
  /** The idempotency table (side effects once per eventId): its name and read/write rights on items. */
  readonly idempotencyTable?: boolean;
  /**
   * Key prefixes of the uploads bucket (each ending in "/") the function reads and writes. Read is
   * GetObject and the bucket's List (so a missing key is 404, not 403); write is PutObject.
   */
  readonly uploads?: { readonly read?: readonly string[]; readonly write?: readonly string[] };
  /** Sends email through SES, only as the `mailFrom` setting's address. */
  readonly sendsEmail?: boolean;
  /** Publishes SMS to phone numbers through SNS, and to no topic. */
  readonly sendsSms?: boolean;
  /** Packages shipped as installed native modules (for Lambda's platform) rather than bundled. */
  readonly nativeModules?: readonly string[];
  /** Appends to the security audit trail table: its name, and PutItem on it (no read, update or delete). */
  readonly appendsAuditTrail?: boolean;
}

/** A secret the stack creates with a generated random value (letters and digits). */
export interface SecretSpec {
  readonly description: string;
  readonly length: number;
  /** Why it is rotated by hand rather than by a rotation function (acknowledges cdk-nag's SMG4). */
  readonly manualRotationReason: string;
}

export interface ConsumerSpec<Topic extends string = TopicName> {
  readonly name: string;
  readonly description: string;
  readonly topic: Topic;
  /** The Lambda handler module, relative to the repository root; it exports `handler`. */
  readonly handlerEntry: string;
  /** SNS filter policy on message attributes: attribute name to the allowed string values. */
  readonly filterPolicy?: Readonly<Record<string, readonly string[]>>;
  /** Receives before SQS moves a message to the DLQ. */
  readonly maxReceiveCount: number;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  /** Lambda's SQS event source maximum concurrency (2 to 1,000); also the local poller count. */
  readonly maxConcurrency: number;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** At least 6 × timeoutSeconds (AWS guidance); checked at synth time. */
  readonly visibilityTimeoutSeconds: number;
  readonly backoff: BackoffSpec;
  /** Source queue retention; the DLQ keeps 14 days, which must exceed it. */
  readonly retentionDays: number;
  /** Alarm when the oldest message in the source queue is older than this. */
  readonly oldestMessageAlarmSeconds: number;
  /** For an SMS sender: the daily cap (counted in the idempotency table), and an alarm when it is hit. */
  readonly smsCap?: SmsCapSpec;
  /** @default DEFAULT_ALARM_THRESHOLDS for whatever is not given */
  readonly alarms?: Partial<ConsumerAlarmThresholds>;
  /** @default - nothing besides its queue and DLQ */
  readonly needs?: ConsumerNeeds;
  /**
   * On a FIFO topic, what a permanent failure (a poison pill) does to its message group:
   * "dead-letter" sends it to the FIFO DLQ with its reason and the group goes on; "hold-group"
   * retries it with backoff like a transient failure, so the group waits behind it until its last
   * allowed receive (time for a fix to ship), and only then dead-letters it.
   * @default "dead-letter"
   */
  readonly onPermanentFailure?: "dead-letter" | "hold-group";
}

/** What a consumer's alarms fire on, beyond the oldest message's age. */
export interface ConsumerAlarmThresholds {
  /** Messages in the DLQ or in the subscription DLQ (maximum over a minute) above this. */
  readonly deadLetters: number;
  /**
   * Function errors summed over 5 minutes above this. The runtime reports a failed record as a
   * partial batch failure, not an error, so an error here is a timeout, a crash or a failed start.
   */
  readonly functionErrors: number;
  /** Throttled invocations summed over 5 minutes above this (account or reserved concurrency). */
  readonly functionThrottles: number;
}

/** Any dead letter, any function error, any throttle: each needs a person to look. */
export const DEFAULT_ALARM_THRESHOLDS: ConsumerAlarmThresholds = {
  deadLetters: 0,
  functionErrors: 0,
  functionThrottles: 0,
};

export function alarmThresholds(spec: ConsumerSpec<string>): ConsumerAlarmThresholds {
  return { ...DEFAULT_ALARM_THRESHOLDS, ...spec.alarms };
}

/** A whole topology: what the CDK stack renders. `courierTopology` below is courier's own. */
export interface TopologySpec<Topic extends string = string, Consumer extends string = string> {
  readonly topics: Readonly<Record<Topic, TopicSpec>>;
  readonly consumers: Readonly<Record<Consumer, ConsumerSpec<Topic>>>;
  readonly secrets: Readonly<Record<string, SecretSpec>>;
}

/**
 * A cap on the SMS a consumer sends, per UTC day: the bound on what SMS pumping (sign-ups with
 * premium-rate numbers) can cost. Over it a message is dead-lettered with reason `sms-rate-limited`.
 */
export interface SmsCapSpec {
  /** Verification SMS to one phone number per UTC day. */
  readonly perNumberPerDay: number;
  /** Verification SMS to one country calling code (1, 44, 234, ...) per UTC day. */
  readonly perCountryPerDay: number;
  /** When set, only these country calling codes (digits, no plus) get SMS. @default every code */
  readonly allowedCountryCodes?: readonly string[];
}

export interface RedriveFunctionSpec {
  readonly handlerEntry: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** A message redriven more often than this stays in the DLQ, reported as quarantined. */
  readonly maxRedrives: number;
}

const signupContracts = [NewAccountV1Contract] as const;

export const topics = {
  "account-signups": {
    name: "account-signups",
    description: "A new account was created; consumers verify its address and tell the team.",
    current: NewAccountV1Contract,
    accepts: signupContracts,
  },
  "image-uploads": {
    name: "image-uploads",
    description: "An original image was stored; consumers make its renditions.",
    current: ImageUploadedV1Contract,
    accepts: [ImageUploadedV1Contract],
  },
  "password-resets": {
    name: "password-resets",
    description: "An account asked to reset its password; consumers see each account's requests in order.",
    current: PasswordResetRequestedV1Contract,
    accepts: [PasswordResetRequestedV1Contract],
    // A FIFO topic: the account is the message group, the eventId the deduplication id.
    ordering: { groupBy: "accountId" },
  },
  "account-exports": {
    name: "account-exports",
    description: "An account asked for its data; the manifest of everything it owns travels in the message.",
    current: AccountExportRequestedV1Contract,
    accepts: [AccountExportRequestedV1Contract],
    // A busy account's manifest runs to megabytes: up to 1 MiB goes inline (SNS's raised limit),
    // anything larger through the payload bucket as an extended-client pointer.
    maxMessageBytes: 1_048_576,
    offloadLargePayloads: true,
  },
} as const satisfies Record<string, TopicSpec>;

export type TopicName = keyof typeof topics;

/** Settings most consumers share; each consumer below states what differs. */
const defaults = {
  maxReceiveCount: 5,
  batchSize: 10,
  maxBatchingWindowSeconds: 1,
  maxConcurrency: 5,
  timeoutSeconds: 30,
  memoryMb: 256,
  visibilityTimeoutSeconds: 180,
  backoff: { baseSeconds: 2, maxSeconds: 300 },
  retentionDays: 4,
  oldestMessageAlarmSeconds: 900,
} as const;

/**
 * Consumers of a FIFO topic: Lambda's FIFO event source takes at most 10 records a batch and no
 * batching window; a short backoff, because a retry holds its whole message group.
 */
const orderedDefaults = {
  ...defaults,
  // A record skipped behind its group's failure is received (and counted) without running: receives
  // run out faster than on a standard queue, so a FIFO consumer gets more of them.
  maxReceiveCount: 10,
  maxBatchingWindowSeconds: 0,
  backoff: { baseSeconds: 1, maxSeconds: 60 },
} as const;

export const consumers = {
  "verification-email": {
    ...defaults,
    name: "verification-email",
    description: "Sends the address verification email with a secure confirmation code.",
    topic: "account-signups",
    handlerEntry: "lambdas/verification-email/handler.ts",
    // Sign-ups and email code re-sends; an SMS re-send is not for it.
    filterPolicy: { purpose: ["signup", "resend-email"] },
    needs: {
      settings: ["mailFrom", "verifyUrlBase"],
      secrets: ["verification"],
      idempotencyTable: true,
      sendsEmail: true,
    },
  },
  "verification-sms": {
    ...defaults,
    name: "verification-sms",
    description: "Sends the confirmation code by SMS to sign-ups that gave a phone number.",
    topic: "account-signups",
    handlerEntry: "lambdas/verification-sms/handler.ts",
    filterPolicy: { hasPhone: ["true"] },
    // Below the API's 5 sign-ups per phone a day: the backstop when something gets past the API.
    // A country code's count bounds the day's bill from numbers the attacker rotates through.
    smsCap: { perNumberPerDay: 3, perCountryPerDay: 1000 },
    needs: { secrets: ["verification"], idempotencyTable: true, sendsSms: true },
  },
  "team-notify": {
    ...defaults,
    name: "team-notify",
    description: "Posts a summary of each sign-up to the team's chat webhook.",
    topic: "account-signups",
    handlerEntry: "lambdas/team-notify/handler.ts",
    // Only real sign-ups: a code re-send is not news for the team.
    filterPolicy: { purpose: ["signup"] },
    maxConcurrency: 2,
    needs: { settings: ["teamWebhookUrl"], idempotencyTable: true },
  },
  thumbnails: {
    ...defaults,
    name: "thumbnails",
    description: "Makes the thumbnail and medium-resolution renditions of an uploaded image.",
    topic: "image-uploads",
    handlerEntry: "lambdas/thumbnails/handler.ts",
    batchSize: 5,
    timeoutSeconds: 60,
    memoryMb: 1536,
    visibilityTimeoutSeconds: 360,
    needs: {
      // Read on renditions too: the function skips work when both renditions exist for the same
      // source ETag, which it learns from HeadObject on them.
      uploads: { read: ["originals/", "renditions/"], write: ["renditions/"] },
      nativeModules: ["sharp"],
    },
  },
  "password-reset-email": {
    ...orderedDefaults,
    name: "password-reset-email",
    description: "Emails a password reset link whose token works only while it is the account's newest.",
    topic: "password-resets",
    handlerEntry: "lambdas/password-reset-email/handler.ts",
    // The reset page is beside the verification page: its address derives from verifyUrlBase.
    needs: {
      settings: ["mailFrom", "verifyUrlBase"],
      secrets: ["verification"],
      idempotencyTable: true,
      sendsEmail: true,
    },
  },
  "security-audit": {
    ...orderedDefaults,
    name: "security-audit",
    description: "Appends each security event to the account's audit trail, in the order it happened.",
    topic: "password-resets",
    handlerEntry: "lambdas/security-audit/handler.ts",
    needs: { idempotencyTable: true, appendsAuditTrail: true },
  },
  "account-export": {
    ...defaults,
    name: "account-export",
    description: "Writes an account's data export file from the manifest its request carries.",
    topic: "account-exports",
    handlerEntry: "lambdas/account-export/handler.ts",
    // One manifest is up to ~20 MiB of JSON: a few at a time, with room to parse and write it.
    batchSize: 1,
    maxConcurrency: 2,
    timeoutSeconds: 120,
    memoryMb: 1024,
    visibilityTimeoutSeconds: 720,
    // Write only: the file's key derives from the exportId, so a redelivery rewrites the same file.
    // Reading the payload bucket under account-exports/ follows from the topic (offloadLargePayloads).
    needs: { uploads: { write: ["exports/"] } },
  },
} as const satisfies Record<string, ConsumerSpec>;

export type ConsumerName = keyof typeof consumers;

export const secrets = {
  verification: {
    description: "HMAC key of courier's account verification codes",
    length: 64,
    manualRotationReason:
      "An HMAC key for short-lived verification codes, not a credential of another system: rotating it needs no partner and would void the codes already sent, so it is rotated by hand.",
  },
} as const satisfies Record<string, SecretSpec>;

/** courier's own topology: the default the CDK stack renders. */
export const courierTopology: TopologySpec<TopicName, ConsumerName> = { topics, consumers, secrets };

export const redriveFunction: RedriveFunctionSpec = {
  handlerEntry: "lambdas/redrive/handler.ts",
  timeoutSeconds: 900,
  memoryMb: 512,
  maxRedrives: 3,
};

/** DLQ retention: the maximum SQS allows, so it always exceeds the source's. */
export const DLQ_RETENTION_DAYS = 14;

export const topicNames = Object.keys(topics) as TopicName[];
export const consumerNames = Object.keys(consumers) as ConsumerName[];

export function isTopicName(name: string): name is TopicName {
  return Object.hasOwn(topics, name);
}

export function isConsumerName(name: string): name is ConsumerName {
  return Object.hasOwn(consumers, name);
}

/** A FIFO topic: SNS FIFO to SQS FIFO, one message group per `ordering.groupBy` value. */
export function isOrderedTopic(topic: TopicName): boolean {
  return (topics[topic] as TopicSpec).ordering !== undefined;
}

export function consumersOf(topic: TopicName): ConsumerSpec[] {
  return Object.values(consumers).filter((c) => c.topic === topic);
}

/** Looks a consumer up by name, with an error that lists the valid names. */
export function consumerSpec(name: string): ConsumerSpec {
  if (!isConsumerName(name)) {
    throw new Error(`unknown consumer "${name}"; known consumers: ${consumerNames.join(", ")}`);
  }
  return consumers[name];
}
