import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  localTarget,
  resolveTarget,
  targetEnvironment,
} from "../../packages/courier/src/deployment/aws-target.ts";
import {
  type DeployedTopology,
  topologyFromOutputs,
  UnknownConsumerError,
} from "../../packages/courier/src/deployment/deployed-topology.ts";
import { workerPlans } from "../../packages/courier/src/worker/start.ts";
import {
  HandlerModuleNotFoundError,
  resolveHandlerModule,
  WORKER_CONCURRENCY_ENV,
  WORKER_HANDLER_ENV,
  WORKER_SETTINGS_ENV,
  WORKER_WAIT_SECONDS_ENV,
  waitSecondsFromEnvironment,
  workerEnvironment,
  workerSettingsFromEnvironment,
} from "../../packages/courier/src/worker/worker-environment.ts";
import { manifestOutputs } from "./manifest-fixtures.ts";

// A team's stack courier never saw: its consumers, settings and function environments.
function ordersTopology(): DeployedTopology {
  return topologyFromOutputs(
    "acme-orders",
    manifestOutputs("acme-orders", {
      topics: [{ name: "orders" }],
      consumers: [
        {
          name: "invoice",
          topic: "orders",
          handlerEntry: "src/invoice/handler.ts",
          batchSize: 4,
          maxConcurrency: 3,
          timeoutSeconds: 20,
          environment: {
            COURIER_CONSUMER: "invoice",
            INVOICE_BUCKET: "acme-invoices",
            IDEMPOTENCY_TABLE: "",
          },
        },
        { name: "ledger", topic: "orders", handlerEntry: "src/ledger/handler.ts" },
      ],
    }),
  );
}

const invoice = () =>
  ordersTopology().consumers.invoice as NonNullable<DeployedTopology["consumers"][string]>;
const aws = { env: {}, isolated: false };
const baseEnv = { PATH: "/usr/bin", AWS_PROFILE: "prod", AWS_REGION: "eu-west-1" };
const handlerModule = "/app/src/invoice/handler.ts";

