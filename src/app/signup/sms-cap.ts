/**
 * A cap on verification SMS at the sender: per phone number and per country calling code, per UTC
 * day, counted in DynamoDB with conditional updates. Whatever gets past the API's rate limits (several
 * API instances, a producer that skips the API, a flood spread over many addresses), at most
 * `perNumberPerDay` codes reach one number and `perCountryPerDay` reach one country code a day:
 * the bound on an SMS-pumping bill. Optionally only listed country codes get SMS at all.
 *
 * The counters live in the idempotency table under their own key prefix (`courier.sms-cap#`): the
 * same key schema (a string `id`, a TTL attribute), already granted to the function and already
 * stood up locally. They expire two days after their day.
 *
 * Counting is two conditional UpdateItems, number first, then country (dynalite, the local
 * stand-in, has no TransactWriteItems). When the country's count refuses after the number's was
 * taken, the number's is given back; if that give-back fails the number is over-counted by one,
 * which errs on the side of sending less.
 */

import { createHmac } from "node:crypto";
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { IDEMPOTENCY_PARTITION_KEY, IDEMPOTENCY_TTL_ATTRIBUTE, PermanentError } from "@courier-queue/courier";
// zod/mini: configuration parsed at every cold start, in the consumer's bundle (courier's lib/zod.ts).
import * as z from "zod/mini";
import { exampleNeeds } from "../../topology.ts";
import { ENV } from "../deployment/example-env.ts";
import type { SmsCapSpec } from "../deployment/example-needs.ts";
import { callingCodeOf } from "./calling-codes.ts";

export type { SmsCapSpec };

/** The dead-letter reason of an SMS over the cap. */
export const SMS_RATE_LIMITED = "sms-rate-limited";
/** The dead-letter reason of an SMS to a country code not on the allow-list. */
export const SMS_COUNTRY_NOT_ALLOWED = "sms-country-not-allowed";

/** The send would exceed the cap: dead-lettered with reason `sms-rate-limited`, not retried. */
export class SmsRateLimitedError extends PermanentError {
  override readonly name: string = "SmsRateLimitedError";
  constructor(
    readonly scope: "number" | "country",
    readonly limit: number,
    readonly day: string,
  ) {
    super(`${SMS_RATE_LIMITED}: the ${scope} reached its cap of ${limit} verification SMS on ${day} (UTC)`);
  }
}

/** The number's country calling code is not on the allow-list: dead-lettered, not sent. */
export class SmsCountryNotAllowedError extends PermanentError {
  override readonly name: string = "SmsCountryNotAllowedError";
  constructor(readonly countryCode: string) {
    super(`${SMS_COUNTRY_NOT_ALLOWED}: country calling code +${countryCode} is not on the SMS allow-list`);
  }
}

export class SmsCapConfigError extends Error {
  override readonly name = "SmsCapConfigError";
}

/** Throws when a cap cannot work: zero or fractional counts, an allow-list entry that is not a code. */
export function validateSmsCap(cap: SmsCapSpec): SmsCapSpec {
  for (const [key, value] of [
    ["perNumberPerDay", cap.perNumberPerDay],
    ["perCountryPerDay", cap.perCountryPerDay],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new SmsCapConfigError(`smsCap.${key} must be a whole number of at least 1, got ${value}`);
    }
  }
  if (cap.perCountryPerDay < cap.perNumberPerDay) {
    throw new SmsCapConfigError(
      `smsCap.perCountryPerDay (${cap.perCountryPerDay}) must not be below perNumberPerDay (${cap.perNumberPerDay})`,
    );
  }
  for (const code of cap.allowedCountryCodes ?? []) {
    if (!/^[1-9]\d{0,2}$/.test(code)) {
      throw new SmsCapConfigError(
        `smsCap.allowedCountryCodes: "${code}" is not a country calling code (1-3 digits)`,
      );
    }
  }
  return cap;
}

/** The country calling code of an E.164 number ("1", "44"), or "unknown" when none is recognised. */
export function countryCallingCode(phone: string): string {
  return callingCodeOf(phone);
}

export interface SmsCapDeps {
  readonly dynamo: Pick<DynamoDBClient, "send">;
  readonly table: string;
  readonly cap: SmsCapSpec;
  /** Told each time a send is refused (the consumer turns it into a metric the alarm watches). */
  readonly onRefused?: (error: SmsRateLimitedError | SmsCountryNotAllowedError) => void;
}

export interface SmsCapGrant {
  readonly countryCode: string;
  readonly day: string;
}

const KEY_PREFIX = "courier.sms-cap";
/** Every counter's key starts with it: what the sender is granted in the idempotency table. */
export const SMS_CAP_KEY_PREFIX = `${KEY_PREFIX}#`;
const TWO_DAYS_SECONDS = 2 * 24 * 60 * 60;

export function smsCapKey(scope: "number" | "country", value: string, day: string): string {
  return `${KEY_PREFIX}#${scope}#${value}#${day}`;
}

/**
 * What a number's counter is keyed by: HMAC-SHA256 of the number under a secret key (the
 * verification key), so the counters' table, readable by other functions, names no phone number
 * and a guessed number cannot be checked against it without the key.
 */
export function phoneCounterId(key: Buffer, phone: string): string {
  return createHmac("sha256", key).update(`sms-cap\u0000${phone}`, "utf8").digest("base64url");
}

