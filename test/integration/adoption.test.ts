/**
 * The adoption test (issue 22, item 6): courier as another team meets it. A small project of its
 * own (test/adoption/project: topic "orders", consumers "invoice" and "ledger", a CDK app with
 * cdk-nag) installs the packed tarball into a temporary folder, typechecks under a strict tsconfig,
 * bundles a handler, synthesizes, deploys to LocalStack, and is operated with the INSTALLED CLI
 * against its own stack name: publish, work, dlq peek, redrive, status.
 *
 * Nothing here imports the package's sources: the project sees only what the tarball ships. The
 * tests run in order and share the project (each phase needs the one before it). Each phase's time,
 * and the package's size figures, are printed for the issue's note.
 */
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { assetBundles, forbiddenInputs, packageOf } from "../adoption/bundle-inputs.ts";
import { describeFootprint, installFootprint } from "../adoption/install-footprint.ts";
import { describeRun, LongRunning, poll, type RunResult, run } from "../adoption/processes.ts";
import { testStackName } from "./support/deploy-test-stack-name.ts";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const PACKAGE_DIR = join(REPO, "packages/courier");
const PROJECT_TEMPLATE = join(REPO, "test/adoption/project");
const PACKAGE_NAME = "@courier-queue/courier";

// Generous: npm install, tsc over aws-cdk-lib's declarations and a bundling synth each take tens of
// seconds on a loaded two-core machine.
const PHASE_TIMEOUT_MS = 600_000;
const PROCESSING_TIMEOUT_MS = 180_000;

const endpoint = inject("localstackEndpoint");
const stackName = testStackName("adoption");
const timings = new Map<string, number>();
const facts: string[] = [];

function note(line: string): void {
  facts.push(line);
  console.log(`[adoption] ${line}`);
}

function timed(phase: string, seconds: number): void {
  timings.set(phase, (timings.get(phase) ?? 0) + seconds);
  console.log(`[adoption] ${phase}: ${seconds.toFixed(1)} s`);
}

async function timedPhase<T>(phase: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    timed(phase, (performance.now() - started) / 1000);
  }
}

/**
 * The environment of every child: this Node.js first on PATH, LocalStack through the standard
 * variables, and nothing of this repository's npm setup. `npm test` exports
 * NODE_OPTIONS=--conditions=courier-source (and npm_config_*), which would point the installed
 * package at sources the tarball does not have.
 */
function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === "NODE_OPTIONS" || key.toLowerCase().startsWith("npm_")) continue;
    if (key === "ACME_RECORDS_DIR" || key === "INIT_CWD") continue;
    env[key] = value;
  }
  return {
    ...env,
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`,
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    ...extra,
  };
}

function npm(args: readonly string[], cwd: string): Promise<RunResult> {
  return run("npm", args, { cwd, env: childEnv(), timeoutMs: PHASE_TIMEOUT_MS });
}

const INSTALL_ARGS = ["install", "--no-audit", "--no-fund", "--prefer-offline"];

interface PackResult {
  readonly filename: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly entryCount: number;
  readonly files: readonly { path: string }[];
}

let work: string;
let tarball: string;
let project: string;
let recordsDir: string;
let template: Record<string, unknown> | undefined;
let deployAttempted = false;
let deployed: { topics: Record<string, { arn: string }> } | undefined;
let worker: LongRunning | undefined;
const published: Record<"good" | "poison" | "sandbox", string | undefined> = {
  good: undefined,
  poison: undefined,
  sandbox: undefined,
};

/** The installed CLI, as a team runs it: node_modules/.bin/courier, against LocalStack and this stack. */
function courier(args: readonly string[], timeoutMs = 120_000): Promise<RunResult> {
  return run(join(project, "node_modules/.bin/courier"), [...args, "--local", "--stack", stackName], {
    cwd: project,
    env: childEnv(),
    timeoutMs,
  });
}

async function courierJson<T>(args: readonly string[]): Promise<T> {
  const result = await courier([...args, "--json"]);
  expect(result.code, describeRun(`courier ${args.join(" ")} --json`, result)).toBe(0);
  return JSON.parse(result.stdout) as T;
}

interface Recorded {
  readonly consumer: string;
  readonly eventId: string;
  readonly orderId: string;
  readonly receiveCount: number;
}

/** What a consumer's handler wrote down (src/records.ts in the project). */
function recorded(consumer: string): Recorded[] {
  const file = join(recordsDir, `${consumer}.jsonl`);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Recorded);
}

function recordedIds(consumer: string): string[] {
  return recorded(consumer).map((r) => r.eventId);
}

function workerState(): string {
  return `records: invoice ${JSON.stringify(recordedIds("invoice"))}, ledger ${JSON.stringify(recordedIds("ledger"))}\nworker output:\n${worker?.output() ?? "(not started)"}`;
}

function requireDefined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is missing: an earlier phase of this file failed`);
  return value;
}

