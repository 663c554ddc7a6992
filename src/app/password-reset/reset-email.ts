/** password-reset-email: sends the reset link for one PasswordResetRequested event (SES v1). */

import { type SESClient, SendEmailCommand } from "@aws-sdk/client-ses";
import type { PasswordResetRequestedV1 } from "../contracts/index.ts";
import { sesSendFailure } from "../signup/errors.ts";
import { verificationLink } from "../signup/verification-email.ts";
import type { VerificationKeySource } from "../signup/verification-key.ts";
import { issueResetToken } from "./reset-token.ts";

export interface ResetEmailConfig {
  readonly mailFrom: string;
  readonly resetUrlBase: string;
}

export interface ResetEmailDeps {
  readonly ses: Pick<SESClient, "send">;
  readonly config: ResetEmailConfig;
  readonly key: VerificationKeySource;
}

export interface ResetEvent {
  readonly eventId: string;
  readonly data: PasswordResetRequestedV1;
}

/** The same link shape as the verification email's: the base's query kept, accountId and token added. */
export const resetLink = verificationLink;

/**
 * Sends even when a newer request exists: the old link simply will not work, and skipping would
 * need a read of the account service's state, which consumers never do. Order on the topic makes
 * the newest link the last one sent.
 */
export async function sendResetEmail(
  deps: ResetEmailDeps,
  event: ResetEvent,
): Promise<{ sesMessageId: string }> {
  const { data } = event;
  const issued = issueResetToken(await deps.key(), data, data.requestedAt);
  const link = resetLink(deps.config.resetUrlBase, data.accountId, issued.token);
  const text =
    `Someone asked to reset the password of your courier account at ${data.requestedAt}.\n\n` +
    `Choose a new password: ${link}\n\n` +
    `The link works until ${issued.expiresAt.toISOString()} and only while it is the newest one sent. ` +
    "If you did not ask for it, ignore this email.";
  try {
    const sent = await deps.ses.send(
      new SendEmailCommand({
        Source: deps.config.mailFrom,
        Destination: { ToAddresses: [data.email] },
        Message: {
          Subject: { Data: "Reset your courier password", Charset: "UTF-8" },
          Body: { Text: { Data: text, Charset: "UTF-8" } },
        },
        Tags: [{ Name: "eventId", Value: event.eventId }],
      }),
    );
    return { sesMessageId: sent.MessageId ?? "" };
  } catch (error) {
    throw sesSendFailure(error, "reset email");
  }
}
