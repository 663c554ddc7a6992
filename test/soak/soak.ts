/**
 * Soak with faults: publishes N sign-ups through the broadcast topology of a private stack copy on
 * LocalStack (publisher -> SNS account-signups -> the three sign-up queues) while worker processes
 * run the consumers with faults (soak-worker.ts) and are SIGKILLed and restarted at random. Then it
 * "fixes" the faults, redrives what the DLQs hold besides poison pills, and checks the outcome:
 * every sign-up processed by every consumer meant for it (SMS only for phones), every poison pill
 * in each DLQ with its reason, nothing lost, no side effect repeated.
 *
 *   npm run soak -- --messages 10000 --transient-rate 0.1 --timeout-rate 0.02 --kill-rate 0.1
 *
 * Exit code 0 when every check holds; the table goes to stdout. `runSoak` is also called by
 * test/integration/soak.test.ts at a small size.
 */

import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import {
  CreateTableCommand,
  DynamoDBClient,
  ScanCommand,
  type ScanCommandOutput,
} from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";
import { SetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Command } from "commander";
import { queueDepth } from "../../packages/courier/src/deployment/consumer-status.ts";
import type { DeployedTopology } from "../../packages/courier/src/deployment/deployed-topology.ts";
import {
  type PeekedMessage,
  peekDlq,
  redriveSelectively,
} from "../../packages/courier/src/lib/redrive/index.ts";
import type { NewAccountV1 } from "../../src/app/contracts/index.ts";
import { deleteStackOnLocalStack, deployToLocalStack } from "../../src/dev/deploy.ts";
import { ensureIdempotencyTable, type LocalDynamo } from "../../src/dev/dynamodb-local.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import type { CfnTemplate } from "../../src/dev/local-template.ts";
import { ensureLocalStack, PROJECT_ROOT } from "../../src/dev/localstack.ts";
import { consumers } from "../../src/topology.ts";
import { createPublisher } from "../helpers/example-publisher.ts";
import { consumerOf, topicOf } from "../helpers/example-stack.ts";
import { freePort } from "../helpers/free-port.ts";
import {
  EFFECT_KEY,
  type FaultKind,
  POISON_PREFIX,
  SOAK_CONSUMERS,
  type SoakConsumer,
  WORKER_CONFIG_ENV,
  type WorkerConfig,
  type WorkerEvent,
} from "./soak-protocol.ts";

export interface SoakOptions {
  /** A synthesized courier template to deploy (the test suite's one synthesis). @default synthesized now */
  readonly template?: CfnTemplate;
  readonly messages: number;
  /** Share of deliveries failing with a transient error. */
  readonly transientRate: number;
  /** Share of deliveries overrunning the function timeout. */
  readonly timeoutRate: number;
  /** Mean SIGKILLs per second across the worker pool. */
  readonly killRate: number;
  /** Share of sign-ups that are poison pills. */
  readonly poisonRate: number;
  /** Share of sign-ups with a phone (the SMS consumer gets only those). */
  readonly phoneRate: number;
  readonly workers: number;
  /** Pollers per consumer per worker process. */
  readonly concurrency: number;
  /** The function timeout the event source enforces. */
  readonly timeoutSeconds: number;
  /** Set on the stack copy's queues (the stack's 180 s would make a killed batch wait 3 minutes). */
  readonly visibilityTimeoutSeconds: number;
  /** Give up waiting for the queues to drain after this long (per phase). */
  readonly drainDeadlineSeconds: number;
  readonly endpoint: string;
  readonly keepStack?: boolean;
  readonly log?: (line: string) => void;
}

export const SOAK_DEFAULTS = {
  messages: 10_000,
  transientRate: 0.1,
  timeoutRate: 0.02,
  killRate: 0.1,
  poisonRate: 0.01,
  phoneRate: 0.5,
  workers: 2,
  concurrency: 2,
  timeoutSeconds: 5,
  visibilityTimeoutSeconds: 30,
  drainDeadlineSeconds: 1_800,
} as const;

