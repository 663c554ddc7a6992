/**
 * The whole system on one laptop, as `npm start` runs it: LocalStack with the CDK app's stack,
 * a DynamoDB-API server for idempotency, every consumer in its own worker process through the
 * local event source, a stand-in team webhook, and the example API server with its outbox relay.
 * `stop()` ends what this started, in the order that loses nothing: the workers stop first
 * (through the same path as `courier work`: receives in flight are awaited and what they bring
 * after the stop is released, batches finish), then the relay's pass and the API server.
 */

import { once } from "node:events";
import { createWriteStream, mkdirSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { Writable } from "node:stream";
import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SESClient, VerifyEmailIdentityCommand } from "@aws-sdk/client-ses";
import { SNSClient } from "@aws-sdk/client-sns";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { archivedTopics, createPublisher, eraseSubject } from "@courier-queue/courier";
import { localStackPeek, oldestAgeFromPeek, startConsole } from "@courier-queue/courier/cli";
import { startTracing, type Tracing } from "@courier-queue/courier/otel";
import {
  type DeployedTopology,
  localTarget,
  type RecordOutcome,
  startWorkers,
  undeployedArchiverNames,
  type WorkerLogs,
  type WorkerPool,
  workerTarget,
} from "@courier-queue/courier/worker";
import { openAccountsDb } from "../app/accounts/account-store.ts";
import { createApiServer } from "../app/api/api-server.ts";
import { apiAbuseSettingsFromEnv } from "../app/api/api-settings.ts";
import { ENV } from "../app/deployment/example-env.ts";
import {
  AUDIT_TABLE_OUTPUT,
  DEFAULT_STACK_NAME,
  UPLOADS_BUCKET_OUTPUT,
} from "../app/deployment/example-outputs.ts";
import { LOCALSTACK_MAX_PUBLISH_BYTES } from "../app/deployment/local-run.ts";
import { createOutboxRelay, type OutboxRelay } from "../app/outbox/index.ts";
import { readAuditTrail } from "../app/security-audit/audit-table.ts";
import { verificationKeyFromSecret } from "../app/signup/verification-key.ts";
import { type ConsumerName, consumerNames, courierTopology, type TopicName } from "../topology.ts";
import type { LocalDeployment } from "./deploy.ts";
import { ensureAuditTable, ensureIdempotencyTable, ensureLocalDynamo } from "./dynamodb-local.ts";
import { localClientConfig } from "./local-aws-config.ts";
import { ensureLocalStack, type LocalStackHandle, PROJECT_ROOT, stopLocalStack } from "./localstack.ts";
import { type OtlpReceiver, startOtlpReceiver } from "./otlp-receiver.ts";
import { startWebhookSink, type WebhookSink } from "./webhook-sink.ts";

export interface LocalSystemOptions {
  /** @default "courier" */
  readonly stackName?: string;
  /**
   * A copy of the stack already deployed to the LocalStack in use, run as it is instead of deploying
   * `stackName` (the integration suite deploys its copies ahead, all at once). @default deploy now
   */
  readonly deployment?: LocalDeployment;
  /** Port of the example API server; 0 picks a free one. @default 3000 */
  readonly apiPort?: number;
  /** Where the accounts database and the local DynamoDB data live. @default <project>/.courier */
  readonly dataDir?: string;
  /** @default every consumer */
  readonly consumers?: readonly ConsumerName[];
  readonly log?: (line: string) => void;
  /** Where workers' handler logs go. @default process.stderr */
  readonly workerOutput?: NodeJS.WritableStream;
  /** `readable`: each handled record to `onOutcome`, handler logs only from WARN; `json`: raw. @default "json" */
  readonly workerLogs?: WorkerLogs;
  readonly onOutcome?: (outcome: RecordOutcome) => void;
  /**
   * Workers' long-poll wait in seconds (0-20). `stop()` waits for receives in flight, so it also
   * bounds how long the stop takes. @default COURIER_WORKER_WAIT_SECONDS, else 20
   */
  readonly workerWaitSeconds?: number;
  /**
   * Record spans: an OTLP receiver writes every span of the workers and the API to
   * `<dataDir>/spans.jsonl` (what `courier trace --local` and the console's "Find a message"
   * read), and the workers' log lines go to `<dataDir>/worker-logs.jsonl` too. @default true
   */
  readonly tracing?: boolean;
  /**
   * Run the bundles the stack deploys (synthesized with bundling on into
   * `<project>/.courier/bundles/<stack>`) instead of the handler sources, so a bundle that cannot
   * load fails here. @default COURIER_RUN_BUNDLES=1 in the environment, else the sources
   */
  readonly bundles?: boolean;
}