/**
 * Counts one SMS to `phone` today, or throws SmsRateLimitedError / SmsCountryNotAllowedError
 * (permanent: the runtime dead-letters the message with that reason) and sends nothing. The
 * number's counter is keyed by `numberId`: the sender passes a keyed hash of the number
 * (`phoneCounterId`), so the table holds no phone numbers.
 */
export async function takeSmsAllowance(
  deps: SmsCapDeps,
  phone: string,
  now: Date,
  numberId: string = phone,
): Promise<SmsCapGrant> {
  const countryCode = countryCallingCode(phone);
  const allowed = deps.cap.allowedCountryCodes;
  if (allowed && !allowed.includes(countryCode)) {
    const refusal = new SmsCountryNotAllowedError(countryCode);
    deps.onRefused?.(refusal);
    throw refusal;
  }
  const day = now.toISOString().slice(0, 10);
  const expiresAt = Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000) + TWO_DAYS_SECONDS;
  const refuse = (scope: "number" | "country", limit: number): never => {
    const refusal = new SmsRateLimitedError(scope, limit, day);
    deps.onRefused?.(refusal);
    throw refusal;
  };

  const numberKey = smsCapKey("number", numberId, day);
  if (!(await increment(deps, numberKey, deps.cap.perNumberPerDay, expiresAt))) {
    refuse("number", deps.cap.perNumberPerDay);
  }
  if (
    !(await increment(deps, smsCapKey("country", countryCode, day), deps.cap.perCountryPerDay, expiresAt))
  ) {
    await giveBack(deps, numberKey).catch(() => {
      // Over-counted by one: errs on the side of sending less.
    });
    refuse("country", deps.cap.perCountryPerDay);
  }
  return { countryCode, day };
}

/** Adds one to the counter unless it has reached `limit`; false when it had. */
async function increment(deps: SmsCapDeps, id: string, limit: number, expiresAt: number): Promise<boolean> {
  try {
    await deps.dynamo.send(
      new UpdateItemCommand({
        TableName: deps.table,
        Key: { [IDEMPOTENCY_PARTITION_KEY]: { S: id } },
        UpdateExpression: "ADD #count :one SET #ttl = if_not_exists(#ttl, :ttl)",
        ConditionExpression: "attribute_not_exists(#count) OR #count < :limit",
        ExpressionAttributeNames: { "#count": "smsCount", "#ttl": IDEMPOTENCY_TTL_ATTRIBUTE },
        ExpressionAttributeValues: {
          ":one": { N: "1" },
          ":limit": { N: String(limit) },
          ":ttl": { N: String(expiresAt) },
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    // dynalite's error may come from another copy of the SDK's class: compare by name too.
    if (error instanceof Error && error.name === "ConditionalCheckFailedException") return false;
    throw error;
  }
}

async function giveBack(deps: SmsCapDeps, id: string): Promise<void> {
  await deps.dynamo.send(
    new UpdateItemCommand({
      TableName: deps.table,
      Key: { [IDEMPOTENCY_PARTITION_KEY]: { S: id } },
      UpdateExpression: "ADD #count :minusOne",
      ConditionExpression: "#count > :zero",
      ExpressionAttributeNames: { "#count": "smsCount" },
      ExpressionAttributeValues: { ":minusOne": { N: "-1" }, ":zero": { N: "0" } },
    }),
  );
}

/** The metric the consumer emits per refusal; the stack's alarm watches it. */
export const SMS_CAP_METRIC = "SmsRateLimited";

const smsCapSchema = z.strictObject({
  perNumberPerDay: z.number(),
  perCountryPerDay: z.number(),
  allowedCountryCodes: z.optional(z.array(z.string())),
});

/** SMS_CAP as the stack and the local workers set it from the topology entry (JSON). */
export function smsCapFromEnvValue(raw: string): SmsCapSpec {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new SmsCapConfigError(`${ENV.smsCap} is not JSON`);
  }
  const parsed = smsCapSchema.safeParse(json);
  if (!parsed.success) {
    throw new SmsCapConfigError(
      `${ENV.smsCap} is invalid: ${parsed.error.issues.map((i) => i.path.join(".") || i.message).join(", ")}`,
    );
  }
  const { allowedCountryCodes, ...counts } = parsed.data;
  return validateSmsCap({ ...counts, ...(allowedCountryCodes ? { allowedCountryCodes } : {}) });
}

/**
 * verification-sms's cap: SMS_CAP (set by the example's stack from `exampleNeeds`), or that entry
 * itself where the variable is absent, so a function is never left uncapped by a missing
 * variable. Counted in the table named by IDEMPOTENCY_TABLE; undefined where no table is configured
 * (a local run without a DynamoDB-API server), as the once-per-event records are.
 */
function defaultSmsCap(): SmsCapSpec {
  const cap = exampleNeeds["verification-sms"].smsCap;
  if (!cap) throw new SmsCapConfigError("exampleNeeds declares no smsCap for verification-sms");
  return cap;
}

export function smsCapFromEnv(
  dynamo: Pick<DynamoDBClient, "send">,
  options: { onRefused?: SmsCapDeps["onRefused"]; env?: NodeJS.ProcessEnv } = {},
): SmsCapDeps | undefined {
  const env = options.env ?? process.env;
  const table = env[ENV.idempotencyTable];
  if (!table) return undefined;
  const raw = env[ENV.smsCap];
  const cap = raw ? smsCapFromEnvValue(raw) : validateSmsCap(defaultSmsCap());
  return { dynamo, table, cap, ...(options.onRefused ? { onRefused: options.onRefused } : {}) };
}