export interface ConsumerFigures {
  /** (sign-up, consumer) pairs this consumer was meant to process (poison pills excluded). */
  readonly expected: number;
  /** Of those, how many had their side effect. */
  readonly delivered: number;
  /** Deliveries the handler saw (from live workers; a killed worker's last ones may be missing). */
  readonly deliveries: number;
  /** Deliveries with ApproximateReceiveCount > 1. */
  readonly retried: number;
  /** DLQ messages after the faulty phase (poison pills and exhausted retries). */
  readonly deadLettered: number;
  /** Of those, not poison pills: moved back by the redrive. */
  readonly redriven: number;
  /** Poison pills this consumer was meant to see. */
  readonly poisonExpected: number;
  /** Poison pills in the DLQ at the end carrying a PoisonPillError reason. */
  readonly poisonInDlq: number;
  /** Expected effects missing plus poison pills missing from the DLQ. */
  readonly lost: number;
  /** Of the lost, how many no handler ever saw (lost between the topic and the consumer). */
  readonly lostNeverDelivered: number;
  /** Side-effect executions beyond the first per event. */
  readonly duplicated: number;
  /** Of those, repeats after the worker was SIGKILLed between the effect and its record. */
  readonly duplicatedAfterKill: number;
  /** Effects that should not exist: SMS without a phone, any effect of a poison pill. */
  readonly misrouted: number;
  /** DLQ messages at the end that are not poison pills. */
  readonly leftInDlq: number;
}

export interface SoakReport {
  readonly stackName: string;
  readonly options: Omit<SoakOptions, "log" | "endpoint">;
  readonly published: number;
  readonly poison: number;
  readonly withPhone: number;
  readonly publishFailures: number;
  readonly drained: { readonly faulty: boolean; readonly fixed: boolean };
  readonly consumers: Record<SoakConsumer, ConsumerFigures>;
  readonly faults: Record<FaultKind, number> & { kills: number; crashes: number; batchTimeouts: number };
  readonly seconds: {
    readonly deploy: number;
    readonly faulty: number;
    readonly fixed: number;
    readonly total: number;
  };
  readonly workerErrors: number;
  readonly sampleErrors: string[];
}

const WORKER_PATH = fileURLToPath(new URL("./soak-worker.ts", import.meta.url));

/** dynalite in a child process of our own, on a free port (see dynalite-process.ts). */
async function startDynamoProcess(): Promise<LocalDynamo> {
  const port = await freePort();
  const child = fork(fileURLToPath(new URL("./dynalite-process.ts", import.meta.url)), [], {
    cwd: PROJECT_ROOT,
    execArgv: ["--import", "tsx"],
    env: { ...process.env, COURIER_SOAK_DYNAMO_PORT: String(port) },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.once("message", (message: { ready?: string }) =>
      message.ready ? resolve(message.ready) : reject(new Error("dynalite did not start")),
    );
    child.once("exit", (code) => reject(new Error(`dynalite process exited with code ${code}`)));
  });
  return {
    endpoint,
    started: true,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.disconnect();
      }),
  };
}

// ---- worker pool ---------------------------------------------------------------------------------

interface PoolCounters {
  kills: number;
  crashes: number;
  errors: number;
  sampleErrors: string[];
}

/** Worker processes, restarted after a SIGKILL; `stopAll` stops them gracefully. */
class WorkerPool {
  private readonly live = new Map<number, ChildProcess>();
  private stopping = false;
  /** pid -> when this pool SIGKILLed it. */
  readonly killedPids = new Map<number, number>();
  readonly counters: PoolCounters = { kills: 0, crashes: 0, errors: 0, sampleErrors: [] };

  constructor(
    private readonly config: (workerId: number) => WorkerConfig,
    private readonly endpoint: string,
    private readonly onEvent: (event: WorkerEvent) => void,
    private readonly log: (line: string) => void,
  ) {}

  async start(count: number): Promise<void> {
    await Promise.all(Array.from({ length: count }, (_, id) => this.spawn(id)));
  }