describe("workerEnvironment", () => {
  it("GIVEN an AWS target with a profile and region WHEN built THEN the workers use that profile and region", () => {
    const env = workerEnvironment({
      consumer: invoice(),
      handlerModule,
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
      consumer: invoice(),
      handlerModule,
      target: { env: targetEnvironment(localTarget({})), isolated: true },
      baseEnv,
    });
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL: "http://127.0.0.1:4566",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
    });
    expect(env.AWS_PROFILE).toBeUndefined();
  });

  it("GIVEN a consumer of a topic with tenants WHEN built THEN its workers serve tenants fairly, and on LocalStack put dwell metrics to CloudWatch (no EMF extraction there)", () => {
    const consumer = { ...invoice(), tenant: "accountId" };
    const local = workerEnvironment({
      consumer,
      handlerModule,
      target: { env: targetEnvironment(localTarget({})), isolated: true },
      baseEnv,
    });
    expect(workerSettingsFromEnvironment(local).fairTenants).toBe(true);
    expect(local.COURIER_TENANT_METRICS).toBe("put-metric-data");
    const onAws = workerEnvironment({ consumer, handlerModule, target: aws, baseEnv });
    expect(onAws).not.toHaveProperty("COURIER_TENANT_METRICS");
    const plain = workerEnvironment({ consumer: invoice(), handlerModule, target: aws, baseEnv });
    expect(workerSettingsFromEnvironment(plain)).not.toHaveProperty("fairTenants");
  });

  it("GIVEN a consumer of a team's stack WHEN built THEN it carries the function's environment as deployed, its queue and DLQ, and its handler module", () => {
    const consumer = invoice();
    const env = workerEnvironment({ consumer, handlerModule, target: aws, baseEnv });
    expect(env).toMatchObject({
      INVOICE_BUCKET: "acme-invoices",
      COURIER_CONSUMER: "invoice",
      COURIER_QUEUE_URL: consumer.queueUrl,
      COURIER_DLQ_URL: consumer.dlqUrl,
      [WORKER_HANDLER_ENV]: handlerModule,
    });
    // An address the deployment left empty (a table not deployed here) is absent, not "".
    expect(env).not.toHaveProperty("IDEMPOTENCY_TABLE");
  });

  it("GIVEN a consumer's deployed settings WHEN built THEN the worker process reads the same batch size, concurrency and timeout back", () => {
    const env = workerEnvironment({ consumer: invoice(), handlerModule, target: aws, baseEnv });
    expect(workerSettingsFromEnvironment(env)).toMatchObject({
      batchSize: 4,
      maxConcurrency: 3,
      timeoutSeconds: 20,
      maxBatchingWindowSeconds: 1,
    });
  });

  it("GIVEN the AWS target WHEN built THEN nothing AWS-related is overridden, so the SDK's default chain applies", () => {
    const env = workerEnvironment({ consumer: invoice(), handlerModule, target: aws, baseEnv });
    expect(env).toMatchObject({ AWS_PROFILE: "prod", AWS_REGION: "eu-west-1", PATH: "/usr/bin" });
    expect(env.AWS_ENDPOINT_URL).toBeUndefined();
  });

  it("GIVEN overrides for this run WHEN built THEN they replace the deployed values", () => {
    const env = workerEnvironment({
      consumer: invoice(),
      handlerModule,
      target: aws,
      baseEnv,
      environment: { INVOICE_BUCKET: "local-invoices" },
    });
    expect(env.INVOICE_BUCKET).toBe("local-invoices");
  });

  it("GIVEN the operator's environment sets a deployed variable WHEN built THEN the operator's value wins, and an empty one unsets it", () => {
    const env = workerEnvironment({
      consumer: invoice(),
      handlerModule,
      target: aws,
      baseEnv: { ...baseEnv, INVOICE_BUCKET: "staging-invoices", COURIER_CONSUMER: "someone-else" },
    });
    expect(env.INVOICE_BUCKET).toBe("staging-invoices");
    // Which consumer the worker is cannot be overridden by a stray variable.
    expect(env.COURIER_CONSUMER).toBe("invoice");
    const unset = workerEnvironment({
      consumer: invoice(),
      handlerModule,
      target: aws,
      baseEnv: { INVOICE_BUCKET: "" },
    });
    expect(unset).not.toHaveProperty("INVOICE_BUCKET");
  });

  it("GIVEN a concurrency override WHEN built THEN the worker process receives it", () => {
    const env = workerEnvironment({
      consumer: invoice(),
      handlerModule,
      target: aws,
      baseEnv,
      concurrency: 7,
    });
    expect(env[WORKER_CONCURRENCY_ENV]).toBe("7");
  });

  it("GIVEN a long-poll wait for a short grace period WHEN built THEN the worker process receives it", () => {
    const env = workerEnvironment({
      consumer: invoice(),
      handlerModule,
      target: aws,
      baseEnv,
      waitTimeSeconds: 5,
    });
    expect(env[WORKER_WAIT_SECONDS_ENV]).toBe("5");
    expect(waitSecondsFromEnvironment(env)).toBe(5);
  });

  it("GIVEN a long-poll wait SQS refuses WHEN built or read THEN a setting error names it", () => {
    expect(() =>
      workerEnvironment({ consumer: invoice(), handlerModule, target: aws, baseEnv, waitTimeSeconds: 21 }),
    ).toThrow(/waitTimeSeconds must be a whole number of seconds from 0 to 20/);
    expect(() => waitSecondsFromEnvironment({ [WORKER_WAIT_SECONDS_ENV]: "soon" })).toThrow(
      WORKER_WAIT_SECONDS_ENV,
    );
  });

  it("GIVEN a worker started without its settings WHEN read THEN the error names the variable", () => {
    expect(() => workerSettingsFromEnvironment({})).toThrow(WORKER_SETTINGS_ENV);
  });
});