export interface ConsumerLine {
  readonly consumer: ConsumerName;
  readonly processed: number;
  readonly failed: number;
  readonly queueDepth: number;
  readonly dlqDepth: number;
}

export interface LocalSystem {
  readonly apiUrl: string;
  /** The operator console, token included (as `courier console --local` serves it). */
  readonly consoleUrl: string;
  readonly endpoint: string;
  /** LocalStack's record of sent mail. */
  readonly mailboxUrl: string;
  readonly smsUrl: string;
  readonly topology: DeployedTopology;
  readonly webhook: WebhookSink;
  readonly workers: WorkerPool;
  /** Each consumer's deployed bundle the workers run, when they run bundles (`bundles`). */
  readonly bundles?: Readonly<Record<string, string>>;
  readonly relay: OutboxRelay;
  readonly db: DatabaseSync;
  /** The span receiver, when tracing is on. */
  readonly spans?: OtlpReceiver;
  /** Where the workers' log lines (and, in readable mode, their outcome lines) are kept. */
  readonly workerLogFile: string;
  /** Per consumer: processed and failed by its worker, queue and DLQ depth. */
  consumerLines(): Promise<ConsumerLine[]>;
  stop(): Promise<void>;
}

/** The sender the local run verifies in LocalStack's SES, which refuses unverified senders. */
export const LOCAL_MAIL_FROM = "courier@example.com";

