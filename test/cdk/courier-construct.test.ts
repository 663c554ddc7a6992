/**
 * The Courier construct on a topology that is not courier's (a team's "orders" topic read by
 * "invoice" and "ledger"), in a plain stack of the team's, as the package's users put it. Failure
 * modes covered: a team's stack failing cdk-nag until it copies courier's acknowledgements; example
 * resources (uploads bucket, audit table, SES) coming with the construct; a table or bucket made for
 * a topology that needs neither; a manifest the tools cannot read or that misses variables the team
 * added; an escape hatch that is ignored; a runtime prop ignored or an old runtime accepted; a
 * bucket-root payload location (AWS's extended clients) not granted.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { App, Duration, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as sns from "aws-cdk-lib/aws-sns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Courier,
  type CourierProps,
  InvalidConstructPropsError,
  newestNodejsRuntime,
} from "../../packages/courier/src/cdk/index.ts";
import { topologyFromOutputs } from "../../packages/courier/src/deployment/deployed-topology.ts";
import type { TopologySpec } from "../../packages/courier/src/topology/topology.ts";
import {
  actionsOf,
  appWithoutBundling,
  type CfnTemplate,
  fakeOutputs,
  logicalId,
  nagFindings,
  type PolicyStatement,
  parseJoinedJson,
  policyStatements,
  props,
  ref,
  resourcesOf,
  resourcesOfType,
  roleStatements,
} from "./fixtures.ts";
import { ordersTopology } from "./handlers/orders-topology.ts";

const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

type Orders = Courier<"orders", "invoice" | "ledger">;

function build(
  app = appWithoutBundling(),
  extra: Partial<CourierProps<"orders", "invoice" | "ledger">> = {},
  topology: TopologySpec<"orders", "invoice" | "ledger"> = ordersTopology,
): { stack: Stack; courier: Orders } {
  const stack = new Stack(app, "acme-orders");
  const courier = new Courier(stack, "Orders", { topology, projectRoot: PROJECT_ROOT, ...extra });
  return { stack, courier };
}

function synth(...args: Parameters<typeof build>): { stack: Stack; courier: Orders; json: CfnTemplate } {
  const built = build(...args);
  return { ...built, json: Template.fromStack(built.stack).toJSON() as CfnTemplate };
}

const text = (value: unknown) => JSON.stringify(value);
const variablesOf = (json: CfnTemplate, fn: lambda.IFunction) =>
  (props(json, logicalId(fn)).Environment as { Variables: Record<string, unknown> }).Variables;
const roleIdOf = (fn: lambda.IFunction) => logicalId(fn.role as NonNullable<typeof fn.role>);

let orders: { stack: Stack; courier: Orders; json: CfnTemplate };
beforeAll(() => {
  orders = synth();
});

describe("GIVEN the orders topology in a plain stack of a team's", () => {
  it("WHEN synthesized under cdk-nag's AwsSolutions pack with no acknowledgement of the team's THEN nothing is reported", () => {
    const { findings } = nagFindings((app) => build(app).stack, false);
    expect(findings.map((f) => `${f.severity} ${f.rule} at ${f.path}`)).toEqual([]);
  });

  it("WHEN the team adds a wildcard grant of its own THEN the pack reports it (the checks run; only courier's findings are acknowledged)", () => {
    const { findings } = nagFindings((app) => {
      const { stack, courier } = build(app);
      courier
        .consumerFunction("ledger")
        .function.addToRolePolicy(
          new iam.PolicyStatement({ actions: ["s3:GetObject"], resources: ["arn:aws:s3:::acme-ledger/*"] }),
        );
      return stack;
    }, false);
    expect(findings.map((f) => f.rule)).toEqual(["AwsSolutions-IAM5[Resource::arn:aws:s3:::acme-ledger/*]"]);
  });

  it("WHEN synthesized THEN there are the orders topic and the alarm topic, three queues per consumer and per archive, and a function per consumer plus the archiver and redrive", () => {
    expect(resourcesOfType(orders.json, "AWS::SNS::Topic")).toHaveLength(2);
    // 2 consumers and the orders topic's archive (on by default), three queues each.
    expect(resourcesOfType(orders.json, "AWS::SQS::Queue")).toHaveLength(9);
    expect(resourcesOfType(orders.json, "AWS::Lambda::Function")).toHaveLength(4);
    expect(resourcesOfType(orders.json, "AWS::CloudWatch::Dashboard")).toHaveLength(1);
  });

  it("WHEN synthesized THEN nothing of courier's example comes with it: no uploads bucket, no audit table, no SES, no SMS", () => {
    // The buckets are the archive's and the payload bucket (orders offloads); the one table the idempotency table (invoice needs it).
    expect(
      resourcesOfType(orders.json, "AWS::S3::Bucket")
        .map(([id]) => id)
        .sort(),
    ).toEqual(
      [
        logicalId(orders.courier.archiveBucket?.bucket ?? orders.stack),
        logicalId(orders.courier.payloadBucket?.bucket ?? orders.stack),
      ].sort(),
    );
    expect(resourcesOfType(orders.json, "AWS::DynamoDB::Table").map(([id]) => id)).toEqual([
      logicalId(orders.courier.idempotencyTable ?? orders.stack),
    ]);
    const actions = resourcesOfType(orders.json, "AWS::IAM::Policy")
      .flatMap(([, p]) => policyStatements(p))
      .flatMap(actionsOf);
    expect(actions.filter((a) => a.startsWith("ses:") || a === "sns:Publish")).toEqual([]);
    const names = Object.keys(orders.json.Outputs ?? {}).sort();
    expect(names).toEqual([
      "CourierConsumerInvoice",
      "CourierConsumerLedger",
      "CourierManifest",
      "CourierTopicOrders",
    ]);
    const variables = Object.keys(
      variablesOf(orders.json, orders.courier.consumerFunction("invoice").function),
    );
    expect(variables.filter((v) => /UPLOADS|AUDIT|MAIL|SMS|WEBHOOK/.test(v))).toEqual([]);
  });

  it("WHEN invoice's function is read THEN its environment holds its generic needs: secret ARN, table, payload locations, its own variable", () => {
    const { courier, json } = orders;
    const variables = variablesOf(json, courier.consumerFunction("invoice").function);
    expect(variables).toMatchObject({
      COURIER_CONSUMER: "invoice",
      POWERTOOLS_SERVICE_NAME: "invoice",
      POWERTOOLS_METRICS_NAMESPACE: "courier",
      INVOICE_CURRENCY: "EUR",
      INVOICE_SIGNING_SECRET_ARN: ref(logicalId(courier.secret("invoice-signing"))),
      IDEMPOTENCY_TABLE: ref(logicalId(courier.idempotencyTable ?? courier)),
    });
    expect(parseJoinedJson(variables.COURIER_PAYLOAD_LOCATIONS)).toEqual([
      { bucket: ref(logicalId(courier.payloadBucket?.bucket ?? courier)), prefix: "orders/" },
    ]);
    const ledger = variablesOf(json, courier.consumerFunction("ledger").function);
    expect(ledger).not.toHaveProperty("IDEMPOTENCY_TABLE");
    expect(ledger).not.toHaveProperty("INVOICE_SIGNING_SECRET_ARN");
  });

  it("WHEN ledger's role is read THEN it may not read invoice's secret nor use the idempotency table", () => {
    const { courier, json } = orders;
    const statements = roleStatements(json, roleIdOf(courier.consumerFunction("ledger").function));
    const resources = statements.flatMap(resourcesOf).map(text);
    expect(resources.filter((r) => r.includes(logicalId(courier.secret("invoice-signing"))))).toEqual([]);
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith("dynamodb:"))).toEqual([]);
  });

  it("WHEN the manifest outputs are read back with deployed values THEN the tools see both consumers, the topic and the shared resources", () => {
    const deployed = topologyFromOutputs("acme-orders", fakeOutputs(orders.json));
    expect(Object.keys(deployed.consumers).sort()).toEqual(["invoice", "ledger"]);
    expect(deployed.topics.orders).toMatchObject({
      fifo: false,
      maxMessageBytes: 1_048_576,
      offloadLargePayloads: true,
      current: { type: "OrderPlaced", version: 1 },
      filterAttributeNames: ["type", "version", "region"],
    });
    expect(deployed.consumers.ledger).toMatchObject({
      topic: "orders",
      handlerEntry: "test/cdk/handlers/ledger.ts",
      filterPolicy: { region: ["eu"] },
      maxReceiveCount: 5,
    });
    expect(deployed.consumers.invoice?.environment).toMatchObject({
      INVOICE_CURRENCY: "EUR",
      COURIER_CONSUMER: "invoice",
    });
    expect(deployed.idempotencyTable).toBeDefined();
    expect(deployed.payloadBucket).toBeDefined();
    expect(deployed.secretArns["invoice-signing"]).toBeDefined();
    expect(deployed.manifest.redrive).toMatchObject({ maxRedrives: 3 });
    expect(deployed.manifest.metricsNamespace).toBe("courier");
  });

  it("WHEN the team adds a variable after the construct is built THEN the manifest carries it too", () => {
    const { stack, courier } = build();
    courier.consumerFunction("ledger").function.addEnvironment("LEDGER_DB", "ledger-main");
    const json = Template.fromStack(stack).toJSON() as CfnTemplate;
    const deployed = topologyFromOutputs("acme-orders", fakeOutputs(json));
    expect(deployed.consumers.ledger?.environment.LEDGER_DB).toBe("ledger-main");
    expect(deployed.consumers.ledger?.environment).not.toHaveProperty("NODE_OPTIONS");
  });

  it("WHEN a name is looked up that the topology lacks THEN the error lists the names", () => {
    expect(() => orders.courier.consumerFunction("shipping" as "ledger")).toThrow(
      /unknown consumer "shipping"; its consumers: invoice, ledger/,
    );
    expect(() => orders.courier.topic("payments" as "orders")).toThrow(
      /unknown topic "payments"; its topics: orders/,
    );
  });
});

describe("GIVEN a topology that needs neither a table nor payloads", () => {
  it("WHEN synthesized THEN there is no idempotency table, no payload bucket, and the manifest names neither", () => {
    const plain: TopologySpec<"orders", "invoice" | "ledger"> = {
      ...ordersTopology,
      topics: { orders: { ...ordersTopology.topics.orders, offloadLargePayloads: false, archive: false } },
      consumers: {
        ...ordersTopology.consumers,
        invoice: { ...ordersTopology.consumers.invoice, needs: { secrets: ["invoice-signing"] } },
      },
    };
    const { courier, json } = synth(appWithoutBundling(), {}, plain);
    expect(courier.idempotencyTable).toBeUndefined();
    expect(courier.payloadBucket).toBeUndefined();
    expect(resourcesOfType(json, "AWS::DynamoDB::Table")).toEqual([]);
    expect(resourcesOfType(json, "AWS::S3::Bucket")).toEqual([]);
    const manifest = parseJoinedJson(json.Outputs?.CourierManifest?.Value);
    expect(manifest).not.toHaveProperty("idempotencyTable");
    expect(manifest).not.toHaveProperty("payloadBucket");
  });
});

describe("GIVEN payload locations that include the root of a bucket AWS's extended clients write to", () => {
  const external = "acme-extended-client-payloads";
  const withRoot: TopologySpec<"orders", "invoice" | "ledger"> = {
    ...ordersTopology,
    topics: {
      orders: { ...ordersTopology.topics.orders, payloadLocations: [{ bucketName: external, prefix: "" }] },
    },
  };

  it("WHEN synthesized THEN each consumer may GetObject anywhere in that bucket and list it, and its environment names both locations", () => {
    const { courier, json } = synth(appWithoutBundling(), {}, withRoot);
    for (const name of ["invoice", "ledger"] as const) {
      const fn = courier.consumerFunction(name).function;
      const statements = roleStatements(json, roleIdOf(fn));
      const onExternal = statements.filter((s) => text(s.Resource).includes(external));
      const get = onExternal.find((s) => actionsOf(s).includes("s3:GetObject"));
      expect(text(get?.Resource)).toContain(`:s3:::${external}/*`);
      const list = onExternal.find((s) => actionsOf(s).includes("s3:ListBucket"));
      expect(list?.Condition).toBeUndefined();
      expect(actionsOf(list as PolicyStatement)).toEqual(["s3:ListBucket"]);
      expect(onExternal.flatMap(actionsOf).sort()).toEqual(["s3:GetObject", "s3:ListBucket"]);
      const locations = parseJoinedJson(variablesOf(json, fn).COURIER_PAYLOAD_LOCATIONS);
      expect(locations).toEqual([
        { bucket: ref(logicalId(courier.payloadBucket?.bucket ?? courier)), prefix: "orders/" },
        { bucket: external, prefix: "" },
      ]);
    }
  });

  it("WHEN synthesized under cdk-nag THEN the bucket-root grant is acknowledged by the construct, nothing is left", () => {
    const { findings } = nagFindings((app) => build(app, {}, withRoot).stack, false);
    expect(findings).toEqual([]);
  });

  it.each([
    [{ bucketName: "Not_A_Bucket" }, /payload location bucket "Not_A_Bucket" is not an S3 bucket name/],
    [{ prefix: "orders" }, /payload location prefix "orders" must be "" \(the whole bucket\) or end in "\/"/],
    [{ prefix: "orders/*" }, /payload location prefix "orders\/\*"/],
  ])("WHEN a location is %o THEN building throws naming it", (location, message) => {
    const bad = {
      ...withRoot,
      topics: { orders: { ...withRoot.topics.orders, payloadLocations: [location] } },
    };
    expect(() => build(appWithoutBundling(), {}, bad)).toThrow(message);
  });
});

describe("GIVEN the runtime", () => {
  it("WHEN none is given THEN every function runs the newest Node.js runtime the installed aws-cdk-lib knows", () => {
    const newest =
      (lambda.Runtime as unknown as { NODEJS_26_X?: lambda.Runtime }).NODEJS_26_X ??
      lambda.Runtime.NODEJS_24_X;
    expect(newestNodejsRuntime().name).toBe(newest.name);
    const runtimes = resourcesOfType(orders.json, "AWS::Lambda::Function").map(
      ([, f]) => f.Properties?.Runtime,
    );
    expect(new Set(runtimes)).toEqual(new Set([newest.name]));
    expect(orders.courier.runtime.name).toBe(newest.name);
  });

  it("WHEN nodejs24.x is given THEN every function, redrive too, runs it, on ARM64 unless told otherwise", () => {
    const { json } = synth(appWithoutBundling(), { runtime: lambda.Runtime.NODEJS_24_X });
    for (const [id, fn] of resourcesOfType(json, "AWS::Lambda::Function")) {
      expect(fn.Properties?.Runtime, id).toBe("nodejs24.x");
      expect(fn.Properties?.Architectures, id).toEqual(["arm64"]);
    }
    const x86 = synth(appWithoutBundling(), { architecture: lambda.Architecture.X86_64 }).json;
    for (const [id, fn] of resourcesOfType(x86, "AWS::Lambda::Function")) {
      expect(fn.Properties?.Architectures, id).toEqual(["x86_64"]);
    }
  });

  it.each([
    [lambda.Runtime.NODEJS_20_X, /runtime must be nodejs22\.x or newer, got nodejs20\.x/],
    [lambda.Runtime.PYTHON_3_13, /runtime must be a Node\.js runtime, got python3\.13/],
  ])("WHEN %s is given THEN building throws before anything is built", (runtime, message) => {
    const stack = new Stack(appWithoutBundling(), "acme-orders");
    let error: unknown;
    try {
      new Courier(stack, "Orders", { topology: ordersTopology, projectRoot: PROJECT_ROOT, runtime });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidConstructPropsError);
    expect(String(error)).toMatch(message);
    expect(String(error)).toMatch(/acme-orders\/Orders\/runtime/);
    expect(stack.node.children).toEqual([]);
  });
});

describe("GIVEN props that cannot be rendered", () => {
  const attempt =
    (extra: Partial<CourierProps<"orders", "invoice" | "ledger">>, topology = ordersTopology) =>
    () =>
      build(appWithoutBundling(), extra, topology);

  it.each([
    [
      "a consumer on a topic the topology does not declare",
      {},
      {
        ...ordersTopology,
        consumers: {
          ...ordersTopology.consumers,
          ledger: { ...ordersTopology.consumers.ledger, topic: "payments" },
        },
      },
      /acme-orders\/Orders\/topology: consumer "ledger" subscribes to topic "payments", which the topology does not declare \(topics: orders\)/,
    ],
    [
      "overrides for a consumer the topology lacks",
      { consumerOverrides: { shipping: {} } as never },
      ordersTopology,
      /consumerOverrides: "shipping" is not a consumer of the topology \(consumers: invoice, ledger\)/,
    ],
    [
      "a project root that does not exist",
      { projectRoot: "/no/such/project" },
      ordersTopology,
      /projectRoot: \/no\/such\/project does not exist/,
    ],
    [
      "a redrive limit of 0",
      { redrive: { maxRedrives: 0 } },
      ordersTopology,
      /redrive: maxRedrives must be a whole number of at least 1, got 0/,
    ],
    [
      "an AWS/ metrics namespace",
      { metricsNamespace: "AWS/SQS" },
      ordersTopology,
      /metricsNamespace: "AWS\/SQS" is not a CloudWatch namespace of your own/,
    ],
  ])(
    "WHEN given %s THEN building throws InvalidConstructPropsError naming it",
    (_case, extra, topology, message) => {
      const run = attempt(extra, topology as typeof ordersTopology);
      expect(run).toThrow(InvalidConstructPropsError);
      expect(run).toThrow(message);
    },
  );

  it("WHEN a second Courier is put in the same stack THEN it throws: the manifest outputs are one per stack", () => {
    const { stack } = build();
    expect(() => new Courier(stack, "More", { topology: ordersTopology, projectRoot: PROJECT_ROOT })).toThrow(
      /already holds a Courier construct/,
    );
  });
});

describe("GIVEN the escape hatch and the operations props", () => {
  it("WHEN invoice's queue, DLQ and function props are overridden THEN the template has them, and ledger's are untouched", () => {
    const { courier, json } = synth(appWithoutBundling(), {
      consumerOverrides: {
        invoice: {
          queueProps: { receiveMessageWaitTime: Duration.seconds(20) },
          deadLetterQueueProps: { deliveryDelay: Duration.seconds(5) },
          functionProps: { reservedConcurrentExecutions: 7, description: "Invoices, overridden" },
        },
      },
    });
    expect(props(json, logicalId(courier.consumerQueue("invoice").queue)).ReceiveMessageWaitTimeSeconds).toBe(
      20,
    );
    expect(props(json, logicalId(courier.consumerQueue("invoice").deadLetterQueue)).DelaySeconds).toBe(5);
    const invoice = props(json, logicalId(courier.consumerFunction("invoice").function));
    expect(invoice).toMatchObject({ ReservedConcurrentExecutions: 7, Description: "Invoices, overridden" });
    // What courier's wiring depends on stays courier's: encryption and the redrive policy.
    expect(props(json, logicalId(courier.consumerQueue("invoice").queue)).KmsMasterKeyId).toBeDefined();
    expect(props(json, logicalId(courier.consumerQueue("invoice").queue)).RedrivePolicy).toBeDefined();
    const ledger = props(json, logicalId(courier.consumerFunction("ledger").function));
    expect(ledger.ReservedConcurrentExecutions).toBeUndefined();
    expect(
      props(json, logicalId(courier.consumerQueue("ledger").queue)).ReceiveMessageWaitTimeSeconds,
    ).toBeUndefined();
  });

  it("WHEN an existing alarm topic and a metrics namespace are given THEN every alarm notifies that topic, no alarm topic is made, and functions and dashboard use the namespace", () => {
    const app = appWithoutBundling();
    const stack = new Stack(app, "acme-orders");
    const onCall = new sns.Topic(stack, "OnCall");
    const courier = new Courier(stack, "Orders", {
      topology: ordersTopology,
      projectRoot: PROJECT_ROOT,
      existingAlarmTopic: onCall,
      metricsNamespace: "acme/orders",
    });
    const json = Template.fromStack(stack).toJSON() as CfnTemplate;
    expect(resourcesOfType(json, "AWS::SNS::Topic")).toHaveLength(2); // orders and the team's on-call
    for (const [id, alarm] of resourcesOfType(json, "AWS::CloudWatch::Alarm")) {
      expect(alarm.Properties?.AlarmActions, id).toEqual([ref(logicalId(onCall))]);
      expect(alarm.Properties?.OKActions, id).toEqual([ref(logicalId(onCall))]);
    }
    expect(variablesOf(json, courier.consumerFunction("ledger").function).POWERTOOLS_METRICS_NAMESPACE).toBe(
      "acme/orders",
    );
    const [[, dashboard] = []] = resourcesOfType(json, "AWS::CloudWatch::Dashboard");
    expect(text(dashboard?.Properties?.DashboardBody)).toContain(
      '[\\"acme/orders\\",\\"Processed\\",\\"service\\",\\"ledger\\"',
    );
  });

  it("WHEN redrive settings are given THEN the redrive function has them and tells its limit", () => {
    const { courier, json } = synth(appWithoutBundling(), {
      redrive: { maxRedrives: 5, timeout: Duration.minutes(5), memorySize: 1024 },
    });
    const redrive = props(json, logicalId(courier.redrive.function));
    expect(redrive).toMatchObject({ Timeout: 300, MemorySize: 1024 });
    expect(
      (redrive.Environment as { Variables: Record<string, unknown> }).Variables.COURIER_MAX_REDRIVES,
    ).toBe("5");
    expect(topologyFromOutputs("acme-orders", fakeOutputs(json)).manifest.redrive.maxRedrives).toBe(5);
  });
});

describe("GIVEN the construct bundling for real with a bundling override", () => {
  let outdir: string;
  let assets: string[];
  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), "courier-construct-bundle-"));
    const app = new App({ outdir });
    const stack = new Stack(app, "acme-orders");
    new Courier(stack, "Orders", {
      topology: ordersTopology,
      projectRoot: PROJECT_ROOT,
      consumerOverrides: { ledger: { bundling: { minify: false } } },
    });
    const assembly = app.synth();
    assets = readdirSync(assembly.directory)
      .filter((d) => d.startsWith("asset."))
      .map((d) => join(assembly.directory, d));
  }, 120_000);

  afterAll(() => {
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it("THEN each consumer's handler (from the project root), courier's archiver and courier's redrive handler are bundled", () => {
    expect(assets).toHaveLength(4);
    for (const asset of assets) expect(existsSync(join(asset, "index.mjs"))).toBe(true);
    const sources = assets.map(
      (asset) =>
        (JSON.parse(readFileSync(join(asset, "index.mjs.map"), "utf8")) as { sources: string[] }).sources,
    );
    expect(sources.some((s) => s.some((f) => f.endsWith("test/cdk/handlers/ledger.ts")))).toBe(true);
    expect(sources.some((s) => s.some((f) => f.endsWith("test/cdk/handlers/invoice.ts")))).toBe(true);
    expect(sources.some((s) => s.some((f) => f.includes("redrive-function/handler")))).toBe(true);
    expect(sources.some((s) => s.some((f) => f.includes("archive-function/handler")))).toBe(true);
  });

  it("THEN the ledger bundle is unminified (its override) and the invoice bundle minified (courier's default)", () => {
    const bundleOf = (handler: string) => {
      const asset = assets.find((a) => readFileSync(join(a, "index.mjs.map"), "utf8").includes(handler));
      return readFileSync(join(asset as string, "index.mjs"), "utf8");
    };
    const ledger = bundleOf("handlers/ledger.ts");
    const invoice = bundleOf("handlers/invoice.ts");
    expect(ledger.split("\n").length).toBeGreaterThan(invoice.split("\n").length);
    expect(ledger).toContain("batchItemFailures: []");
  });
});
