/**
 * courier's example application's topology: its topics, consumers and secrets, declared with the
 * package's `defineTopology` exactly as another team declares theirs. `cdk/` renders it with the
 * `Courier` construct, the handlers are typed from it, and the example's own needs (mail, SMS, the
 * uploads bucket, the audit trail, deploy settings) are declared beside it in `exampleNeeds`.
 */
import { defineTopology, type SecretSpec } from "@courier-queue/courier";
import {
  AccountExportRequestedV1Contract,
  ImageUploadedV1Contract,
  NewAccountV1Contract,
  PasswordResetRequestedV1Contract,
} from "./app/contracts/index.ts";
import type { ExampleNeeds } from "./app/deployment/example-needs.ts";

/**
 * What the example's sign-up and reset consumers share besides the package's defaults: a 180 s
 * visibility timeout, and 256 MB chosen from bench/lambda-memory.bench.ts: their batches make 30-50
 * AWS calls per 10 records and take 52-106 ms of CPU, so compute costs the same at any size below
 * one vCPU while each call's wait costs in proportion to memory; 256 MB keeps a cold start (160-200
 * ms of CPU) near 1.1-1.4 s modeled and a batch near 0.4-0.7 s, against twice that at 128 MB.
 */
const signupDefaults = { visibilityTimeoutSeconds: 180, memoryMb: 256 } as const;

const secrets = {
  verification: {
    description: "HMAC key of courier's account verification codes",
    length: 64,
    manualRotationReason:
      "An HMAC key for short-lived verification codes, not a credential of another system: rotating it needs no partner and would void the codes already sent, so it is rotated by hand.",
  },
} as const satisfies Record<string, SecretSpec>;

export const courierTopology = defineTopology({
  topics: {
    "account-signups": {
      description: "A new account was created; consumers verify its address and tell the team.",
      current: NewAccountV1Contract,
      accepts: [NewAccountV1Contract],
      // History for courier replay; erasing an account (DELETE /accounts/:id) removes its messages.
      archive: { retentionDays: 30, subject: "accountId" },
    },
    "image-uploads": {
      description: "An original image was stored; consumers make its renditions.",
      current: ImageUploadedV1Contract,
      // Fair delivery: one account's flood of uploads never holds up another account's photo.
      tenant: { from: "uploadedBy" },
    },
    "password-resets": {
      description: "An account asked to reset its password; consumers see each account's requests in order.",
      current: PasswordResetRequestedV1Contract,
      // A FIFO topic: the account is the message group, the eventId the deduplication id.
      ordering: { groupBy: "accountId" },
      // The tenant is the group already (a FIFO topic keeps its own group key).
      tenant: { from: "accountId" },
      archive: { retentionDays: 30, subject: "accountId" },
    },
    "account-exports": {
      description:
        "An account asked for its data; the manifest of everything it owns travels in the message.",
      current: AccountExportRequestedV1Contract,
      // A busy account's manifest runs to megabytes: up to 1 MiB goes inline (SNS's raised limit),
      // anything larger through the payload bucket as an extended-client pointer.
      maxMessageBytes: 1_048_576,
      offloadLargePayloads: true,
      tenant: { from: "accountId" },
      archive: { retentionDays: 30, subject: "accountId" },
    },
  },
  consumers: {
    "verification-email": {
      ...signupDefaults,
      description: "Sends the address verification email with a secure confirmation code.",
      topic: "account-signups",
      handlerEntry: "lambdas/verification-email/handler.ts",
      // Sign-ups and email code re-sends; an SMS re-send is not for it.
      filterPolicy: { purpose: ["signup", "resend-email"] },
      needs: { secrets: ["verification"], idempotencyTable: true },
    },
    "verification-sms": {
      ...signupDefaults,
      description: "Sends the confirmation code by SMS to sign-ups that gave a phone number.",
      topic: "account-signups",
      handlerEntry: "lambdas/verification-sms/handler.ts",
      filterPolicy: { hasPhone: ["true"] },
      needs: { secrets: ["verification"], idempotencyTable: true },
    },
    "team-notify": {
      ...signupDefaults,
      description: "Posts a summary of each sign-up to the team's chat webhook.",
      topic: "account-signups",
      handlerEntry: "lambdas/team-notify/handler.ts",
      // Only real sign-ups: a code re-send is not news for the team.
      filterPolicy: { purpose: ["signup"] },
      maxConcurrency: 2,
      needs: { idempotencyTable: true },
    },
    thumbnails: {
      description: "Makes the thumbnail and medium-resolution renditions of an uploaded image.",
      topic: "image-uploads",
      handlerEntry: "lambdas/thumbnails/handler.ts",
      batchSize: 5,
      timeoutSeconds: 60,
      memoryMb: 1536,
      visibilityTimeoutSeconds: 360,
      needs: { nodeModules: ["sharp"] },
    },
    "password-reset-email": {
      ...signupDefaults,
      description: "Emails a password reset link whose token works only while it is the account's newest.",
      topic: "password-resets",
      handlerEntry: "lambdas/password-reset-email/handler.ts",
      needs: { secrets: ["verification"], idempotencyTable: true },
    },
    "security-audit": {
      ...signupDefaults,
      description: "Appends each security event to the account's audit trail, in the order it happened.",
      topic: "password-resets",
      handlerEntry: "lambdas/security-audit/handler.ts",
      needs: { idempotencyTable: true },
    },
    "account-export": {
      description: "Writes an account's data export file from the manifest its request carries.",
      topic: "account-exports",
      handlerEntry: "lambdas/account-export/handler.ts",
      // One manifest is up to ~20 MiB of JSON: a few at a time, with room to parse and write it.
      batchSize: 1,
      maxConcurrency: 2,
      timeoutSeconds: 120,
      memoryMb: 1024,
      visibilityTimeoutSeconds: 720,
    },
  },
  secrets,
});