export async function startLocalSystem(options: LocalSystemOptions = {}): Promise<LocalSystem> {
  const log = options.log ?? (() => {});
  const stackName = options.deployment?.topology.stackName ?? options.stackName ?? DEFAULT_STACK_NAME;
  const dataDir = options.dataDir ?? join(PROJECT_ROOT, ".courier");
  mkdirSync(dataDir, { recursive: true });
  const cleanups: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };

  try {
    const localstack: LocalStackHandle = await ensureLocalStack({ log });
    if (localstack.source === "started") cleanups.push(() => stopLocalStack());
    const endpoint = localstack.endpoint;
    const aws = { ...localClientConfig({ ...process.env, AWS_ENDPOINT_URL: endpoint }) };

    const { topology } =
      options.deployment ??
      // Loaded lazily: the CDK app takes seconds to import.
      (await (await import("./deploy.ts")).deployToLocalStack({ stackName, endpoint, log }));

    // The stack's tables are not deployed on LocalStack: its outputs name them as the local template
    // renamed them, and they are created here, on the DynamoDB-API server, under those names.
    const idempotencyTable = requiredName(topology, "idempotency table", topology.idempotencyTable);
    const auditTable = requiredName(topology, "audit table", topology.outputs[AUDIT_TABLE_OUTPUT]);
    const uploadsBucket = requiredName(topology, "uploads bucket", topology.outputs[UPLOADS_BUCKET_OUTPUT]);
    const verificationSecretArn = requiredName(
      topology,
      "verification secret",
      topology.secretArns.verification,
    );
    const dynamo = await ensureLocalDynamo({ path: join(dataDir, "dynamodb") });
    cleanups.push(() => dynamo.close());
    await ensureIdempotencyTable(dynamo.endpoint, idempotencyTable);
    await ensureAuditTable(dynamo.endpoint, auditTable);
    log(
      `idempotency table "${idempotencyTable}" on ${dynamo.endpoint}${dynamo.started ? " (dynalite)" : ""}`,
    );

    // Spans first: everything started after this exports to it.
    const tracingOn = options.tracing ?? true;
    let spans: OtlpReceiver | undefined;
    let tracing: Tracing | undefined;
    if (tracingOn) {
      const receiver = await startOtlpReceiver({ spansFile: join(dataDir, "spans.jsonl") });
      spans = receiver;
      cleanups.push(() => receiver.close());
      // This process's own spans: the API's requests and the outbox relay's publishes.
      tracing = startTracing({ serviceName: "example-api", endpoint: `${receiver.endpoint}/v1/traces` });
      const started = tracing;
      cleanups.push(() => started.shutdown());
      log(`spans: OTLP/HTTP receiver on ${receiver.endpoint}, writing ${receiver.spansFile}`);
    }
    const workerLogFile = join(dataDir, "worker-logs.jsonl");
    const workerLog = createWriteStream(workerLogFile, { flags: "a" });
    cleanups.push(() => new Promise((resolve) => workerLog.end(resolve)));
    const workerOutputTarget = options.workerOutput ?? process.stderr;
    // Every worker line goes where it went before and into the log file `courier trace` reads.
    const workerOutput = new Writable({
      write(chunk, _encoding, callback) {
        workerLog.write(chunk);
        workerOutputTarget.write(chunk, callback);
      },
    });

    const webhook = await startWebhookSink({
      onPost: (post) =>
        log(`team webhook: ${JSON.stringify((post.body as { text?: string }).text ?? post.body)}`),
    });
    cleanups.push(() => webhook.close());

    // The API server first: the verification link in the email points at its port.
    const db = openAccountsDb(join(dataDir, `${stackName}-accounts.db`));
    cleanups.push(async () => db.close());
    const sns = new SNSClient(aws);
    const s3 = new S3Client(aws);
    const publisher = createPublisher(courierTopology, {
      sns,
      topicArns: Object.fromEntries(
        Object.keys(courierTopology.topics).map((t) => [t, requiredTopic(topology, t).arn]),
      ) as Record<TopicName, string>,
      producer: "example-api",
      // Large account-export manifests go through the stack's payload bucket, as in AWS; above
      // 256 KiB already, which is all LocalStack's SNS takes.
      ...(topology.payloadBucket ? { payloadStore: { s3, bucket: topology.payloadBucket } } : {}),
      maxMessageBytesCeiling: LOCALSTACK_MAX_PUBLISH_BYTES,
    });
    const auditReader = new DynamoDBClient({ ...aws, endpoint: dynamo.endpoint });
    const secrets = new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient(aws) });
    const server: Server = createApiServer({
      db,
      verificationKey: verificationKeyFromSecret(secrets, verificationSecretArn),
      s3,
      uploadsBucket,
      imagePublisher: publisher,
      exportPublisher: publisher,
      // DELETE /accounts/:id erases the account's messages from every archive keyed by accountId.
      eraseArchive: eraserFor(topology, s3),
      // The security-audit consumer's table, read where that consumer writes it (dynalite here).
      auditTrail: (accountId) => readAuditTrail(auditReader, auditTable, accountId),
      // Rate limits, attempt limits and timeouts: defaults, or COURIER_API_* from the environment.
      ...apiAbuseSettingsFromEnv(),
      // One line per request with the ids every consumer's log lines for its messages carry.
      requestLog: (entry) =>
        log(
          `api: ${entry.method} ${entry.path} ${entry.status} ${entry.durationMs} ms correlationId=${entry.correlationId} traceparent=${entry.traceparent}`,
        ),
    });
    server.listen(options.apiPort ?? 3000, "127.0.0.1");
    await once(server, "listening");
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const relay = createOutboxRelay({
      db,
      publish: (message) =>
        publisher.publish(message.topic as TopicName, message.data as never, {
          eventId: message.eventId,
          occurredAt: message.occurredAt,
          // The request's trace, stored with the row: the message carries the request's ids.
          trace: message.trace,
        }),
      onError: (row, error) => log(`outbox: publishing ${row.eventId} failed, will retry: ${String(error)}`),
    });
    relay.start();
    cleanups.push(() => relay.stop());

    await new SESClient(aws).send(new VerifyEmailIdentityCommand({ EmailAddress: LOCAL_MAIL_FROM }));
    // What this run has in place of the deployment's settings: the API's own sender, link and
    // webhook sink, given to the consumers whose deployed environment has them.
    const localSettings: Record<string, string> = {
      [ENV.mailFrom]: LOCAL_MAIL_FROM,
      [ENV.verifyUrlBase]: `${apiUrl}/verify`,
      [ENV.teamWebhookUrl]: webhook.url,
    };
    const bundles =
      (options.bundles ?? process.env.COURIER_RUN_BUNDLES === "1")
        ? await synthesizedBundles(stackName, log)
        : undefined;
    const workers = startWorkers({
      topology,
      ...(bundles ? { bundles } : {}),
      // Every consumer and every topic's archiver (`archive:<topic>`): LocalStack runs no function.
      consumers: options.consumers ?? [...consumerNames, ...undeployedArchiverNames(topology)],
      projectRoot: PROJECT_ROOT,
      target: workerTarget(localTarget({ ...process.env, AWS_ENDPOINT_URL: endpoint })),
      baseEnv: {
        ...process.env,
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        // Each worker starts the SDK (worker/tracing.ts) and exports to the receiver.
        ...(spans
          ? { OTEL_EXPORTER_OTLP_ENDPOINT: spans.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }
          : {}),
      },
      environment: (consumer) => {
        const deployed = topology.consumers[consumer]?.environment ?? {};
        return Object.fromEntries(Object.entries(localSettings).filter(([key]) => key in deployed));
      },
      ...(options.workerWaitSeconds !== undefined ? { waitTimeSeconds: options.workerWaitSeconds } : {}),
      output: workerOutput,
      logs: options.workerLogs ?? "json",
      ...(options.onOutcome
        ? {
            onOutcome: (_state, outcome) => {
              // In readable mode the outcome replaces the runtime's own line: keep it for `courier trace`.
              workerLog.write(`${JSON.stringify(outcomeLogLine(outcome))}\n`);
              options.onOutcome?.(outcome);
            },
          }
        : {}),
      onFailure: (state) => log(`worker ${state.consumer} failed: ${state.failure}`),
    });
    // Workers stop before the relay and the API (cleanups run in reverse).
    cleanups.push(() => workers.stop());

    const sqs = new SQSClient(aws);
    const operatorConsole = await startConsole({
      sqs,
      s3,
      cloudwatch: new CloudWatchClient(aws),
      topology,
      endpoint: `LocalStack at ${endpoint}`,
      readOnly: false,
      oldestAge: oldestAgeFromPeek(localStackPeek(endpoint)),
      // "Find a message" reads this run's spans and worker log lines, as `courier trace --local` does.
      ...(spans
        ? { traceSource: { kind: "local" as const, spansFile: spans.spansFile, logFiles: [workerLogFile] } }
        : {}),
    });
    cleanups.push(() => operatorConsole.close());
    const depth = async (url: string | undefined) => {
      if (!url) return 0;
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages"] }),
      );
      return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
    };
    return {
      apiUrl,
      consoleUrl: operatorConsole.url,
      endpoint,
      mailboxUrl: `${endpoint}/_aws/ses`,
      smsUrl: `${endpoint}/_aws/sns/sms-messages`,
      topology,
      webhook,
      workers,
      ...(bundles ? { bundles } : {}),
      relay,
      db,
      ...(spans ? { spans } : {}),
      workerLogFile,
      consumerLines: () =>
        Promise.all(
          workers.states.map(async (state) => ({
            consumer: state.consumer as ConsumerName,
            processed: state.stats?.succeeded ?? 0,
            failed: state.stats?.failed ?? 0,
            queueDepth: await depth(topology.consumers[state.consumer]?.queueUrl),
            dlqDepth: await depth(topology.consumers[state.consumer]?.dlqUrl),
          })),
        ),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** A handled record's outcome as a Powertools-shaped JSON log line (the shape `courier trace` reads). */
function outcomeLogLine(outcome: RecordOutcome): Record<string, unknown> {
  const failed = outcome.outcome !== "processed";
  return {
    level: failed ? "WARN" : "INFO",
    message: `record ${outcome.outcome}${"errorClass" in outcome && outcome.errorClass ? `: ${outcome.errorClass}${"errorMessage" in outcome && outcome.errorMessage ? ` ${outcome.errorMessage}` : ""}` : ""} (receive ${outcome.receiveCount}, ${outcome.durationMs} ms)`,
    timestamp: new Date(outcome.at).toISOString(),
    service: outcome.consumer,
    ...(outcome.eventId ? { eventId: outcome.eventId } : {}),
    ...(outcome.correlationId ? { correlationId: outcome.correlationId } : {}),
    messageId: outcome.messageId,
  };
}

/** Erases an account from the archives whose subject is the account (none: no eraser). */
function eraserFor(topology: DeployedTopology, s3: S3Client) {
  const byAccount = archivedTopics(topology).filter((a) => a.archive.subject === "accountId");
  const bucket = byAccount[0]?.archive.bucket;
  if (!bucket) return undefined;
  return (accountId: string) =>
    eraseSubject(
      s3,
      bucket,
      byAccount.map((a) => a.topic),
      accountId,
    );
}

/** The stack synthesized with bundling on, inside the project; each consumer's bundle. */
async function synthesizedBundles(stackName: string, log: (line: string) => void) {
  const started = performance.now();
  const outdir = join(PROJECT_ROOT, ".courier", "bundles", stackName);
  // Loaded lazily, like the deploy: the CDK app takes seconds to import.
  const { synthesizeBundles, buildCourierStack } = await import("./deploy.ts");
  const bundles = synthesizeBundles(stackName, buildCourierStack, outdir);
  log(
    `consumers run their deployed bundles (${Object.keys(bundles).length} synthesized into ${outdir} in ${Math.round((performance.now() - started) / 100) / 10} s)`,
  );
  return bundles;
}

/** A name the example's stack must have left in its outputs, or an error saying which is missing. */
function requiredName(topology: DeployedTopology, what: string, value: string | undefined): string {
  if (!value) throw new Error(`stack "${topology.stackName}" names no ${what} in its outputs`);
  return value;
}

function requiredTopic(topology: DeployedTopology, topic: string) {
  const deployed = topology.topics[topic];
  if (!deployed) throw new Error(`stack "${topology.stackName}" has no topic "${topic}"`);
  return deployed;
}
