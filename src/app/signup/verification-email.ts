/**
 * verification-email: sends a new account a link that confirms its email address, with SES
 * SendEmail (v1: the API LocalStack records, and all this needs).
 */
import { type SESClient, SendEmailCommand } from "@aws-sdk/client-ses";
import type { VerificationEmailConfig } from "./config.ts";
import { renderVerificationEmail } from "./email-template.ts";
import { sesSendFailure, VerificationExpiredError } from "./errors.ts";
import { codeIssuedAt, type SignupEvent } from "./signup-event.ts";
import { issueEmailToken } from "./verification-code.ts";
import type { VerificationKeySource } from "./verification-key.ts";

export interface VerificationEmailDeps {
  readonly ses: Pick<SESClient, "send">;
  readonly config: VerificationEmailConfig;
  readonly key: VerificationKeySource;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

export interface SentVerificationEmail {
  readonly sesMessageId: string;
  readonly language: string;
  readonly expiresAt: Date;
}

/** The link keeps whatever query the base has and adds accountId and token. */
export function verificationLink(base: string, accountId: string, token: string): string {
  const url = new URL(base);
  url.searchParams.set("accountId", accountId);
  url.searchParams.set("token", token);
  return url.toString();
}

/**
 * SES errors that no retry can fix. Throttling ("Throttling"), 5xx and network errors are not
 * listed, so they stay retryable.
 */
export async function sendVerificationEmail(
  deps: VerificationEmailDeps,
  event: SignupEvent,
): Promise<SentVerificationEmail> {
  const { data } = event;
  const now = deps.now?.() ?? new Date();
  const key = await deps.key();
  // Derived from the event's own fields only, so every delivery of this event sends the same link.
  const issued = issueEmailToken(key, { accountId: data.accountId, address: data.email }, codeIssuedAt(data));
  if (issued.expiresAt.getTime() <= now.getTime()) {
    throw new VerificationExpiredError(
      `the verification link for event ${event.eventId} expired at ${issued.expiresAt.toISOString()}, before it was sent`,
    );
  }
  const link = verificationLink(deps.config.verifyUrlBase, data.accountId, issued.code);
  const content = renderVerificationEmail(data.locale, {
    displayName: data.displayName,
    link,
    expiresAt: issued.expiresAt,
  });
  try {
    const sent = await deps.ses.send(
      new SendEmailCommand({
        Source: deps.config.mailFrom,
        Destination: { ToAddresses: [data.email] },
        Message: {
          Subject: { Data: content.subject, Charset: "UTF-8" },
          Body: {
            Text: { Data: content.text, Charset: "UTF-8" },
            Html: { Data: content.html, Charset: "UTF-8" },
          },
        },
        // Lets a bounce or complaint be traced back to the event that caused the send.
        Tags: [{ Name: "eventId", Value: event.eventId }],
      }),
    );
    return { sesMessageId: sent.MessageId ?? "", language: content.language, expiresAt: issued.expiresAt };
  } catch (error) {
    throw sesSendFailure(error, "verification email");
  }
}