  /** Resolves when the worker says it is polling. */
  private spawn(workerId: number): Promise<void> {
    const child = fork(WORKER_PATH, [], {
      cwd: PROJECT_ROOT,
      execArgv: ["--import", "tsx"],
      env: {
        ...process.env,
        AWS_ENDPOINT_URL: this.endpoint,
        [WORKER_CONFIG_ENV]: JSON.stringify(this.config(workerId)),
      },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    this.live.set(workerId, child);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-2_000);
    });
    return new Promise<void>((resolve) => {
      child.on("message", (event: WorkerEvent) => {
        if (event.k === "ready") resolve();
        if (event.k === "error") {
          this.counters.errors += 1;
          if (this.counters.sampleErrors.length < 10)
            this.counters.sampleErrors.push(`${event.during}: ${event.message}`);
        }
        this.onEvent(event);
      });
      child.on("exit", (code, signal) => {
        resolve();
        if (this.live.get(workerId) === child) this.live.delete(workerId);
        const killedByUs = signal === "SIGKILL" && child.pid !== undefined && this.killedPids.has(child.pid);
        if (!killedByUs && !(this.stopping && code === 0)) {
          // A worker that died by itself: the failure the soak exists to find.
          this.counters.crashes += 1;
          this.log(
            `worker ${workerId} (pid ${child.pid}) exited by itself: code ${code} signal ${signal}\n${stderr}`,
          );
        }
        if (!this.stopping) {
          // Restarted after a pause, as a supervisor (ECS, systemd) would.
          setTimeout(
            () => {
              if (!this.stopping) void this.spawn(workerId);
            },
            300 + Math.random() * 1_200,
          );
        }
      });
    });
  }

  /** SIGKILLs one worker at random (only processes this pool started). */
  killOne(): void {
    const children = [...this.live.values()].filter((c) => c.pid !== undefined && c.exitCode === null);
    const victim = children[Math.floor(Math.random() * children.length)];
    if (!victim?.pid) return;
    this.killedPids.set(victim.pid, Date.now());
    this.counters.kills += 1;
    victim.kill("SIGKILL");
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    const children = [...this.live.values()];
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const force = setTimeout(() => {
              if (child.pid) this.killedPids.set(child.pid, Date.now());
              child.kill("SIGKILL");
            }, 30_000);
            child.once("exit", () => {
              clearTimeout(force);
              resolve();
            });
            child.send("stop", (error) => {
              if (error) child.kill("SIGKILL");
            });
          }),
      ),
    );
    this.live.clear();
  }
}

// ---- the run -------------------------------------------------------------------------------------

interface Published {
  readonly phone: boolean;
  readonly poison: boolean;
}

function meantFor(consumer: SoakConsumer, message: Published): boolean {
  return consumer !== "verification-sms" || message.phone;
}

function signup(i: number, run: string, phone: boolean, poison: boolean): NewAccountV1 {
  return {
    accountId: `${poison ? POISON_PREFIX : "soak-"}${run}-${i}`,
    email: `soak-${run}-${i}@example.com`,
    displayName: `Soak ${i}`,
    ...(phone ? { phone: `+1415555${String(i % 10_000).padStart(4, "0")}` } : {}),
    locale: "en-US",
    createdAt: new Date().toISOString(),
  };
}

/** Waits until the three source queues hold nothing (visible, in flight or delayed) twice in a row. */
async function waitDrained(
  sqs: SQSClient,
  topology: DeployedTopology,
  deadlineMs: number,
  progress: (depth: number) => void,
): Promise<boolean> {
  let emptyPolls = 0;
  while (Date.now() < deadlineMs) {
    const depths = await Promise.all(
      SOAK_CONSUMERS.map((c) => queueDepth(sqs, consumerOf(topology, c).queueUrl)),
    );
    const depth = depths.reduce((a, b) => a + b, 0);
    progress(depth);
    emptyPolls = depth === 0 ? emptyPolls + 1 : 0;
    if (emptyPolls >= 2) return true;
    await sleep(2_000);
  }
  return false;
}

