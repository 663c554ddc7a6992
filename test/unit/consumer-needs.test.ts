/**
 * A consumer's environment derived from its topology entry's generic needs, as the Courier
 * construct builds it. Failure modes covered: a needed address silently missing (an empty variable
 * the handler trips on at first message instead of a clear error at synth); a consumer receiving
 * resources it does not need; a team's variable overriding courier's own; courier's own topology
 * failing the checks the construct applies.
 */
import { describe, expect, it } from "vitest";
import {
  type ConsumerResources,
  consumerEnvironment,
  MissingConsumerResourceError,
} from "../../packages/courier/src/deployment/consumer-environment.ts";
import { needsOf, secretArnEnv } from "../../packages/courier/src/deployment/consumer-needs.ts";
import type { ConsumerSpec } from "../../packages/courier/src/topology/topology.ts";
import { topologyProblems } from "../../packages/courier/src/topology/topology-problems.ts";
import { settingsProblems } from "../../src/app/deployment/deploy-settings.ts";
import { consumers, courierTopology } from "../../src/topology.ts";

const resources: ConsumerResources = {
  queueUrl: "https://sqs/1/q",
  dlqUrl: "https://sqs/1/q-dlq",
  secretArns: { verification: "arn:verification" },
  idempotencyTable: "idempotency",
};
const entry = (needs: ConsumerSpec<string>["needs"]): ConsumerSpec<string> => ({
  ...consumers["team-notify"],
  name: "ledger",
  needs,
});

describe("consumerEnvironment", () => {
  it("GIVEN an entry with no needs WHEN derived THEN it gets its queues and names only, not the shared resources", () => {
    expect(consumerEnvironment(entry(undefined), resources)).toEqual({
      COURIER_CONSUMER: "ledger",
      COURIER_QUEUE_URL: "https://sqs/1/q",
      COURIER_DLQ_URL: "https://sqs/1/q-dlq",
      POWERTOOLS_SERVICE_NAME: "ledger",
      POWERTOOLS_METRICS_NAMESPACE: "courier",
    });
  });

  it("GIVEN a needed secret whose ARN is not given WHEN derived THEN it throws naming the consumer and the secret", () => {
    expect(() => consumerEnvironment(entry({ secrets: ["ledger-key"] }), resources)).toThrow(
      MissingConsumerResourceError,
    );
    expect(() => consumerEnvironment(entry({ secrets: ["ledger-key"] }), resources)).toThrow(
      /ledger needs secret "ledger-key"/,
    );
  });

  it("GIVEN needs for a secret, the table and variables of the team's WHEN derived THEN each is there, and the team's cannot replace courier's", () => {
    const env = consumerEnvironment(
      entry({
        secrets: ["verification"],
        idempotencyTable: true,
        environment: { LEDGER_DB: "main", COURIER_QUEUE_URL: "elsewhere" },
      }),
      { ...resources, metricsNamespace: "acme" },
    );
    expect(env).toMatchObject({
      VERIFICATION_SECRET_ARN: "arn:verification",
      IDEMPOTENCY_TABLE: "idempotency",
      LEDGER_DB: "main",
      COURIER_QUEUE_URL: "https://sqs/1/q",
      POWERTOOLS_METRICS_NAMESPACE: "acme",
    });
  });

  it("GIVEN the idempotency need and no table deployed WHEN derived THEN the variable is left out, not empty", () => {
    const { idempotencyTable: _, ...withoutTable } = resources;
    expect(consumerEnvironment(entry({ idempotencyTable: true }), withoutTable)).not.toHaveProperty(
      "IDEMPOTENCY_TABLE",
    );
  });

  it("GIVEN payload locations WHEN derived THEN they are one JSON variable, and none without locations", () => {
    const env = consumerEnvironment(entry(undefined), {
      ...resources,
      payloadLocations: [
        { bucket: "payloads", prefix: "orders/" },
        { bucket: "extended-client", prefix: "" },
      ],
    });
    expect(JSON.parse(env.COURIER_PAYLOAD_LOCATIONS ?? "null")).toEqual([
      { bucket: "payloads", prefix: "orders/" },
      { bucket: "extended-client", prefix: "" },
    ]);
    expect(consumerEnvironment(entry(undefined), { ...resources, payloadLocations: [] })).not.toHaveProperty(
      "COURIER_PAYLOAD_LOCATIONS",
    );
  });
});

describe("secretArnEnv", () => {
  it("GIVEN secret names WHEN turned into variables THEN they are constant case, and verification's is the one the handlers read", () => {
    expect(secretArnEnv("verification")).toBe("VERIFICATION_SECRET_ARN");
    expect(secretArnEnv("audit-signing")).toBe("AUDIT_SIGNING_SECRET_ARN");
  });
});

describe("needsOf", () => {
  it("GIVEN an entry without needs WHEN resolved THEN every need is empty or false", () => {
    expect(needsOf(entry(undefined))).toEqual({
      secrets: [],
      idempotencyTable: false,
      nodeModules: [],
      environment: {},
    });
  });
});

describe("courier's own topology and settings", () => {
  it("GIVEN courierTopology WHEN checked as the construct checks it THEN there is no problem", () => {
    expect(topologyProblems(courierTopology)).toEqual([]);
  });

  it("GIVEN a node module that is not a package name WHEN checked THEN the problem names it", () => {
    const bad = {
      ...courierTopology,
      consumers: {
        ...courierTopology.consumers,
        thumbnails: { ...consumers.thumbnails, needs: { nodeModules: ["Not A Package"] } },
      },
    };
    expect(topologyProblems(bad)).toEqual([
      'consumer "thumbnails" needs node module "Not A Package", which is not an npm package name',
    ]);
  });

  it("GIVEN well-formed settings WHEN checked THEN there is no problem", () => {
    expect(
      settingsProblems({
        mailFrom: "Courier <no-reply@courier.example>",
        verifyUrlBase: "https://app.example/verify",
        teamWebhookUrl: "https://hooks.example/T0/B0",
      }),
    ).toEqual([]);
  });
});