export type CourierTopology = typeof courierTopology;
export const topics = courierTopology.topics;
export const consumers = courierTopology.consumers;
export type TopicName = keyof typeof topics;
export type ConsumerName = keyof typeof consumers;
export const topicNames = Object.keys(topics) as TopicName[];
export const consumerNames = Object.keys(consumers) as ConsumerName[];

/** The example's needs beyond the construct's grants; its stack grants them (cdk/stacks). */
export const exampleNeeds: Readonly<Record<ConsumerName, ExampleNeeds>> = {
  "verification-email": { settings: ["mailFrom", "verifyUrlBase"], sendsEmail: true },
  "verification-sms": {
    sendsSms: true,
    // Below the API's 5 sign-ups per phone a day: the backstop when something gets past the API.
    // A country code's count bounds the day's bill from numbers the attacker rotates through.
    smsCap: { perNumberPerDay: 3, perCountryPerDay: 1000 },
  },
  "team-notify": { settings: ["teamWebhookUrl"] },
  thumbnails: {
    // Read on renditions too: the function skips work when both renditions exist for the same
    // source ETag, which it learns from HeadObject on them.
    uploads: { read: ["originals/", "renditions/"], write: ["renditions/"] },
  },
  // The reset page is beside the verification page: its address derives from verifyUrlBase.
  "password-reset-email": { settings: ["mailFrom", "verifyUrlBase"], sendsEmail: true },
  "security-audit": { appendsAuditTrail: true },
  // Write only: the file's key derives from the exportId, so a redelivery rewrites the same file.
  // Reading the payload bucket under account-exports/ follows from the topic (offloadLargePayloads).
  "account-export": { uploads: { write: ["exports/"] } },
};

export function isConsumerName(name: string): name is ConsumerName {
  return Object.hasOwn(consumers, name);
}

export function isTopicName(name: string): name is TopicName {
  return Object.hasOwn(topics, name);
}