describe("a team adopts courier from the packed tarball", () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "courier-adoption-"));
    recordsDir = join(work, "records");
    mkdirSync(recordsDir);

    // GIVEN the packed tarball (npm pack runs the package's build: tsc to dist/, console assets).
    const packDir = join(work, "pack");
    mkdirSync(packDir);
    const packed = await timedPhase("pack", () =>
      npm(["pack", "--json", "--pack-destination", packDir], PACKAGE_DIR),
    );
    expect(packed.code, describeRun("npm pack", packed)).toBe(0);
    const json = packed.stdout.slice(packed.stdout.search(/^\[/m));
    const [pack] = JSON.parse(json) as PackResult[];
    if (!pack) throw new Error(`npm pack printed no result:\n${packed.stdout}`);
    tarball = join(packDir, pack.filename);
    note(
      `tarball ${pack.filename}: ${(pack.size / 1024).toFixed(0)} KiB packed, ${(pack.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${pack.entryCount} files`,
    );

    // WHEN it is installed into a copy of the team's project.
    project = join(work, "acme-orders");
    cpSync(PROJECT_TEMPLATE, project, {
      recursive: true,
      // Only the project's own files, whatever a developer left in the template folder.
      filter: (source) =>
        !/[\\/](node_modules|cdk\.out|bundle|courier\.tgz|package-lock\.json)$/.test(source),
    });
    copyFileSync(tarball, join(project, "courier.tgz"));
    const installed = await timedPhase("install", () => npm(INSTALL_ARGS, project));
    expect(installed.code, describeRun("npm install (CDK project)", installed)).toBe(0);
    const footprint = installFootprint(project, PACKAGE_NAME);
    note(describeFootprint("CDK project, whole node_modules", footprint.total));
    note(describeFootprint(`CDK project, added by ${PACKAGE_NAME} alone`, footprint.addedBy));
  }, PHASE_TIMEOUT_MS);

  afterAll(async () => {
    const stopped = worker?.running ? await worker.stop() : undefined;
    if (stopped) console.log(`[adoption] worker stopped at the end: ${JSON.stringify(stopped)}`);
    if (deployAttempted && !inject("localstackEphemeral")) {
      const { deleteStackOnLocalStack } = await import("../../src/dev/deploy.ts");
      await deleteStackOnLocalStack(stackName, { endpoint }).catch((error: unknown) =>
        console.log(`[adoption] deleting ${stackName}: ${String(error)}`),
      );
    }
    const total = [...timings.values()].reduce((a, b) => a + b, 0);
    console.log(
      [
        `[adoption] phases: ${[...timings].map(([phase, s]) => `${phase} ${s.toFixed(1)} s`).join(", ")}; total ${total.toFixed(1)} s`,
        ...facts.map((f) => `[adoption] ${f}`),
      ].join("\n"),
    );
    if (work && !process.env.COURIER_KEEP_ADOPTION) rmSync(work, { recursive: true, force: true });
    else if (work) console.log(`[adoption] kept ${work}`);
  }, PHASE_TIMEOUT_MS);

  it(
    "typechecks the project under its strict tsconfigs (no skipLibCheck) against the installed declarations",
    async () => {
      // tsconfig.json: the topology, handlers and producer; tsconfig.cdk.json: the CDK app (see there).
      for (const config of ["tsconfig.json", "tsconfig.cdk.json"]) {
        const tsc = await timedPhase("tsc", () =>
          run(
            process.execPath,
            [join(project, "node_modules/typescript/bin/tsc"), "--noEmit", "-p", config],
            {
              cwd: project,
              env: childEnv(),
              timeoutMs: PHASE_TIMEOUT_MS,
            },
          ),
        );
        expect(tsc.code, describeRun(`tsc --noEmit -p ${config}`, tsc)).toBe(0);
      }
    },
    PHASE_TIMEOUT_MS,
  );

  it(
    "runs the project's own consumer tests with the installed test kit (node --test, no LocalStack)",
    async () => {
      const tested = await timedPhase("node --test", () =>
        run(process.execPath, ["--test", "--test-reporter=tap", "test/"], {
          cwd: project,
          env: childEnv(),
          timeoutMs: PHASE_TIMEOUT_MS,
        }),
      );
      expect(tested.code, describeRun("node --test test/", tested)).toBe(0);
      expect(tested.stdout).toMatch(/# pass 4\b/);
      expect(tested.stdout).toMatch(/# fail 0\b/);
    },
    PHASE_TIMEOUT_MS,
  );

  it(
    "bundles a handler as the construct does, with no CDK, no CLI and no example code in it",
    async () => {
      const esbuild = (await import(
        pathToFileURL(join(project, "node_modules/esbuild/lib/main.js")).href
      )) as typeof import("esbuild");
      const outfile = join(project, "bundle/invoice.mjs");
      // The construct's bundling options (packages/courier/src/cdk/bundled-function.ts), plus a metafile.
      const result = await timedPhase("bundle", () =>
        esbuild.build({
          absWorkingDir: project,
          entryPoints: [join(project, "src/handlers/invoice.ts")],
          outfile,
          bundle: true,
          platform: "node",
          format: "esm",
          target: "node24",
          minify: true,
          mainFields: ["module", "main"],
          // The Lambda Node.js runtime has the SDK v3; NodejsFunction leaves it out the same way.
          external: ["@aws-sdk/*"],
          metafile: true,
          write: false,
          logLevel: "silent",
        }),
      );
      const inputs = Object.keys(result.metafile.inputs);
      const output = result.metafile.outputs[relative(project, outfile)];
      if (!output) throw new Error(`no ${outfile} in the metafile: ${Object.keys(result.metafile.outputs)}`);
      const byInput = Object.entries(output.inputs).sort(([, a], [, b]) => b.bytesInOutput - a.bytesInOutput);
      const byPackage = new Map<string, number>();
      for (const [input, { bytesInOutput }] of byInput) {
        byPackage.set(packageOf(input), (byPackage.get(packageOf(input)) ?? 0) + bytesInOutput);
      }
      const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
      note(
        `invoice handler bundle (esbuild, minified, @aws-sdk/* external): ${kib(output.bytes)}, ${inputs.length} inputs; ` +
          `largest inputs: ${byInput
            .slice(0, 5)
            .map(([input, { bytesInOutput }]) => `${input} ${kib(bytesInOutput)}`)
            .join(", ")}; ` +
          `by package: ${[...byPackage]
            .sort(([, a], [, b]) => b - a)
            .slice(0, 5)
            .map(([name, bytes]) => `${name} ${kib(bytes)}`)
            .join(", ")}`,
      );

      expect(inputs, "the handler itself is bundled").toContain("src/handlers/invoice.ts");
      const fromCourier = inputs.filter((p) => p.includes(`node_modules/${PACKAGE_NAME}/`));
      expect(fromCourier.length, "courier's consumer runtime is bundled").toBeGreaterThan(0);
      expect(
        fromCourier.filter((p) => !p.includes(`node_modules/${PACKAGE_NAME}/dist/`)),
        "courier's part of the bundle is its compiled dist/",
      ).toEqual([]);
      expect(forbiddenInputs(inputs), "nothing in a handler bundle that a handler does not run").toEqual([]);
    },
    PHASE_TIMEOUT_MS,
  );

  it(
    "synthesizes its own stack with the Courier construct, cdk-nag's AwsSolutions pack clean",
    async () => {
      const outdir = join(project, "cdk.out");
      const synth = await timedPhase("synth", () =>
        run(process.execPath, ["bin/app.ts"], {
          cwd: project,
          env: childEnv({ CDK_OUTDIR: outdir, ACME_STACK_NAME: stackName, ACME_RECORDS_DIR: recordsDir }),
          timeoutMs: PHASE_TIMEOUT_MS,
        }),
      );
      // The app registers cdk-nag as a validation plugin: a finding fails the synthesis.
      expect(synth.code, describeRun("node bin/app.ts (synth)", synth)).toBe(0);
      const reportFile = join(outdir, "validation-report.json");
      expect(existsSync(reportFile), "the validation plugins ran and wrote their report").toBe(true);
      const report = JSON.parse(readFileSync(reportFile, "utf8")) as {
        pluginReports: { pluginName: string; violations: { ruleName: string; severity?: string }[] }[];
      };
      // A plugin that finds nothing is left out of the report.
      expect(
        report.pluginReports
          .filter((r) => r.pluginName === "AwsSolutions")
          .flatMap((r) => r.violations.map((v) => `${v.ruleName} (${v.severity})`)),
      ).toEqual([]);

      template = JSON.parse(readFileSync(join(outdir, `${stackName}.template.json`), "utf8")) as Record<
        string,
        unknown
      >;
      const resources = Object.values(template.Resources as Record<string, { Type: string }>);
      const count = (type: string) => resources.filter((r) => r.Type === type).length;
      note(
        `synthesized ${stackName}: ${resources.length} resources (${count("AWS::SQS::Queue")} queues, ${count("AWS::Lambda::Function")} functions, ${count("AWS::CloudWatch::Alarm")} alarms)`,
      );
      // Two consumer functions, the topic's archiver (archive on by default) and the redrive
      // function, each bundled by the construct from the tarball.
      expect(count("AWS::Lambda::Function")).toBe(4);
      const bundles = assetBundles(outdir);
      expect(bundles.length, "the construct bundled each function").toBe(4);
      for (const bundle of bundles) {
        const sources = bundle.sources ?? [];
        const handler =
          sources.find((s) => s.includes("src/handlers/")) ??
          (sources.some((s) => s.includes("archive-function/")) ? "the archiver" : "the redrive function");
        note(
          `construct's bundle of ${handler}: ${(bundle.bytes / 1024).toFixed(1)} KiB, ${bundle.sources ? `${sources.length} sources` : "no source map"}`,
        );
        expect(forbiddenInputs(sources), `the bundle of ${handler}`).toEqual([]);
      }
    },
    PHASE_TIMEOUT_MS,
  );

  it(
    "deploys the synthesized template to LocalStack under its own stack name",
    async () => {
      const synthesized = requireDefined(template, "the synthesized template");
      const { deployToLocalStack } = await import("../../src/dev/deploy.ts");
      deployAttempted = true;
      const deployment = await timedPhase("deploy", () =>
        deployToLocalStack({
          stackName,
          endpoint,
          template: synthesized as unknown as NonNullable<
            Parameters<typeof deployToLocalStack>[0]["template"]
          >,
        }),
      );
      expect(Object.keys(deployment.topology.consumers).sort()).toEqual(["invoice", "ledger"]);
      expect(Object.keys(deployment.topology.topics)).toEqual(["orders"]);
      deployed = deployment.topology as unknown as typeof deployed;
    },
    PHASE_TIMEOUT_MS,
  );

  it(
    "the installed CLI refuses a consumer the stack does not have, naming the stack's consumers",
    async () => {
      requireDefined(deployed, "the deployed stack");
      for (const args of [
        ["dlq", "peek", "shipping"],
        ["redrive", "shipping", "--dry-run"],
      ]) {
        const refused = await courier(args);
        const what = describeRun(`courier ${args.join(" ")}`, refused);
        expect(refused.code, what).not.toBe(0);
        expect(refused.stderr, what).toMatch(/unknown consumer "shipping"/);
        expect(refused.stderr, what).toMatch(/invoice/);
        expect(refused.stderr, what).toMatch(/ledger/);
        expect(refused.stderr, what).not.toMatch(/verification-email/);
      }
    },
    PHASE_TIMEOUT_MS,
  );

  it(
    "the installed CLI will not publish to a topic with filter attributes without the team's contract",
    async () => {
      requireDefined(deployed, "the deployed stack");
      // The stack carries the contract's type and version only: without --topology the message
      // would lack the "channel" attribute, and the ledger's filtered subscription would drop it.
      const refused = await courier(["publish", "orders", "@messages/good.json"]);
      const what = describeRun("courier publish orders @messages/good.json (no --topology)", refused);
      expect(refused.code, what).not.toBe(0);
      expect(refused.stderr, what).toMatch(/--topology/);
    },
    PHASE_TIMEOUT_MS,
  );

  it(
    "works both consumers: a good order reaches invoice and ledger, a poison order lands in invoice's DLQ with its reason",
    async () => {
      const topology = requireDefined(deployed, "the deployed stack");
      const started = performance.now();
      worker = new LongRunning(
        join(project, "node_modules/.bin/courier"),
        ["work", "invoice", "ledger", "--json", "--local", "--stack", stackName, "--project-root", project],
        { cwd: project, env: childEnv() },
      );
      const running = worker;
      await poll(
        "both workers to start polling",
        () => {
          if (!running.running) throw new Error(`courier work exited early:\n${running.output()}`);
          const startedConsumers = running
            .stdoutLines()
            .flatMap((line) => {
              try {
                return [JSON.parse(line) as { event?: string; consumer?: string }];
              } catch {
                return [];
              }
            })
            .filter((e) => e.event === "started")
            .map((e) => e.consumer);
          return startedConsumers.includes("invoice") && startedConsumers.includes("ledger")
            ? true
            : undefined;
        },
        { timeoutMs: PROCESSING_TIMEOUT_MS, describe: () => running.output() },
      );

      // The CLI publishes from a data file, validated against the team's own contract (the stack
      // carries only its type and version) and with its filter attributes, which the ledger's
      // subscription filters on.
      for (const kind of ["good", "poison"] as const) {
        const result = await courierJson<{ eventId: string; messageId: string }>([
          "publish",
          "orders",
          `@messages/${kind}.json`,
          "--topology",
          "src/topology.ts",
        ]);
        expect(result.eventId).toMatch(/^[0-9a-f-]{36}$/);
        published[kind] = result.eventId;
      }
      // The shop's own code publishes too: the library's typed publisher on plain Node.js.
      const topicArn = requireDefined(topology.topics.orders?.arn, "the orders topic's ARN");
      const placed = await run(
        process.execPath,
        ["bin/place-order.ts", readFileSync(join(project, "messages/sandbox.json"), "utf8")],
        { cwd: project, env: childEnv({ ORDERS_TOPIC_ARN: topicArn }), timeoutMs: 120_000 },
      );
      expect(placed.code, describeRun("node bin/place-order.ts", placed)).toBe(0);
      published.sandbox = (JSON.parse(placed.stdout) as { eventId: string }).eventId;
      const { good, poison, sandbox } = published as Record<keyof typeof published, string>;

      await poll(
        "the good order in invoice and ledger, the sandbox order in invoice, the poison order in ledger",
        () => {
          const invoice = recordedIds("invoice");
          const ledger = recordedIds("ledger");
          return invoice.includes(good) &&
            invoice.includes(sandbox) &&
            ledger.includes(good) &&
            ledger.includes(poison)
            ? true
            : undefined;
        },
        { timeoutMs: PROCESSING_TIMEOUT_MS, describe: workerState },
      );

      interface Peeked {
        messages: { eventId?: string; type?: string; reason: string }[];
      }
      const dead = await poll(
        "the poison order in invoice's DLQ",
        async () => {
          const peek = await courierJson<Peeked>(["dlq", "peek", "invoice"]);
          return peek.messages.find((m) => m.eventId === poison);
        },
        { timeoutMs: PROCESSING_TIMEOUT_MS, intervalMs: 2_000, describe: workerState },
      );
      expect(dead.type).toBe("OrderPlaced");
      expect(dead.reason).toMatch(/PermanentError/);
      expect(dead.reason).toMatch(/negative total \(-1999 cents\)/);
      expect(recordedIds("invoice"), "invoice never issued the poison order").not.toContain(poison);
      timed("run", (performance.now() - started) / 1000);
    },
    PHASE_TIMEOUT_MS,
  );

  it(
    "after the fix, the installed CLI's redrive moves the poison order back and invoice processes it",
    async () => {
      const running = requireDefined(worker, "the running worker");
      const poison = requireDefined(published.poison, "the poison order's eventId");
      const started = performance.now();
      // The fix: invoicing now takes negative totals (the handler reads this flag).
      writeFileSync(join(recordsDir, "refunds-accepted"), "");
      const redrive = await courier(["redrive", "invoice"], 180_000);
      expect(redrive.code, describeRun("courier redrive invoice", redrive)).toBe(0);
      console.log(`[adoption] courier redrive invoice:\n${redrive.stdout.trim()}`);

      const issued = await poll(
        "invoice to issue the redriven poison order",
        () => recorded("invoice").find((r) => r.eventId === poison),
        { timeoutMs: PROCESSING_TIMEOUT_MS, describe: workerState },
      );
      expect(issued.orderId).toBe("A-1002");
      expect(running.running, `the worker is still running:\n${running.output()}`).toBe(true);
      timed("run", (performance.now() - started) / 1000);
    },
    PHASE_TIMEOUT_MS,
  );

  it(
    "status shows both consumers with nothing queued or dead-lettered, and the sandbox order never reached the ledger",
    async () => {
      requireDefined(worker, "the running worker");
      const started = performance.now();
      interface Counts {
        visible: number;
        inFlight: number;
        delayed: number;
      }
      interface Status {
        consumers: { consumer: string; queue: Counts; dlq: Counts; subscriptionDlq?: Counts }[];
      }
      const depth = (c: Counts | undefined) => (c ? c.visible + c.inFlight + c.delayed : 0);
      const settled = await poll(
        "both consumers' queues, DLQs and subscription DLQs to be empty",
        async () => {
          const status = await courierJson<Status>(["status"]);
          const empty = status.consumers.every(
            (c) => depth(c.queue) + depth(c.dlq) + depth(c.subscriptionDlq) === 0,
          );
          return empty ? status : undefined;
        },
        {
          timeoutMs: PROCESSING_TIMEOUT_MS,
          intervalMs: 3_000,
          describe: async () => `${(await courier(["status"])).stdout}\n${workerState()}`,
        },
      );
      expect(settled.consumers.map((c) => c.consumer).sort()).toEqual(["invoice", "ledger"]);
      const sandbox = requireDefined(published.sandbox, "the sandbox order's eventId");
      expect(recordedIds("invoice")).toContain(sandbox);
      expect(recordedIds("ledger"), "the ledger's filter policy keeps sandbox orders out").not.toContain(
        sandbox,
      );

      const human = await courier(["status"]);
      expect(human.code, describeRun("courier status", human)).toBe(0);
      note(`installed CLI's \`courier status --local --stack ${stackName}\`:\n${human.stdout.trimEnd()}`);

      const stopped = await requireDefined(worker, "the running worker").stop();
      expect(stopped.code, `courier work stops cleanly on SIGINT:\n${worker?.output()}`).toBe(0);
      timed("run", (performance.now() - started) / 1000);
    },
    PHASE_TIMEOUT_MS,
  );

  it(
    "a producer-only project installs the tarball with zod and gets no CDK, and imports it on plain Node.js",
    async () => {
      const producer = join(work, "producer");
      mkdirSync(producer);
      copyFileSync(tarball, join(producer, "courier.tgz"));
      const zodVersion = (
        JSON.parse(readFileSync(join(project, "package.json"), "utf8")) as {
          dependencies: Record<string, string>;
        }
      ).dependencies.zod;
      writeFileSync(
        join(producer, "package.json"),
        JSON.stringify(
          {
            name: "acme-shop",
            private: true,
            type: "module",
            dependencies: { [PACKAGE_NAME]: "file:./courier.tgz", zod: zodVersion },
          },
          null,
          2,
        ),
      );
      const installed = await timedPhase("producer install", () => npm(INSTALL_ARGS, producer));
      expect(installed.code, describeRun("npm install (producer)", installed)).toBe(0);
      const footprint = installFootprint(producer, "zod");
      note(describeFootprint("producer-only project (tarball + zod), whole node_modules", footprint.total));
      for (const absent of ["aws-cdk-lib", "constructs", "cdk-nag", "esbuild", "typescript", "tsx"]) {
        expect(existsSync(join(producer, "node_modules", absent)), `${absent} is not installed`).toBe(false);
      }
      const imported = await run(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `const m = await import("${PACKAGE_NAME}"); console.log(typeof m.createPublisher, typeof m.defineTopology, typeof m.defineConsumer);`,
        ],
        { cwd: producer, env: childEnv(), timeoutMs: 120_000 },
      );
      expect(imported.code, describeRun("import on plain Node.js", imported)).toBe(0);
      expect(imported.stdout.trim()).toBe("function function function");
    },
    PHASE_TIMEOUT_MS,
  );
});
