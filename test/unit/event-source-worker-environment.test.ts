import { describe, expect, it } from "vitest";
import { localTarget, resolveTarget, targetEnvironment } from "../../packages/courier/src/deployment/aws-target.ts";
import { type DeployedTopology, topologyFromOutputs } from "../../packages/courier/src/deployment/deployed-topology.ts";
import { LOCAL_WORKER_DEFAULTS } from "../../src/app/deployment/local-run.ts";
import {
  consumerOutputKey,
  PAYLOAD_BUCKET_OUTPUT,
  topicOutputKey,
  UPLOADS_BUCKET_OUTPUT,
  VERIFICATION_SECRET_OUTPUT,
} from "../../packages/courier/src/deployment/stack-outputs.ts";
import { consumerNames, topicNames } from "../../src/topology.ts";
import {
  settingsFromEnvironment,
  WORKER_CONCURRENCY_ENV,
  WORKER_WAIT_SECONDS_ENV,
  WorkerSettingError,
  waitSecondsFromEnvironment,
  workerEnvironment,
} from "../../packages/courier/src/worker/worker-environment.ts";

function fakeTopology(): DeployedTopology {
  const outputs: Record<string, string> = {
    [UPLOADS_BUCKET_OUTPUT]: "uploads-bucket",
    [PAYLOAD_BUCKET_OUTPUT]: "payload-bucket",
    [VERIFICATION_SECRET_OUTPUT]: "arn:aws:secretsmanager:us-east-1:1:secret:key",
  };
  for (const t of topicNames) outputs[topicOutputKey(t, "TopicArn")] = `arn:aws:sns:us-east-1:1:${t}`;
  for (const c of consumerNames) {
    outputs[consumerOutputKey(c, "QueueUrl")] = `https://sqs/1/${c}`;
    outputs[consumerOutputKey(c, "QueueArn")] = `arn:aws:sqs:us-east-1:1:${c}`;
    outputs[consumerOutputKey(c, "DlqUrl")] = `https://sqs/1/${c}-dlq`;
    outputs[consumerOutputKey(c, "DlqArn")] = `arn:aws:sqs:us-east-1:1:${c}-dlq`;
  }
  return topologyFromOutputs("courier", outputs);
}

const localDefaults = {
  mailFrom: "courier@example.com",
  verifyUrlBase: "http://127.0.0.1:3000/verify",
  teamWebhookUrl: "http://127.0.0.1:3000/team-webhook",
};
const local = { env: targetEnvironment(localTarget({})), isolated: true };
const aws = { env: {}, isolated: false };
const baseEnv = { PATH: "/usr/bin", AWS_PROFILE: "prod", AWS_REGION: "eu-west-1" };