async function scanEffects(
  dynamo: DynamoDBClient,
  table: string,
): Promise<Map<string, Array<{ pid: number; at: number }>>> {
  const effects = new Map<string, Array<{ pid: number; at: number }>>();
  let start: ScanCommandOutput["LastEvaluatedKey"];
  do {
    const page: ScanCommandOutput = await dynamo.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    for (const item of page.Items ?? []) {
      const key = `${item.consumer?.S}#${item.eventId?.S}`;
      const list = effects.get(key) ?? [];
      list.push({ pid: Number(item.pid?.N), at: Number(item.at?.N) });
      effects.set(key, list);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return effects;
}

async function listDlq(sqs: SQSClient, dlqUrl: string): Promise<PeekedMessage[]> {
  const { messages } = await peekDlq({
    sqs,
    dlqUrl,
    max: 1_000_000,
    visibilityTimeoutSeconds: 300,
    waitTimeSeconds: 1,
    emptyReceivesToStop: 3,
  });
  return messages;
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const run = randomBytes(3).toString("hex");
  const stackName = `soak-${run}`;
  const clientConfig = { ...localClientConfig(), endpoint: options.endpoint };
  const sqs = new SQSClient(clientConfig);

  log(`deploying stack copy ${stackName} to ${options.endpoint}`);
  const { topology } = await deployToLocalStack({
    stackName,
    endpoint: options.endpoint,
    log,
    ...(options.template ? { template: options.template } : {}),
  });
  const deploySeconds = (Date.now() - started) / 1000;
  let dynamo: LocalDynamo | undefined;
  let pool: WorkerPool | undefined;
  let killer: NodeJS.Timeout | undefined;
  try {
    await Promise.all(
      SOAK_CONSUMERS.map((c) =>
        sqs.send(
          new SetQueueAttributesCommand({
            QueueUrl: consumerOf(topology, c).queueUrl,
            Attributes: { VisibilityTimeout: String(options.visibilityTimeoutSeconds) },
          }),
        ),
      ),
    );

    dynamo = await startDynamoProcess();
    const idempotencyTable = `${stackName}-idempotency`;
    const effectsTable = `${stackName}-effects`;
    await ensureIdempotencyTable(dynamo.endpoint, idempotencyTable);
    const dynamoClient = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: clientConfig.region,
      credentials: clientConfig.credentials,
    });
    await dynamoClient.send(
      new CreateTableCommand({
        TableName: effectsTable,
        KeySchema: [{ AttributeName: EFFECT_KEY, KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: EFFECT_KEY, AttributeType: "S" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );

    const figures = Object.fromEntries(
      SOAK_CONSUMERS.map((c) => [c, { deliveries: 0, retried: 0, effects: 0, seen: new Set<string>() }]),
    ) as Record<SoakConsumer, { deliveries: number; retried: number; effects: number; seen: Set<string> }>;
    const faults = {
      "transient-before": 0,
      "transient-after": 0,
      "timeout-before": 0,
      "timeout-after": 0,
      poison: 0,
      batchTimeouts: 0,
    };
    const onEvent = (event: WorkerEvent) => {
      if (event.k === "delivery") {
        figures[event.c].deliveries += 1;
        figures[event.c].seen.add(event.e);
        if (event.r > 1) figures[event.c].retried += 1;
      } else if (event.k === "effect") figures[event.c].effects += 1;
      else if (event.k === "fault") faults[event.kind] += 1;
      else if (event.k === "batch" && event.timedOut) faults.batchTimeouts += 1;
    };
    const workerConfig =
      (rates: { transientRate: number; timeoutRate: number }) =>
      (workerId: number): WorkerConfig => ({
        workerId,
        consumers: SOAK_CONSUMERS.map((name) => ({
          name,
          queueUrl: consumerOf(topology, name).queueUrl,
          dlqUrl: consumerOf(topology, name).dlqUrl,
        })),
        dynamoEndpoint: (dynamo as LocalDynamo).endpoint,
        idempotencyTable,
        effectsTable,
        ...rates,
        timeoutSeconds: options.timeoutSeconds,
        concurrency: options.concurrency,
      });

    // ---- phase 1: publish under faults and kills ----
    const faultyStarted = Date.now();
    pool = new WorkerPool(
      workerConfig({ transientRate: options.transientRate, timeoutRate: options.timeoutRate }),
      options.endpoint,
      onEvent,
      log,
    );
    await pool.start(options.workers);
    log(`${options.workers} workers polling; publishing ${options.messages} sign-ups`);
    const tickMs = 250;
    killer = setInterval(() => {
      if (Math.random() < (options.killRate * tickMs) / 1000) pool?.killOne();
    }, tickMs);

    const published = new Map<string, Published>();
    let publishFailures = 0;
    const publisher = createPublisher({
      sns: new SNSClient(clientConfig),
      topicArns: {
        "account-signups": topicOf(topology, "account-signups").arn,
        "image-uploads": topicOf(topology, "image-uploads").arn,
      },
      producer: "soak",
    });
    const CHUNK = 100;
    const chunks = Array.from({ length: Math.ceil(options.messages / CHUNK) }, (_, c) =>
      Array.from({ length: Math.min(CHUNK, options.messages - c * CHUNK) }, (_, j) => {
        const i = c * CHUNK + j;
        // Poison pills evenly spread (so a small run has some); phones at random.
        const poison = Math.floor((i + 1) * options.poisonRate) > Math.floor(i * options.poisonRate);
        return signup(i, run, Math.random() < options.phoneRate, poison);
      }),
    );
    let nextChunk = 0;
    const publishOne = async () => {
      for (let c = nextChunk++; c < chunks.length; c = nextChunk++) {
        let pending = chunks[c] ?? [];
        for (let attempt = 1; pending.length > 0 && attempt <= 5; attempt++) {
          const results = await publisher.publishBatch("account-signups", pending);
          const failed: NewAccountV1[] = [];
          results.forEach((result, index) => {
            const data = pending[index] as NewAccountV1;
            if (result.ok) {
              published.set(result.eventId, {
                phone: data.phone !== undefined,
                poison: data.accountId.startsWith(POISON_PREFIX),
              });
            } else failed.push(data);
          });
          pending = failed;
          if (pending.length > 0) await sleep(200 * attempt);
        }
        publishFailures += pending.length;
      }
    };
    await Promise.all(Array.from({ length: 4 }, publishOne));
    log(
      `published ${published.size} in ${((Date.now() - faultyStarted) / 1000).toFixed(1)} s; waiting for the queues to drain`,
    );

    let lastLog = 0;
    const progress = (phase: string) => (depth: number) => {
      if (Date.now() - lastLog < 10_000) return;
      lastLog = Date.now();
      const effects = SOAK_CONSUMERS.map((c) => `${c} ${figures[c].effects}`).join(", ");
      log(`[${phase}] in queues ${depth}; effects ${effects}; kills ${pool?.counters.kills ?? 0}`);
    };
    const faultyDrained = await waitDrained(
      sqs,
      topology,
      Date.now() + options.drainDeadlineSeconds * 1000,
      progress("faulty"),
    );
    clearInterval(killer);
    killer = undefined;
    await pool.stopAll();
    const faultySeconds = (Date.now() - faultyStarted) / 1000;
    const kills = pool.counters.kills;
    const killedPids = pool.killedPids;
    // An execution still in its effect-to-record window when its process died; generous on a busy machine.
    const killWindowMs = (options.timeoutSeconds + 10) * 1000;
    const crashesFaulty = pool.counters.crashes;
    const errorsFaulty = pool.counters.errors;
    const sampleErrors = [...pool.counters.sampleErrors];

    // ---- phase 2: the "fix" (faults off), redrive all but the poison pills, drain again ----
    const fixedStarted = Date.now();
    const deadLettered = Object.fromEntries(
      await Promise.all(
        SOAK_CONSUMERS.map(async (c) => [c, await listDlq(sqs, consumerOf(topology, c).dlqUrl)] as const),
      ),
    ) as Record<SoakConsumer, PeekedMessage[]>;
    pool = new WorkerPool(workerConfig({ transientRate: 0, timeoutRate: 0 }), options.endpoint, onEvent, log);
    await pool.start(options.workers);
    const redriven = Object.fromEntries(SOAK_CONSUMERS.map((c) => [c, 0])) as Record<SoakConsumer, number>;
    for (const c of SOAK_CONSUMERS) {
      const classes = new Set(
        deadLettered[c].map((m) => m.errorClass).filter((e) => e !== "PoisonPillError"),
      );
      for (const errorClass of classes) {
        const summary = await redriveSelectively({
          sqs,
          dlqUrl: consumerOf(topology, c).dlqUrl,
          queueUrl: consumerOf(topology, c).queueUrl,
          filter: { errorClass },
          sourceMaxReceiveCount: consumers[c].maxReceiveCount,
        });
        redriven[c] += summary.moved;
      }
    }
    log(
      `redriven: ${SOAK_CONSUMERS.map((c) => `${c} ${redriven[c]}`).join(", ")}; waiting for the queues to drain`,
    );
    const fixedDrained = await waitDrained(
      sqs,
      topology,
      Date.now() + options.drainDeadlineSeconds * 1000,
      progress("fixed"),
    );
    await pool.stopAll();
    const fixedSeconds = (Date.now() - fixedStarted) / 1000;

    // ---- accounting ----
    const effects = await scanEffects(dynamoClient, effectsTable);
    const finalDlq = Object.fromEntries(
      await Promise.all(
        SOAK_CONSUMERS.map(async (c) => [c, await listDlq(sqs, consumerOf(topology, c).dlqUrl)] as const),
      ),
    ) as Record<SoakConsumer, PeekedMessage[]>;
    dynamoClient.destroy();

    const consumerFigures = Object.fromEntries(
      SOAK_CONSUMERS.map((c) => {
        let expected = 0;
        let delivered = 0;
        let poisonExpected = 0;
        let misrouted = 0;
        let duplicated = 0;
        let duplicatedAfterKill = 0;
        const poisonWithReason = new Set(
          finalDlq[c]
            .filter(
              (m) =>
                m.failure?.errorClass === "PoisonPillError" &&
                m.failure.kind === "permanent" &&
                m.failure.consumer === c &&
                m.failure.message.includes("poison pill"),
            )
            .map((m) => m.eventId),
        );
        let poisonInDlq = 0;
        let lostNeverDelivered = 0;
        for (const [eventId, message] of published) {
          const executions = effects.get(`${c}#${eventId}`) ?? [];
          if (!meantFor(c, message) || message.poison) {
            if (executions.length > 0) misrouted += 1;
            if (message.poison && meantFor(c, message)) {
              poisonExpected += 1;
              if (poisonWithReason.has(eventId)) poisonInDlq += 1;
            }
            continue;
          }
          expected += 1;
          if (executions.length > 0) delivered += 1;
          else if (!figures[c].seen.has(eventId)) lostNeverDelivered += 1;
          if (executions.length > 1) {
            duplicated += executions.length - 1;
            // Explained when every earlier execution was in a process SIGKILLed soon after it, before
            // the idempotency record could say "completed": the crash window Powertools cannot close.
            const earlier = [...executions].sort((a, b) => a.at - b.at).slice(0, -1);
            const killedSoonAfter = (x: { pid: number; at: number }) => {
              const killedAt = killedPids.get(x.pid);
              return killedAt !== undefined && killedAt >= x.at && killedAt - x.at <= killWindowMs;
            };
            if (earlier.every(killedSoonAfter)) duplicatedAfterKill += executions.length - 1;
          }
        }
        const figure: ConsumerFigures = {
          expected,
          delivered,
          deliveries: figures[c].deliveries,
          retried: figures[c].retried,
          deadLettered: deadLettered[c].length,
          redriven: redriven[c],
          poisonExpected,
          poisonInDlq,
          lost: expected - delivered + (poisonExpected - poisonInDlq),
          lostNeverDelivered,
          duplicated,
          duplicatedAfterKill,
          misrouted,
          leftInDlq: finalDlq[c].filter((m) => m.errorClass !== "PoisonPillError").length,
        };
        return [c, figure];
      }),
    ) as Record<SoakConsumer, ConsumerFigures>;

    const { log: _log, endpoint: _endpoint, ...settings } = options;
    return {
      stackName,
      options: settings,
      published: published.size,
      poison: [...published.values()].filter((m) => m.poison).length,
      withPhone: [...published.values()].filter((m) => m.phone).length,
      publishFailures,
      drained: { faulty: faultyDrained, fixed: fixedDrained },
      consumers: consumerFigures,
      faults: {
        "transient-before": faults["transient-before"],
        "transient-after": faults["transient-after"],
        "timeout-before": faults["timeout-before"],
        "timeout-after": faults["timeout-after"],
        poison: faults.poison,
        batchTimeouts: faults.batchTimeouts,
        kills,
        crashes: crashesFaulty + pool.counters.crashes,
      },
      seconds: {
        deploy: Math.round(deploySeconds),
        faulty: Math.round(faultySeconds),
        fixed: Math.round(fixedSeconds),
        total: Math.round((Date.now() - started) / 1000),
      },
      workerErrors: errorsFaulty + pool.counters.errors,
      sampleErrors,
    };
  } finally {
    if (killer) clearInterval(killer);
    await pool?.stopAll();
    await dynamo?.close();
    sqs.destroy();
    if (!options.keepStack)
      await deleteStackOnLocalStack(stackName, { endpoint: options.endpoint }).catch(() => false);
  }
}

/** What failed, one line each; empty when the soak holds every guarantee. */
export function soakProblems(report: SoakReport): string[] {
  const problems: string[] = [];
  if (report.publishFailures > 0) problems.push(`${report.publishFailures} sign-ups could not be published`);
  if (!report.drained.faulty) problems.push("the queues did not drain under faults before the deadline");
  if (!report.drained.fixed) problems.push("the queues did not drain after the redrive before the deadline");
  if (report.faults.crashes > 0)
    problems.push(`${report.faults.crashes} worker processes crashed by themselves`);
  for (const c of SOAK_CONSUMERS) {
    const f = report.consumers[c];
    if (f.lost > 0)
      problems.push(
        `${c}: ${f.lost} lost (${f.expected - f.delivered} effects missing, ${f.poisonExpected - f.poisonInDlq} poison pills not in the DLQ with their reason)`,
      );
    if (f.duplicated - f.duplicatedAfterKill > 0) {
      problems.push(
        `${c}: ${f.duplicated - f.duplicatedAfterKill} side effects repeated without a SIGKILL to explain them`,
      );
    }
    if (f.misrouted > 0)
      problems.push(`${c}: ${f.misrouted} effects for sign-ups not meant for it (or poison pills)`);
    if (f.leftInDlq > 0)
      problems.push(
        `${c}: ${f.leftInDlq} messages other than poison pills left in the DLQ after the redrive`,
      );
  }
  return problems;
}

export function formatSoakTable(report: SoakReport): string {
  const o = report.options;
  const rows: Array<[string, ...string[]]> = [["", ...SOAK_CONSUMERS]];
  const row = (label: string, value: (f: ConsumerFigures) => number | string) =>
    rows.push([label, ...SOAK_CONSUMERS.map((c) => String(value(report.consumers[c])))]);
  row("expected (meant for it, not poison)", (f) => f.expected);
  row("delivered (side effect present)", (f) => f.delivered);
  row("deliveries seen by handlers", (f) => f.deliveries);
  row("retried (receive count > 1)", (f) => f.retried);
  row("dead-lettered under faults", (f) => f.deadLettered);
  row("redriven after the fix", (f) => f.redriven);
  row("poison pills in DLQ with reason", (f) => `${f.poisonInDlq}/${f.poisonExpected}`);
  row("lost", (f) => f.lost);
  row("  of which never reached a handler", (f) => f.lostNeverDelivered);
  row("duplicated side effects", (f) => f.duplicated);
  row("  of which after a SIGKILL", (f) => f.duplicatedAfterKill);
  row("misrouted effects", (f) => f.misrouted);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  const lines = rows.map((r) =>
    r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  "),
  );
  const f = report.faults;
  return [
    `soak ${report.stackName}: ${o.messages} sign-ups requested, transient ${o.transientRate}, timeout ${o.timeoutRate}, kill ${o.killRate}/s, poison ${o.poisonRate}, ${o.workers} workers × ${o.concurrency} pollers per consumer`,
    `published ${report.published} (${report.poison} poison pills, ${report.withPhone} with a phone), publish failures ${report.publishFailures}`,
    `faults injected: transient ${f["transient-before"] + f["transient-after"]}, timeout overruns ${f["timeout-before"] + f["timeout-after"]} (${f.batchTimeouts} batches timed out), poison rejections ${f.poison}, SIGKILLs ${f.kills}, crashes ${f.crashes}`,
    ...lines,
    `time: deploy ${report.seconds.deploy} s, faulty phase ${report.seconds.faulty} s, fix + redrive ${report.seconds.fixed} s, total ${report.seconds.total} s; worker-reported errors ${report.workerErrors}`,
  ].join("\n");
}

// ---- command line --------------------------------------------------------------------------------

async function main(argv: string[]): Promise<number> {
  const program = new Command("soak")
    .description("Soak the broadcast topology on LocalStack with transient errors, timeouts and SIGKILLs")
    .option("--messages <n>", "sign-ups to publish", String(SOAK_DEFAULTS.messages))
    .option(
      "--transient-rate <p>",
      "share of deliveries failing transiently",
      String(SOAK_DEFAULTS.transientRate),
    )
    .option(
      "--timeout-rate <p>",
      "share of deliveries overrunning the timeout",
      String(SOAK_DEFAULTS.timeoutRate),
    )
    .option("--kill-rate <r>", "mean SIGKILLs per second across the workers", String(SOAK_DEFAULTS.killRate))
    .option("--poison-rate <p>", "share of sign-ups that are poison pills", String(SOAK_DEFAULTS.poisonRate))
    .option("--phone-rate <p>", "share of sign-ups with a phone", String(SOAK_DEFAULTS.phoneRate))
    .option("--workers <n>", "worker processes", String(SOAK_DEFAULTS.workers))
    .option("--concurrency <n>", "pollers per consumer per worker", String(SOAK_DEFAULTS.concurrency))
    .option("--timeout-seconds <s>", "function timeout", String(SOAK_DEFAULTS.timeoutSeconds))
    .option(
      "--visibility-seconds <s>",
      "queue visibility timeout",
      String(SOAK_DEFAULTS.visibilityTimeoutSeconds),
    )
    .option(
      "--deadline-minutes <m>",
      "give up draining after",
      String(SOAK_DEFAULTS.drainDeadlineSeconds / 60),
    )
    .option("--keep-stack", "leave the stack copy deployed")
    .option("--json", "print the report as JSON too")
    .parse(argv);
  const o = program.opts<Record<string, string | boolean | undefined>>();
  const num = (key: string) => Number(o[key]);
  const handle = await ensureLocalStack({ log: (line) => process.stderr.write(`[localstack] ${line}\n`) });
  const report = await runSoak({
    messages: num("messages"),
    transientRate: num("transientRate"),
    timeoutRate: num("timeoutRate"),
    killRate: num("killRate"),
    poisonRate: num("poisonRate"),
    phoneRate: num("phoneRate"),
    workers: num("workers"),
    concurrency: num("concurrency"),
    timeoutSeconds: num("timeoutSeconds"),
    visibilityTimeoutSeconds: num("visibilitySeconds"),
    drainDeadlineSeconds: num("deadlineMinutes") * 60,
    endpoint: handle.endpoint,
    keepStack: o.keepStack === true,
    log: (line) => process.stderr.write(`[soak] ${line}\n`),
  });
  process.stdout.write(`${formatSoakTable(report)}\n`);
  if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  const problems = soakProblems(report);
  for (const p of problems) process.stdout.write(`FAIL ${p}\n`);
  if (problems.length === 0)
    process.stdout.write(
      "OK: nothing lost, no side effect repeated without a kill, poison pills dead-lettered with reasons\n",
    );
  return problems.length === 0 ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