describe("resolveHandlerModule", () => {
  const root = mkdtempSync(join(tmpdir(), "courier-handlers-"));
  mkdirSync(join(root, "src", "invoice"), { recursive: true });
  mkdirSync(join(root, "dist", "src", "ledger"), { recursive: true });
  writeFileSync(join(root, "src", "invoice", "handler.ts"), "export const handler = async () => {};\n");
  writeFileSync(
    join(root, "dist", "src", "ledger", "handler.js"),
    "export const handler = async () => {};\n",
  );
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("GIVEN the TypeScript entry exists WHEN resolved THEN it is imported as it is", () => {
    expect(resolveHandlerModule(root, "src/invoice/handler.ts")).toBe(
      join(root, "src", "invoice", "handler.ts"),
    );
  });

  it("GIVEN a project root pointed at a build's output WHEN resolved THEN the compiled .js beside the entry is used", () => {
    expect(resolveHandlerModule(join(root, "dist"), "src/ledger/handler.ts")).toBe(
      join(root, "dist", "src", "ledger", "handler.js"),
    );
  });

  it("GIVEN neither exists WHEN resolved THEN the error names the entry and the project root to pass", () => {
    expect(() => resolveHandlerModule(root, "src/missing/handler.ts")).toThrow(HandlerModuleNotFoundError);
    expect(() => resolveHandlerModule(root, "src/missing/handler.ts")).toThrow(/--project-root/);
  });
});

describe("workerPlans", () => {
  const root = mkdtempSync(join(tmpdir(), "courier-plans-"));
  for (const name of ["invoice", "ledger"]) {
    mkdirSync(join(root, "src", name), { recursive: true });
    writeFileSync(join(root, "src", name, "handler.ts"), "export const handler = async () => {};\n");
  }
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("GIVEN no consumer named WHEN planned THEN every consumer of the stack gets a worker", () => {
    const plans = workerPlans({ topology: ordersTopology(), projectRoot: root, baseEnv: {} });
    expect(plans.map((p) => p.consumer)).toEqual(["invoice", "ledger"]);
    expect(plans[1]?.env[WORKER_HANDLER_ENV]).toBe(join(root, "src", "ledger", "handler.ts"));
  });

  it("GIVEN a consumer the stack lacks WHEN planned THEN the error lists the stack's consumers", () => {
    expect(() =>
      workerPlans({ topology: ordersTopology(), consumers: ["verification-email"], projectRoot: root }),
    ).toThrow(UnknownConsumerError);
  });

  it("GIVEN LocalStack without a DynamoDB-API server WHEN planned THEN workers run without the stack's idempotency table; with one, they keep it", () => {
    const withTable = topologyFromOutputs(
      "acme-orders",
      manifestOutputs("acme-orders", {
        topics: [{ name: "orders" }],
        consumers: [
          {
            name: "invoice",
            topic: "orders",
            handlerEntry: "src/invoice/handler.ts",
            environment: { IDEMPOTENCY_TABLE: "acme-idem" },
          },
        ],
        manifest: { idempotencyTable: "acme-idem" },
      }),
    );
    const local = { env: targetEnvironment(localTarget({})), isolated: true };
    const [without] = workerPlans({ topology: withTable, projectRoot: root, target: local, baseEnv: {} });
    expect(without?.env).not.toHaveProperty("IDEMPOTENCY_TABLE");
    const [kept] = workerPlans({
      topology: withTable,
      projectRoot: root,
      target: local,
      baseEnv: { AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:8000" },
    });
    expect(kept?.env.IDEMPOTENCY_TABLE).toBe("acme-idem");
  });

  it("GIVEN per-consumer overrides WHEN planned THEN each consumer gets only its own", () => {
    const plans = workerPlans({
      topology: ordersTopology(),
      projectRoot: root,
      baseEnv: {},
      environment: (consumer) => (consumer === "ledger" ? { LEDGER_URL: "http://127.0.0.1:9" } : undefined),
    });
    expect(plans[0]?.env.LEDGER_URL).toBeUndefined();
    expect(plans[1]?.env.LEDGER_URL).toBe("http://127.0.0.1:9");
  });
});
