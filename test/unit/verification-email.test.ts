import { MessageRejected, SESClient, SESServiceException, SendEmailCommand } from "@aws-sdk/client-ses";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { PermanentError } from "../../packages/courier/src/lib/consumer/index.ts";
import type { VerificationEmailConfig } from "../../src/app/signup/config.ts";
import { renderVerificationEmail, templateLanguageFor } from "../../src/app/signup/email-template.ts";
import { EmailRejectedError, VerificationExpiredError } from "../../src/app/signup/errors.ts";
import { verifyCode } from "../../src/app/signup/verification-code.ts";
import { sendVerificationEmail, verificationLink } from "../../src/app/signup/verification-email.ts";
import { SOON_AFTER, signup, TEST_KEY } from "./signup-fixtures.ts";

const ses = mockClient(SESClient);
const config: VerificationEmailConfig = {
  verificationSecretArn: "arn:aws:secretsmanager:us-east-1:000000000000:secret:v",
  mailFrom: "Courier <no-reply@courier.example>",
  verifyUrlBase: "https://app.courier.example/verify?utm_source=email",
};

function deps(now = SOON_AFTER) {
  return { ses: new SESClient({ region: "us-east-1" }), config, key: async () => TEST_KEY, now: () => now };
}

function sentEmail() {
  const call = ses.commandCalls(SendEmailCommand)[0];
  if (!call) throw new Error("no SendEmail call was made");
  return call.args[0].input;
}

function linkIn(text: string): URL {
  const match = /https:\/\/\S+/.exec(text);
  if (!match) throw new Error(`no link in: ${text}`);
  return new URL(match[0]);
}

describe("verification-email", () => {
  beforeEach(() => {
    ses.reset();
    ses.on(SendEmailCommand).resolves({ MessageId: "ses-1" });
  });

  it("GIVEN a sign-up WHEN the email is sent THEN it goes from MAIL_FROM to the account's address", async () => {
    await sendVerificationEmail(deps(), signup());
    const input = sentEmail();
    expect(input.Source).toBe(config.mailFrom);
    expect(input.Destination?.ToAddresses).toEqual(["ada.lovelace@example.com"]);
  });

  it("GIVEN a sign-up WHEN the email is sent THEN its link carries a token that verifies for that account", async () => {
    // Failure mode: the email goes out with a code the API server cannot verify.
    await sendVerificationEmail(deps(), signup());
    const link = linkIn(sentEmail().Message?.Body?.Text?.Data ?? "");
    expect(link.origin + link.pathname).toBe("https://app.courier.example/verify");
    expect(link.searchParams.get("accountId")).toBe("acct-0001");
    const result = verifyCode(
      TEST_KEY,
      {
        channel: "email",
        accountId: link.searchParams.get("accountId") ?? "",
        email: "ada.lovelace@example.com",
        token: link.searchParams.get("token") ?? "",
      },
      SOON_AFTER,
    );
    expect(result.status).toBe("valid");
  });

  it("GIVEN a link base with a query WHEN the link is built THEN the base's query is kept", () => {
    const link = new URL(verificationLink(config.verifyUrlBase, "acct-0001", "v1.1.x"));
    expect(link.searchParams.get("utm_source")).toBe("email");
  });

  it("GIVEN the same event delivered twice WHEN both are sent THEN both emails carry the same link", async () => {
    // Failure mode: a redelivery sends a second, different code.
    await sendVerificationEmail(deps(), signup());
    await sendVerificationEmail(deps(new Date(SOON_AFTER.getTime() + 60_000)), signup());
    const [first, second] = ses
      .commandCalls(SendEmailCommand)
      .map((c) => c.args[0].input.Message?.Body?.Text?.Data);
    expect(second).toBe(first);
  });

  it("GIVEN a sign-up in German WHEN the email is sent THEN subject and body are German", async () => {
    await sendVerificationEmail(deps(), signup({ locale: "de-AT" }));
    expect(sentEmail().Message?.Subject?.Data).toBe("Bestätigen Sie Ihre E-Mail-Adresse");
  });

  it("GIVEN a locale without a template WHEN the email is rendered THEN it falls back to English", () => {
    expect(templateLanguageFor("ja-JP")).toBe("en");
    const content = renderVerificationEmail("ja-JP", {
      displayName: "Ada",
      link: "https://x.example/",
      expiresAt: SOON_AFTER,
    });
    expect(content.subject).toBe("Confirm your email address");
  });

  it("GIVEN a display name with HTML WHEN the email is rendered THEN the HTML part escapes it", () => {
    // Failure mode: a user's chosen name injects markup into the email.
    const content = renderVerificationEmail("en", {
      displayName: '<img src=x onerror="alert(1)">',
      link: "https://x.example/?a=1&b=2",
      expiresAt: SOON_AFTER,
    });
    expect(content.html).not.toContain("<img");
    expect(content.html).toContain("&lt;img src=x");
  });

  it("GIVEN SES rejects the message WHEN the email is sent THEN a PermanentError is thrown", async () => {
    // Failure mode: a bad address is retried five times instead of going to the DLQ at once.
    ses
      .on(SendEmailCommand)
      .rejects(new MessageRejected({ message: "Email address is not verified.", $metadata: {} }));
    const sending = sendVerificationEmail(deps(), signup());
    await expect(sending).rejects.toBeInstanceOf(EmailRejectedError);
    await expect(sending).rejects.toBeInstanceOf(PermanentError);
  });

  it("GIVEN SES throttles WHEN the email is sent THEN the error is not permanent (retried)", async () => {
    const throttled = new SESServiceException({
      name: "Throttling",
      $fault: "client",
      message: "Maximum sending rate exceeded.",
      $metadata: { httpStatusCode: 400 },
    });
    ses.on(SendEmailCommand).rejects(throttled);
    const error = await sendVerificationEmail(deps(), signup()).catch((e: unknown) => e);
    expect(error).toBe(throttled);
    expect(error).not.toBeInstanceOf(PermanentError);
  });

  it("GIVEN SES fails with a 5xx WHEN the email is sent THEN the error is not permanent (retried)", async () => {
    const unavailable = new SESServiceException({
      name: "ServiceUnavailable",
      $fault: "server",
      message: "Service unavailable",
      $metadata: { httpStatusCode: 503 },
    });
    ses.on(SendEmailCommand).rejects(unavailable);
    await expect(sendVerificationEmail(deps(), signup())).rejects.not.toBeInstanceOf(PermanentError);
  });

  it("GIVEN an event processed after its code expired WHEN handled THEN nothing is sent and it is permanent", async () => {
    // Failure mode: a message redriven days later mails a link that can only fail.
    const tooLate = new Date("2026-03-03T12:00:00.000Z");
    await expect(sendVerificationEmail(deps(tooLate), signup())).rejects.toBeInstanceOf(
      VerificationExpiredError,
    );
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });

  it("GIVEN the key cannot be read WHEN handled THEN the error is retryable and nothing is sent", async () => {
    const failing = { ...deps(), key: async () => Promise.reject(new Error("secrets manager unavailable")) };
    await expect(sendVerificationEmail(failing, signup())).rejects.not.toBeInstanceOf(PermanentError);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });
});
