/**
 * A consumer's environment derived from its topology entry's needs, as both the CDK stack and the
 * local workers build it. Failure modes covered: a needed address silently missing (an empty
 * variable the handler trips on at first message instead of a clear error at start); a bearer URL in
 * the environment when a secret was given for it; a consumer receiving resources it does not need;
 * courier's own topology failing the checks the stack applies.
 */
import { describe, expect, it } from "vitest";
import {
  type ConsumerResources,
  consumerEnvironment,
  ENV,
  MissingConsumerResourceError,
} from "../../packages/courier/src/deployment/consumer-environment.ts";
import { needsOf, secretArnEnv, topologyProblems } from "../../packages/courier/src/deployment/consumer-needs.ts";
import { settingsProblems } from "../../src/app/deployment/deploy-settings.ts";
import { type ConsumerSpec, consumers, courierTopology } from "../../src/topology.ts";

const settings = {
  mailFrom: "Courier <no-reply@courier.example>",
  verifyUrlBase: "https://app.example/verify",
  teamWebhookUrl: "https://hooks.example/T0/B0",
};
const resources: ConsumerResources = {
  queueUrl: "https://sqs/1/q",
  dlqUrl: "https://sqs/1/q-dlq",
  secretArns: { verification: "arn:verification" },
  uploadsBucket: "uploads",
  idempotencyTable: "idempotency",
};
const entry = (needs: ConsumerSpec<string>["needs"]): ConsumerSpec<string> => ({
  ...consumers["team-notify"],
  name: "ledger",
  needs,
});

describe("consumerEnvironment", () => {
  it("GIVEN an entry with no needs WHEN derived THEN it gets its queues and names only, not the shared resources", () => {
    expect(consumerEnvironment(entry(undefined), resources, settings)).toEqual({
      COURIER_CONSUMER: "ledger",
      COURIER_QUEUE_URL: "https://sqs/1/q",
      COURIER_DLQ_URL: "https://sqs/1/q-dlq",
      POWERTOOLS_SERVICE_NAME: "ledger",
      POWERTOOLS_METRICS_NAMESPACE: "courier",
    });
  });

  it("GIVEN a needed secret whose ARN is not given WHEN derived THEN it throws naming the consumer and the secret", () => {
    expect(() => consumerEnvironment(entry({ secrets: ["ledger-key"] }), resources, settings)).toThrow(
      MissingConsumerResourceError,
    );
    expect(() => consumerEnvironment(entry({ secrets: ["ledger-key"] }), resources, settings)).toThrow(
      /ledger needs secret "ledger-key"/,
    );
  });

  it("GIVEN a needed upload prefix but no bucket name WHEN derived THEN it throws naming the bucket", () => {
    const { uploadsBucket: _, ...withoutBucket } = resources;
    expect(() =>
      consumerEnvironment(entry({ uploads: { write: ["ledger/"] } }), withoutBucket, settings),
    ).toThrow(/ledger needs the uploads bucket/);
  });

  it("GIVEN a setting given as a secret WHEN derived THEN the function gets the secret's ARN and never the URL", () => {
    const secretArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:hook-AbC123";
    const env = consumerEnvironment(entry({ settings: ["teamWebhookUrl"] }), resources, {
      ...settings,
      teamWebhookSecretArn: secretArn,
    });
    expect(env[ENV.teamWebhookSecretArn]).toBe(secretArn);
    expect(env).not.toHaveProperty(ENV.teamWebhookUrl);
  });

  it("GIVEN the idempotency need and no table deployed (LocalStack) WHEN derived THEN the variable is left out, not empty", () => {
    const { idempotencyTable: _, ...withoutTable } = resources;
    const env = consumerEnvironment(entry({ idempotencyTable: true }), withoutTable, settings);
    expect(env).not.toHaveProperty(ENV.idempotencyTable);
  });

  it("GIVEN a consumer name of courier's topology WHEN derived THEN it is its entry's environment", () => {
    expect(consumerEnvironment("verification-sms", resources, settings)).toEqual(
      consumerEnvironment(consumers["verification-sms"], resources, settings),
    );
  });
});

describe("secretArnEnv", () => {
  it("GIVEN secret names WHEN turned into variables THEN they are constant case, and verification's is the one the handlers read", () => {
    expect(secretArnEnv("audit-signing")).toBe("AUDIT_SIGNING_SECRET_ARN");
    expect(secretArnEnv("verification")).toBe(ENV.verificationSecretArn);
  });
});

describe("needsOf", () => {
  it("GIVEN an entry without needs WHEN resolved THEN every need is empty or false", () => {
    expect(needsOf({})).toEqual({
      settings: [],
      secrets: [],
      idempotencyTable: false,
      uploads: { read: [], write: [] },
      sendsEmail: false,
      sendsSms: false,
      nativeModules: [],
      appendsAuditTrail: false,
    });
  });
});

describe("courier's own topology and settings", () => {
  it("GIVEN courierTopology WHEN checked as the stack checks it THEN there is no problem", () => {
    expect(topologyProblems(courierTopology)).toEqual([]);
  });

  it("GIVEN a native module that is not a package name WHEN checked THEN the problem names it", () => {
    const topology = {
      ...courierTopology,
      consumers: { ...courierTopology.consumers, ledger: entry({ nativeModules: ["sharp; rm -rf /"] }) },
    };
    expect(topologyProblems(topology)).toEqual([
      'consumer "ledger" needs native module "sharp; rm -rf /", which is not an npm package name',
    ]);
  });

  it("GIVEN well-formed settings WHEN checked THEN there is no problem", () => {
    expect(settingsProblems(settings)).toEqual([]);
  });
});
