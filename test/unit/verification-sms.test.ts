import { InvalidParameterException, PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { PermanentError } from "../../packages/courier/src/lib/consumer/index.ts";
import { MissingPhoneError, SmsRejectedError } from "../../src/app/signup/errors.ts";
import { verifyCode } from "../../src/app/signup/verification-code.ts";
import { sendVerificationSms } from "../../src/app/signup/verification-sms.ts";
import { CREATED_AT, SOON_AFTER, signup, signupWithoutPhone, TEST_KEY } from "./signup-fixtures.ts";

const sns = mockClient(SNSClient);

function deps() {
  return { sns: new SNSClient({ region: "us-east-1" }), key: async () => TEST_KEY, now: () => SOON_AFTER };
}

function published() {
  const call = sns.commandCalls(PublishCommand)[0];
  if (!call) throw new Error("no Publish call was made");
  return call.args[0].input;
}

describe("verification-sms", () => {
  beforeEach(() => {
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: "sns-1" });
  });

  it("GIVEN a sign-up with a phone WHEN handled THEN one SMS is published to that phone number", async () => {
    await sendVerificationSms(deps(), signup());
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(published().PhoneNumber).toBe("+14155550123");
    expect(published().TopicArn).toBeUndefined();
  });

  it("GIVEN a sign-up WHEN the SMS is sent THEN its six-digit code verifies for that account and phone", async () => {
    // Failure mode: the SMS carries a code the API server cannot verify.
    await sendVerificationSms(deps(), signup());
    const code = /\b(\d{6})\b/.exec(published().Message ?? "")?.[1] ?? "";
    const result = verifyCode(
      TEST_KEY,
      { channel: "sms", accountId: "acct-0001", phone: "+14155550123", code, issuedAt: CREATED_AT },
      SOON_AFTER,
    );
    expect(result.status).toBe("valid");
  });

  it("GIVEN a sign-up WHEN the SMS is sent THEN it is marked Transactional", async () => {
    await sendVerificationSms(deps(), signup());
    expect(published().MessageAttributes?.["AWS.SNS.SMS.SMSType"]?.StringValue).toBe("Transactional");
  });

  it("GIVEN a sign-up without a phone WHEN handled THEN it is a PermanentError and nothing is published", async () => {
    // Failure mode: a filter mistake turns into endless retries of a record that can never succeed.
    const sending = sendVerificationSms(deps(), signupWithoutPhone());
    await expect(sending).rejects.toBeInstanceOf(MissingPhoneError);
    await expect(sending).rejects.toBeInstanceOf(PermanentError);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it("GIVEN SNS refuses the phone number WHEN handled THEN it is a PermanentError", async () => {
    sns
      .on(PublishCommand)
      .rejects(new InvalidParameterException({ message: "Invalid phone number", $metadata: {} }));
    await expect(sendVerificationSms(deps(), signup())).rejects.toBeInstanceOf(SmsRejectedError);
  });

  it("GIVEN SNS fails transiently WHEN handled THEN the error is not permanent (retried)", async () => {
    sns.on(PublishCommand).rejects(new Error("socket hang up"));
    await expect(sendVerificationSms(deps(), signup())).rejects.not.toBeInstanceOf(PermanentError);
  });
});

describe("verification-sms error text", () => {
  beforeEach(() => {
    sns.reset();
  });

  it("GIVEN SNS refuses with a message quoting the number WHEN handled THEN the reason carries it masked (failure mode: a phone number in DLQ reasons and logs)", async () => {
    sns.on(PublishCommand).rejects(
      new InvalidParameterException({
        message: "Invalid parameter: PhoneNumber +14155550123 is not valid",
        $metadata: {},
      }),
    );
    const error = (await sendVerificationSms(deps(), signup()).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(SmsRejectedError);
    expect(error.message).not.toContain("4155550123");
    expect(error.message).toContain("•••••••••23");
    expect(String((error.cause as Error).message)).not.toContain("4155550123");
  });

  it("GIVEN a retryable SNS error quoting the number in another grouping WHEN handled THEN it is rethrown as is, the number masked", async () => {
    const throttled = Object.assign(new Error("Rate exceeded for 1 (415) 555-0123"), {
      name: "ThrottlingException",
    });
    sns.on(PublishCommand).rejects(throttled);
    const error = (await sendVerificationSms(deps(), signup()).catch((e: unknown) => e)) as Error;
    expect(error.name).toBe("ThrottlingException");
    expect(error.message).not.toMatch(/555.?0123/);
  });
});
