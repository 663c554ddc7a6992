/**
 * The SMS cap's decisions, with DynamoDB mocked (its real conditional updates run in
 * test/integration/sms-cap.test.ts on dynalite). Failure modes covered: a send over the cap still
 * going out; a refusal the alarm never hears of; a number's count kept when its country refused;
 * a country off the allow-list texted anyway; a cap that cannot work accepted at deploy time.
 */
import { ConditionalCheckFailedException, DynamoDBClient, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { PermanentError } from "../../packages/courier/src/lib/consumer/errors.ts";
import { ENV } from "../../src/app/deployment/example-env.ts";
import {
  countryCallingCode,
  phoneCounterId,
  SmsCapConfigError,
  SmsCountryNotAllowedError,
  SmsRateLimitedError,
  smsCapFromEnv,
  smsCapKey,
  takeSmsAllowance,
  validateSmsCap,
} from "../../src/app/signup/sms-cap.ts";
import { verificationKey } from "../../src/app/signup/verification-code.ts";
import { sendVerificationSms } from "../../src/app/signup/verification-sms.ts";
import { exampleNeeds } from "../../src/topology.ts";
import { exampleConsumerEnvironment as consumerEnvironment } from "../helpers/example-environment.ts";

const dynamoMock = mockClient(DynamoDBClient);
const snsMock = mockClient(SNSClient);
const NOW = new Date("2026-11-28T10:00:00Z");
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} });

beforeEach(() => {
  dynamoMock.reset();
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: "sms-1" });
});

const deps = (refusals: unknown[] = [], allowedCountryCodes?: string[]) => ({
  dynamo: new DynamoDBClient({ region: "us-east-1" }),
  table: "idempotency",
  cap: { perNumberPerDay: 3, perCountryPerDay: 100, ...(allowedCountryCodes ? { allowedCountryCodes } : {}) },
  onRefused: (e: unknown) => refusals.push(e),
});

