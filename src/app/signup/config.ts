/**
 * Configuration of the sign-up consumers, parsed with zod from the environment at cold start.
 * A missing or malformed setting fails the cold start with a message that names the variable, so
 * a misdeployed function says what is wrong on its first log line instead of failing per record.
 */

import { ConfigError, parseEnv } from "@courier-queue/courier";
// zod/mini: configuration parsed at every cold start, in the consumer's bundle (courier's lib/zod.ts).
import * as z from "zod/mini";
import { ENV } from "../deployment/example-env.ts";

/** Optional: how long team-notify waits for the webhook before giving up (and retrying later). */
export const TEAM_WEBHOOK_TIMEOUT_ENV = "TEAM_WEBHOOK_TIMEOUT_MS";
export const DEFAULT_TEAM_WEBHOOK_TIMEOUT_MS = 5_000;

export class SignupConfigError extends ConfigError {
  override readonly name = "SignupConfigError";
}

const nonEmpty = (what: string) =>
  z.string({ error: `is not set (${what})` }).check(z.trim(), z.minLength(1, `is empty (${what})`));

const httpUrl = (what: string) =>
  z.pipe(nonEmpty(what), z.url({ protocol: /^https?$/, error: `must be an http(s) URL (${what})` }));

/** A bare address, or `Display Name <address>` as SES accepts in Source. */
const mailbox = (what: string) =>
  nonEmpty(what).check(
    z.refine((value: string) => /^(?:[^<>]*<)?[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>?$/.test(value), {
      error: `must be an email address or "Name <address>" (${what})`,
    }),
  );

const verificationEmailSchema = z.object({
  [ENV.verificationSecretArn]: nonEmpty("the Secrets Manager ARN of the verification HMAC key"),
  [ENV.mailFrom]: mailbox("the SES-verified sender of the verification email"),
  [ENV.verifyUrlBase]: httpUrl("the base of the verification link"),
});

const verificationSmsSchema = z.object({
  [ENV.verificationSecretArn]: nonEmpty("the Secrets Manager ARN of the verification HMAC key"),
});

const webhookTimeout = z._default(
  z.coerce
    .number({ error: "must be a number of milliseconds" })
    .check(
      z.int("must be a whole number of milliseconds"),
      z.gte(100, "must be at least 100 ms"),
      z.lte(60_000, "must be at most 60000 ms (the function timeout bounds it anyway)"),
    ),
  DEFAULT_TEAM_WEBHOOK_TIMEOUT_MS,
);

const teamNotifySchema = z.object({
  [ENV.teamWebhookUrl]: httpUrl("the team chat webhook team-notify posts to"),
  [TEAM_WEBHOOK_TIMEOUT_ENV]: webhookTimeout,
});

const teamNotifySecretSchema = z.object({
  [ENV.teamWebhookSecretArn]: nonEmpty("the Secrets Manager ARN holding the team webhook URL"),
  [TEAM_WEBHOOK_TIMEOUT_ENV]: webhookTimeout,
});

/** The webhook URL read from a secret's value: checked like TEAM_WEBHOOK_URL, never echoed. */
export const webhookUrlSecretValue = httpUrl("the value of the team webhook secret");

function parseEnvironment<S extends z.ZodMiniObject>(
  consumer: string,
  schema: S,
  env: NodeJS.ProcessEnv,
): z.output<S> {
  return parseEnv(schema, env, { context: `${consumer}: invalid configuration`, error: SignupConfigError });
}

export interface VerificationEmailConfig {
  readonly verificationSecretArn: string;
  readonly mailFrom: string;
  readonly verifyUrlBase: string;
}

export function verificationEmailConfig(env: NodeJS.ProcessEnv = process.env): VerificationEmailConfig {
  const parsed = parseEnvironment("verification-email", verificationEmailSchema, env);
  return {
    verificationSecretArn: parsed[ENV.verificationSecretArn],
    mailFrom: parsed[ENV.mailFrom],
    verifyUrlBase: parsed[ENV.verifyUrlBase],
  };
}

export interface VerificationSmsConfig {
  readonly verificationSecretArn: string;
}

export function verificationSmsConfig(env: NodeJS.ProcessEnv = process.env): VerificationSmsConfig {
  const parsed = parseEnvironment("verification-sms", verificationSmsSchema, env);
  return { verificationSecretArn: parsed[ENV.verificationSecretArn] };
}

export interface TeamNotifyConfig {
  readonly webhookUrl: string;
  readonly timeoutMs: number;
}

export function teamNotifyConfig(env: NodeJS.ProcessEnv = process.env): TeamNotifyConfig {
  const parsed = parseEnvironment("team-notify", teamNotifySchema, env);
  return { webhookUrl: parsed[ENV.teamWebhookUrl], timeoutMs: parsed[TEAM_WEBHOOK_TIMEOUT_ENV] };
}

/** Where team-notify finds its webhook: the URL itself, or a secret holding it (kept out of templates). */
export type TeamNotifySettings =
  | { readonly webhookUrl: string; readonly timeoutMs: number }
  | { readonly webhookSecretArn: string; readonly timeoutMs: number };

/** TEAM_WEBHOOK_SECRET_ARN when set, else TEAM_WEBHOOK_URL (whose absence is the error reported). */
export function teamNotifySettings(env: NodeJS.ProcessEnv = process.env): TeamNotifySettings {
  if (env[ENV.teamWebhookSecretArn] !== undefined) {
    const parsed = parseEnvironment("team-notify", teamNotifySecretSchema, env);
    return {
      webhookSecretArn: parsed[ENV.teamWebhookSecretArn],
      timeoutMs: parsed[TEAM_WEBHOOK_TIMEOUT_ENV],
    };
  }
  return teamNotifyConfig(env);
}