describe("workerEnvironment", () => {
  it("GIVEN an AWS target with a profile and region WHEN built THEN the workers use that profile and region", () => {
    const env = workerEnvironment({
      consumer: "verification-sms",
      topology: fakeTopology(),
      settings: settingsFromEnvironment({}),
      target: {
        env: targetEnvironment(resolveTarget({ profile: "ops", region: "eu-central-1" }, {})),
        isolated: false,
      },
      baseEnv,
    });
    expect(env).toMatchObject({ AWS_PROFILE: "ops", AWS_REGION: "eu-central-1" });
    expect(env.AWS_ACCESS_KEY_ID).toBeUndefined();
  });

  it("GIVEN the local target WHEN built THEN handlers' SDK clients point at LocalStack with dummy credentials, not a real profile", () => {
    const env = workerEnvironment({
      consumer: "team-notify",
      topology: fakeTopology(),
      settings: settingsFromEnvironment({}, localDefaults),
      target: local,
      baseEnv,
    });
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL: "http://127.0.0.1:4566",
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      PATH: "/usr/bin",
    });
    expect(env.AWS_PROFILE).toBeUndefined();
  });

  it("GIVEN a consumer WHEN built THEN it carries its function's environment from consumerEnvironment()", () => {
    const env = workerEnvironment({
      consumer: "team-notify",
      topology: fakeTopology(),
      settings: settingsFromEnvironment({}, localDefaults),
      target: local,
      baseEnv,
    });
    expect(env).toMatchObject({
      COURIER_CONSUMER: "team-notify",
      COURIER_QUEUE_URL: "https://sqs/1/team-notify",
      COURIER_DLQ_URL: "https://sqs/1/team-notify-dlq",
      TEAM_WEBHOOK_URL: "http://127.0.0.1:3000/team-webhook",
      POWERTOOLS_SERVICE_NAME: "team-notify",
    });
  });

  it("GIVEN the AWS target WHEN built THEN nothing AWS-related is overridden, so the SDK's default chain applies", () => {
    const env = workerEnvironment({
      consumer: "verification-sms",
      topology: fakeTopology(),
      settings: settingsFromEnvironment({}),
      target: aws,
      baseEnv,
    });
    expect(env.AWS_ENDPOINT_URL).toBeUndefined();
    expect(env.AWS_ACCESS_KEY_ID).toBeUndefined();
    expect(env).toMatchObject({ AWS_PROFILE: "prod", AWS_REGION: "eu-west-1" });
  });

  it("GIVEN the AWS target without TEAM_WEBHOOK_URL WHEN team-notify is built THEN an error names the missing variable", () => {
    expect(() =>
      workerEnvironment({
        consumer: "team-notify",
        topology: fakeTopology(),
        settings: settingsFromEnvironment({}),
        target: aws,
        baseEnv,
      }),
    ).toThrow(WorkerSettingError);
    expect(() =>
      workerEnvironment({
        consumer: "team-notify",
        topology: fakeTopology(),
        settings: settingsFromEnvironment({}),
        target: aws,
        baseEnv,
      }),
    ).toThrow(/TEAM_WEBHOOK_URL/);
  });

  it("GIVEN a stack with a payload bucket WHEN workers are built THEN only the consumer of the offloading topic gets COURIER_PAYLOAD_BUCKET", () => {
    const build = (consumer: "account-export" | "thumbnails") =>
      workerEnvironment({
        consumer,
        topology: fakeTopology(),
        settings: settingsFromEnvironment({}, localDefaults),
        target: local,
        baseEnv,
      });
    expect(build("account-export").COURIER_PAYLOAD_BUCKET).toBe("payload-bucket");
    expect(build("account-export").UPLOADS_BUCKET).toBe("uploads-bucket");
    expect(build("thumbnails").COURIER_PAYLOAD_BUCKET).toBeUndefined();
  });

  it("GIVEN a local idempotency table WHEN workers are built THEN only consumers whose needs name the table receive it, as on Lambda", () => {
    const build = (consumer: "thumbnails" | "verification-email") =>
      workerEnvironment({
        consumer,
        topology: fakeTopology(),
        settings: settingsFromEnvironment({}, localDefaults),
        target: local,
        baseEnv,
        idempotencyTable: "local-idempotency",
      });
    expect(build("verification-email").IDEMPOTENCY_TABLE).toBe("local-idempotency");
    expect(build("verification-email").VERIFICATION_SECRET_ARN).toBe(
      "arn:aws:secretsmanager:us-east-1:1:secret:key",
    );
    expect(build("thumbnails")).not.toHaveProperty("IDEMPOTENCY_TABLE");
    expect(build("thumbnails").UPLOADS_BUCKET).toBe("uploads-bucket");
  });

  it("GIVEN a concurrency override WHEN built THEN the worker process receives it", () => {
    const env = workerEnvironment({
      consumer: "thumbnails",
      topology: fakeTopology(),
      settings: settingsFromEnvironment({}, localDefaults),
      target: local,
      baseEnv,
      concurrency: 7,
    });
    expect(env[WORKER_CONCURRENCY_ENV]).toBe("7");
  });

  it("GIVEN a long-poll wait for a short grace period WHEN built THEN the worker process receives it", () => {
    const env = workerEnvironment({
      consumer: "thumbnails",
      topology: fakeTopology(),
      settings: settingsFromEnvironment({}, localDefaults),
      target: local,
      baseEnv,
      waitTimeSeconds: 5,
    });
    expect(env[WORKER_WAIT_SECONDS_ENV]).toBe("5");
    expect(waitSecondsFromEnvironment(env)).toBe(5);
  });

  it("GIVEN a long-poll wait SQS refuses WHEN built or read THEN a setting error names it", () => {
    expect(() =>
      workerEnvironment({
        consumer: "thumbnails",
        topology: fakeTopology(),
        settings: settingsFromEnvironment({}, localDefaults),
        target: local,
        baseEnv,
        waitTimeSeconds: 25,
      }),
    ).toThrow(/waitTimeSeconds.*0 to 20/);
    expect(() => waitSecondsFromEnvironment({ [WORKER_WAIT_SECONDS_ENV]: "2.5" })).toThrow(
      /COURIER_WORKER_WAIT_SECONDS/,
    );
    expect(waitSecondsFromEnvironment({})).toBeUndefined();
  });
});

describe("settingsFromEnvironment", () => {
  it("GIVEN a setting in the environment WHEN read THEN it wins over the local default", () => {
    const settings = settingsFromEnvironment(
      { TEAM_WEBHOOK_URL: "https://hooks.example.com/x" },
      localDefaults,
    );
    expect(settings.teamWebhookUrl).toBe("https://hooks.example.com/x");
    expect(settings.mailFrom).toBe("courier@example.com");
  });

  it("GIVEN the local defaults and no webhook in the environment WHEN read THEN team-notify's webhook has no guessed value and its worker is refused naming both ways to set it (failure mode: half-configured consumer)", () => {
    const settings = settingsFromEnvironment({}, LOCAL_WORKER_DEFAULTS);
    expect(settings.mailFrom).toBe("courier@example.com");
    const build = () =>
      workerEnvironment({
        consumer: "team-notify",
        topology: fakeTopology(),
        settings,
        target: local,
        baseEnv,
      });
    expect(build).toThrow(WorkerSettingError);
    try {
      build();
    } catch (error) {
      expect((error as WorkerSettingError).consumer).toBe("team-notify");
      expect((error as WorkerSettingError).missing).toEqual([
        "TEAM_WEBHOOK_URL (or TEAM_WEBHOOK_SECRET_ARN)",
      ]);
    }
  });
});