describe("SMS cap", () => {
  it("GIVEN both counts under the cap WHEN a send is taken THEN the number's then the country's day counter is incremented conditionally", async () => {
    dynamoMock.on(UpdateItemCommand).resolves({});
    const grant = await takeSmsAllowance(deps(), "+14155550123", NOW);
    expect(grant).toEqual({ countryCode: "1", day: "2026-11-28" });
    const updates = dynamoMock.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(updates.map((u) => u.Key?.id?.S)).toEqual([
      smsCapKey("number", "+14155550123", "2026-11-28"),
      smsCapKey("country", "1", "2026-11-28"),
    ]);
    expect(updates[0]?.ConditionExpression).toContain("< :limit");
    expect(updates[0]?.ExpressionAttributeValues?.[":limit"]).toEqual({ N: "3" });
    expect(updates[1]?.ExpressionAttributeValues?.[":limit"]).toEqual({ N: "100" });
  });

  it("GIVEN the number at its cap WHEN a send is taken THEN SmsRateLimitedError (permanent, reason sms-rate-limited) and the alarm hook hears it", async () => {
    dynamoMock.on(UpdateItemCommand).rejects(conditionFailed());
    const refusals: unknown[] = [];
    const error = await takeSmsAllowance(deps(refusals), "+14155550123", NOW).catch((e) => e);
    expect(error).toBeInstanceOf(SmsRateLimitedError);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/^sms-rate-limited: the number reached its cap of 3/);
    expect(refusals).toEqual([error]);
  });

  it("GIVEN the country at its cap WHEN a send is taken THEN it is refused and the number's count is given back", async () => {
    dynamoMock.on(UpdateItemCommand).resolvesOnce({}).rejectsOnce(conditionFailed()).resolves({});
    const error = await takeSmsAllowance(deps(), "+447700900123", NOW).catch((e) => e);
    expect(error).toBeInstanceOf(SmsRateLimitedError);
    expect(error.scope).toBe("country");
    const updates = dynamoMock.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(updates).toHaveLength(3);
    expect(updates[2]?.Key?.id?.S).toBe(smsCapKey("number", "+447700900123", "2026-11-28"));
    expect(updates[2]?.ExpressionAttributeValues?.[":minusOne"]).toEqual({ N: "-1" });
  });

  it("GIVEN an allow-list without the number's country code WHEN a send is taken THEN SmsCountryNotAllowedError before any count", async () => {
    const refusals: unknown[] = [];
    const error = await takeSmsAllowance(deps(refusals, ["1", "44"]), "+2348012345678", NOW).catch((e) => e);
    expect(error).toBeInstanceOf(SmsCountryNotAllowedError);
    expect(error.message).toMatch(/^sms-country-not-allowed: country calling code \+234/);
    expect(dynamoMock.commandCalls(UpdateItemCommand)).toHaveLength(0);
    expect(refusals).toHaveLength(1);
  });

  it("GIVEN DynamoDB failing otherwise WHEN a send is taken THEN the error propagates (retried, not dead-lettered)", async () => {
    dynamoMock.on(UpdateItemCommand).rejects(new Error("ProvisionedThroughputExceeded"));
    const error = await takeSmsAllowance(deps(), "+14155550123", NOW).catch((e) => e);
    expect(error).not.toBeInstanceOf(PermanentError);
  });

  it("GIVEN the number at its cap WHEN sendVerificationSms runs THEN nothing is published", async () => {
    dynamoMock.on(UpdateItemCommand).rejects(conditionFailed());
    const event = {
      eventId: "e-1",
      data: {
        accountId: "a-1",
        email: "a@example.com",
        displayName: "A",
        phone: "+14155550123",
        locale: "en-US",
        createdAt: NOW.toISOString(),
      },
    };
    const sending = sendVerificationSms(
      {
        sns: new SNSClient({ region: "us-east-1" }),
        key: async () => verificationKey("k".repeat(43)),
        now: () => NOW,
        cap: deps(),
      },
      event,
    );
    await expect(sending).rejects.toBeInstanceOf(SmsRateLimitedError);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it("GIVEN a sign-up with a phone WHEN sendVerificationSms counts it THEN the counter's key holds a keyed hash, not the number (failure mode: phone numbers in a table other functions read)", async () => {
    dynamoMock.on(UpdateItemCommand).resolves({});
    snsMock.on(PublishCommand).resolves({ MessageId: "sms-1" });
    const key = verificationKey("k".repeat(43));
    const event = {
      eventId: "e-2",
      data: {
        accountId: "a-2",
        email: "b@example.com",
        displayName: "B",
        phone: "+14155550123",
        locale: "en-US",
        createdAt: NOW.toISOString(),
      },
    };
    await sendVerificationSms(
      { sns: new SNSClient({ region: "us-east-1" }), key: async () => key, now: () => NOW, cap: deps() },
      event,
    );
    const ids = dynamoMock.commandCalls(UpdateItemCommand).map((c) => c.args[0].input.Key?.id?.S ?? "");
    expect(ids).toContain(smsCapKey("number", phoneCounterId(key.bytes, "+14155550123"), "2026-11-28"));
    for (const id of ids) expect(id).not.toContain("4155550123");
  });

  it("GIVEN E.164 numbers WHEN their country calling codes are read THEN 1, 44, 234 (and unknown for none)", () => {
    expect(["+14155550123", "+447700900123", "+2348012345678", "+999123"].map(countryCallingCode)).toEqual([
      "1",
      "44",
      "234",
      "unknown",
    ]);
  });

  it("GIVEN caps that cannot work WHEN validated THEN they are refused naming the setting", () => {
    expect(() => validateSmsCap({ perNumberPerDay: 0, perCountryPerDay: 10 })).toThrow(SmsCapConfigError);
    expect(() => validateSmsCap({ perNumberPerDay: 5, perCountryPerDay: 2 })).toThrow(/perCountryPerDay/);
    expect(() =>
      validateSmsCap({ perNumberPerDay: 1, perCountryPerDay: 2, allowedCountryCodes: ["+44"] }),
    ).toThrow(/allowedCountryCodes/);
  });
});

describe("SMS cap configuration", () => {
  const dynamo = new DynamoDBClient({ region: "us-east-1" });

  it("GIVEN verification-sms's environment as the stack derives it WHEN read THEN SMS_CAP carries the topology's cap", () => {
    const env = consumerEnvironment(
      "verification-sms",
      { queueUrl: "q", dlqUrl: "d", secretArns: { verification: "arn:v" }, idempotencyTable: "idem" },
      { mailFrom: "a@example.com", verifyUrlBase: "https://x/verify", teamWebhookUrl: "https://hook" },
    );
    expect(JSON.parse(env[ENV.smsCap] ?? "null")).toEqual(exampleNeeds["verification-sms"].smsCap);
    expect(smsCapFromEnv(dynamo, { env })?.cap).toEqual(exampleNeeds["verification-sms"].smsCap);
    expect(smsCapFromEnv(dynamo, { env })?.table).toBe("idem");
  });

  it("GIVEN an SMS_CAP with an allow-list WHEN read THEN the allow-list applies", () => {
    const env = {
      [ENV.idempotencyTable]: "idem",
      [ENV.smsCap]: JSON.stringify({ perNumberPerDay: 2, perCountryPerDay: 50, allowedCountryCodes: ["44"] }),
    };
    expect(smsCapFromEnv(dynamo, { env })?.cap).toEqual({
      perNumberPerDay: 2,
      perCountryPerDay: 50,
      allowedCountryCodes: ["44"],
    });
  });

  it("GIVEN a table but no SMS_CAP WHEN read THEN the topology's cap applies (never uncapped by a missing variable)", () => {
    expect(smsCapFromEnv(dynamo, { env: { [ENV.idempotencyTable]: "idem" } })?.cap).toEqual(
      exampleNeeds["verification-sms"].smsCap,
    );
  });

  it("GIVEN a malformed SMS_CAP WHEN read THEN the cold start fails naming it", () => {
    const env = {
      [ENV.idempotencyTable]: "idem",
      [ENV.smsCap]: '{"perNumberPerDay":0,"perCountryPerDay":5}',
    };
    expect(() => smsCapFromEnv(dynamo, { env })).toThrow(SmsCapConfigError);
    expect(() => smsCapFromEnv(dynamo, { env: { ...env, [ENV.smsCap]: "{" } })).toThrow(
      /SMS_CAP is not JSON/,
    );
  });
});
