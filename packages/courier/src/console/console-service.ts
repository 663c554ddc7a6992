/**
 * What the console knows and does, apart from HTTP: reads the queues (cached a moment, so many
 * tabs cost one read), groups dead letters by cause, and runs redrives and deletes as jobs whose
 * progress the page polls. Redrives go through `runRedriveRequest`, the CLI's and the redrive
 * function's own path: same selective mover, lineage and quarantine.
 */
import { randomUUID } from "node:crypto";
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import {
  type ConsumerStatus,
  consumerStatuses,
  noisyTenantsFromCloudWatch,
  type OldestAge,
} from "../deployment/consumer-status.ts";
import type { DeployedConsumer, DeployedTopology } from "../deployment/deployed-topology.ts";
import type { MessageJourney } from "../deployment/message-trace/journey.ts";
import {
  InvalidTraceQueryError,
  type TraceSource,
  traceMessage,
} from "../deployment/message-trace/trace-message.ts";
import { redrivePairsFromTopology } from "../deployment/redrive-pairs.ts";
import { runRedriveRequest } from "../deployment/redrive-request.ts";
import { archivedTopics, NoArchiveError, replaySourcesOf } from "../deployment/replay-target.ts";
import { archiveStats } from "../lib/archive/archive-store.ts";
import { discardSelectively } from "../lib/redrive/discard.ts";
import type { RedriveFilter } from "../lib/redrive/filter.ts";
import { type PeekedMessage, peekDlq } from "../lib/redrive/peek.ts";
import { planReplay, type ReplayPlan, replay } from "../lib/replay/replay.ts";
import { parseReplayTime, ReplayTimeError } from "../lib/replay/time.ts";
import type {
  ActionRequest,
  ArchiveOverview,
  ConsumerCard,
  ConsumerRates,
  Job,
  JobItem,
  JobOutcome,
  JobProgress,
  MessageDetail,
  Overview,
  ReplayJob,
  ReplayPlanView,
  ReplayRequest,
  Selection,
  Triage,
} from "./api.ts";
import { displayBody, maskPersonalText } from "./personal-data.ts";
import { queueNameOf, RATES_NOTE, readRates, unavailableRates } from "./rates.ts";
import { groupByCause, summarize } from "./triage.ts";

export interface ConsoleServiceOptions {
  readonly sqs: SQSClient;
  /** Absent: no rates. */
  readonly cloudwatch?: CloudWatchClient;
  readonly topology: DeployedTopology;
  readonly endpoint: string;
  readonly readOnly: boolean;
  /** The age of a queue's oldest message (LocalStack: its listing; AWS: CloudWatch), as `courier status` reads it. */
  readonly oldestAge: OldestAge;
  /** How long an oldest age serves (CloudWatch has it per minute; no need to ask every poll). @default 0 */
  readonly oldestAgeMaxAgeMs?: number;
  /** A message redriven this often stays in the DLQ. @default the stack manifest's redrive.maxRedrives */
  readonly maxRedrives?: number;
  /** Consumers the operator paused, where the deployment supports pausing. */
  readonly pausedConsumers?: () => Promise<ReadonlySet<string>>;
  /** How long a queue reading serves before it is read again. @default 2000 */
  readonly overviewMaxAgeMs?: number;
  /** How long rates serve. @default 15000 */
  readonly ratesMaxAgeMs?: number;
  /** A DLQ is grouped again when its depth changed, or after this long. @default 30000 */
  readonly triageMaxAgeMs?: number;
  /** Most messages read from one DLQ for grouping. @default 500 */
  readonly triageLimit?: number;
  /**
   * Most bytes of dead-letter bodies and attributes the console keeps, over every DLQ: past it a
   * message is grouped but its body not kept, and the least recently read DLQ is forgotten first.
   * 500 messages of 1 MiB would otherwise hold 500 MiB. @default 33554432 (32 MiB)
   */
  readonly triageCacheBytes?: number;
  /** Most characters of a body, an attribute or a reason a message's view shows. @default 65536 */
  readonly viewChars?: number;
  /** Reads the topics' archives and replays them. @default - none: no archive figures, no replay */
  readonly s3?: S3Client;
  /** How long archive figures serve (a listing of every topic's archive). @default 10000 */
  readonly archiveMaxAgeMs?: number;
  /**
   * Where "Find a message" reads spans and log lines (`traceMessage`): the local receiver's spans
   * file, or X-Ray and Logs Insights. @default - none: the page says tracing is not set up here
   */
  readonly traceSource?: TraceSource;
}

export class ConsoleError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 403 | 404 | 409,
  ) {
    super(message);
  }
}

interface TriageCache {
  readonly at: number;
  /** Body and attribute bytes kept. */
  readonly bytes: number;
  readonly depth: number;
  readonly triage: Triage;
  readonly messages: ReadonlyMap<string, PeekedMessage>;
}

const MAX_JOB_ITEMS = 200;
const MAX_GROUPS_NOT_REACHED = 20;

export class ConsoleService {
  private overviewCache: { at: number; value: Overview } | undefined;
  private overviewRead: Promise<Overview> | undefined;
  private ratesCache: { at: number; value: Record<string, ConsumerRates> } | undefined;
  private readonly triageCache = new Map<string, TriageCache>();
  private readonly triageReads = new Map<string, Promise<TriageCache>>();
  private readonly jobs = new Map<string, Job>();
  private readonly running = new Map<string, AbortController>();
  private archiveCache: { at: number; value: ArchiveOverview } | undefined;
  private readonly replays = new Map<string, ReplayJob>();
  private readonly replaying = new Set<string>();

  private readonly ages = new Map<string, { at: number; value: Promise<number | null> }>();

  constructor(private readonly options: ConsoleServiceOptions) {}

  /** The configured oldest-age reader, each answer kept `oldestAgeMaxAgeMs`. */
  private readonly oldestAge: OldestAge = (queueUrl, now) => {
    const maxAge = this.options.oldestAgeMaxAgeMs ?? 0;
    const cached = this.ages.get(queueUrl);
    if (cached && Date.now() - cached.at < maxAge) return cached.value;
    const value = this.options.oldestAge(queueUrl, now);
    this.ages.set(queueUrl, { at: Date.now(), value });
    value.catch(() => this.ages.delete(queueUrl));
    return value;
  };

  get readOnly(): boolean {
    return this.options.readOnly;
  }

  async overview(): Promise<Overview> {
    const maxAge = this.options.overviewMaxAgeMs ?? 2_000;
    if (this.overviewCache && Date.now() - this.overviewCache.at < maxAge) return this.overviewCache.value;
    this.overviewRead ??= this.readOverview().finally(() => {
      this.overviewRead = undefined;
    });
    return this.overviewRead;
  }

  private async readOverview(): Promise<Overview> {
    const { topology } = this.options;
    const base = {
      stack: topology.stackName,
      endpoint: this.options.endpoint,
      readOnly: this.options.readOnly,
      topics: Object.values(topology.topics).map((t) => ({
        name: t.name,
        description: t.description,
        messageType: `${t.current.type} v${t.current.version}`,
        consumers: Object.values(topology.consumers)
          .filter((c) => c.topic === t.name)
          .map((c) => c.name),
      })),
      ratesNote: this.options.cloudwatch ? RATES_NOTE : "rates unavailable: no CloudWatch client",
    };
    try {
      const [statuses, rates, paused] = await Promise.all([
        consumerStatuses({
          sqs: this.options.sqs,
          topology,
          oldestAge: this.oldestAge,
          ...(this.options.cloudwatch
            ? {
                noisyTenants: noisyTenantsFromCloudWatch(
                  this.options.cloudwatch,
                  topology.manifest.metricsNamespace,
                ),
              }
            : {}),
        }),
        this.rates(),
        this.options.pausedConsumers?.().catch(() => undefined),
      ]);
      const value: Overview = {
        ...base,
        sampledAt: new Date().toISOString(),
        consumers: statuses.map((s) => this.card(s, rates[s.consumer], paused)),
      };
      this.overviewCache = { at: Date.now(), value };
      return value;
    } catch (error) {
      const last = this.overviewCache?.value;
      if (!last) throw error;
      return { ...last, error: `reading the queues failed: ${(error as Error).message}` };
    }
  }

  private card(
    status: ConsumerStatus,
    rates: ConsumerRates | undefined,
    paused: ReadonlySet<string> | undefined,
  ): ConsumerCard {
    const spec = this.deployed(status.consumer);
    return {
      name: spec.name,
      description: spec.description,
      topic: spec.topic,
      ...(spec.filterPolicy ? { filterPolicy: spec.filterPolicy } : {}),
      maxReceiveCount: spec.maxReceiveCount,
      queueName: queueNameOf(spec.queueUrl),
      dlqName: queueNameOf(spec.dlqUrl),
      queue: status.queue,
      dlq: status.dlq,
      oldestAgeSeconds: status.oldestAgeSeconds,
      dlqOldestAgeSeconds: status.dlqOldestAgeSeconds,
      rates: rates ?? unavailableRates(),
      ...(paused ? { paused: paused.has(spec.name) } : {}),
      ...(status.tenants ? { tenants: status.tenants } : {}),
    };
  }

  private async rates(): Promise<Record<string, ConsumerRates>> {
    const { cloudwatch, topology } = this.options;
    if (!cloudwatch) return {};
    const maxAge = this.options.ratesMaxAgeMs ?? 15_000;
    if (this.ratesCache && Date.now() - this.ratesCache.at < maxAge) return this.ratesCache.value;
    try {
      const value = await readRates(
        cloudwatch,
        Object.values(topology.consumers).map((c) => ({
          consumer: c.name,
          queueName: queueNameOf(c.queueUrl),
          dlqName: queueNameOf(c.dlqUrl),
        })),
        { namespace: topology.manifest.metricsNamespace },
      );
      this.ratesCache = { at: Date.now(), value };
      return value;
    } catch {
      // Rates are a nicety: a role without cloudwatch:GetMetricData still sees the queues.
      return this.ratesCache?.value ?? {};
    }
  }

  /** "Find a message": the journey of a message by its eventId or correlation id, personal data masked. */
  async findMessage(id: string): Promise<MessageJourney> {
    const source = this.options.traceSource;
    if (!source) {
      throw new ConsoleError(
        "tracing is not set up for this console: start it with a trace source (npm start does; courier console on AWS reads X-Ray)",
        404,
      );
    }
    let journey: MessageJourney;
    try {
      journey = await traceMessage({ id, source, topology: this.options.topology });
    } catch (error) {
      if (error instanceof InvalidTraceQueryError) throw new ConsoleError(error.message, 400);
      throw error;
    }
    return maskJourney(journey);
  }

  async triage(consumer: string): Promise<Triage> {
    return (await this.triageFor(this.known(consumer))).triage;
  }

  async message(consumer: string, messageId: string, reveal: boolean): Promise<MessageDetail> {
    const cache = await this.triageFor(this.known(consumer));
    const message = cache.messages.get(messageId);
    if (!message)
      throw new ConsoleError(`message ${messageId} is not in the DLQ of ${consumer} (any more)`, 404);
    // Masking is linear, and then only the first viewChars are sent: a 1 MiB body costs the
    // console milliseconds and the page one bounded <pre>.
    const limit = this.options.viewChars ?? 65_536;
    const mask = (text: string) => cut(reveal ? text : maskPersonalText(text), limit);
    const body = message.bodyOmitted
      ? "(body not kept: over the console's memory budget; `courier dlq peek` prints it)"
      : displayBody(message.body, reveal);
    return {
      ...summarize(message),
      reason: mask(message.reason),
      consumer,
      errorClass: message.errorClass,
      cause: message.cause,
      ...(message.failure
        ? {
            failure: {
              errorClass: message.failure.errorClass,
              message: mask(message.failure.message),
              kind: message.failure.kind,
              receiveCount: message.failure.receiveCount,
              failedAt: message.failure.failedAt,
              messageId: message.failure.messageId,
            },
          }
        : {}),
      ...(message.lineage ? { lineage: message.lineage } : {}),
      attributes: Object.fromEntries(Object.entries(message.attributes).map(([k, v]) => [k, mask(v)])),
      body: cut(body, limit),
      masked: !reveal,
      ...(body.length > limit ? { truncated: { shownChars: limit, totalChars: body.length } } : {}),
      ...(message.bodyOmitted ? { bodyOmitted: true } : {}),
    };
  }

  private known(consumer: string): string {
    return this.deployed(consumer).name;
  }

  /** A consumer of the stack the console serves; 404 for any other name. */
  private deployed(consumer: string): DeployedConsumer {
    const { consumers } = this.options.topology;
    const deployed = Object.hasOwn(consumers, consumer) ? consumers[consumer] : undefined;
    if (!deployed) throw new ConsoleError(`unknown consumer "${consumer}"`, 404);
    return deployed;
  }

  private get maxRedrives(): number {
    return this.options.maxRedrives ?? this.options.topology.manifest.redrive.maxRedrives;
  }

  /**
   * Reads a DLQ again when its depth moved since the last grouping, or the grouping is old; never
   * while a job works on that DLQ (a peek hides messages for a moment, which a mover would miss).
   */
  private async triageFor(consumer: string): Promise<TriageCache> {
    const cached = this.triageCache.get(consumer);
    if (cached && this.running.has(consumer)) return cached;
    const overview = await this.overview();
    const card = overview.consumers.find((c) => c.name === consumer);
    const depth = card ? card.dlq.visible + card.dlq.inFlight + card.dlq.delayed : -1;
    const maxAge = this.options.triageMaxAgeMs ?? 30_000;
    const age = cached ? Date.now() - cached.at : Number.POSITIVE_INFINITY;
    // Fewer read than the depth: some were in flight (another reader held them); look again soon.
    const short = cached ? cached.triage.sampled < Math.min(depth, cached.triage.limit) : true;
    if (cached && cached.depth === depth && age < (short ? 3_000 : maxAge)) return cached;
    let read = this.triageReads.get(consumer);
    if (!read) {
      read = this.readTriage(consumer, depth).finally(() => this.triageReads.delete(consumer));
      this.triageReads.set(consumer, read);
    }
    return read;
  }

  private async readTriage(consumer: string, depth: number): Promise<TriageCache> {
    const limit = this.options.triageLimit ?? 500;
    const budget = this.options.triageCacheBytes ?? 32 * 1024 * 1024;
    const result = await peekDlq({
      sqs: this.options.sqs,
      dlqUrl: this.deployed(consumer).dlqUrl,
      max: limit,
      sourceMaxReceiveCount: this.deployed(consumer).maxReceiveCount,
      // Long enough to read `limit` messages; they are released at the end.
      visibilityTimeoutSeconds: 60,
      stopAtDepth: true,
      keepBytes: budget,
    });
    const bytes = result.messages.reduce(
      (n, m) =>
        n +
        Buffer.byteLength(m.body) +
        Object.values(m.attributes).reduce((a, v) => a + Buffer.byteLength(v), 0),
      0,
    );
    const entry: TriageCache = {
      at: Date.now(),
      bytes,
      depth,
      messages: new Map(result.messages.map((m) => [m.messageId, m])),
      triage: {
        consumer,
        sampledAt: new Date().toISOString(),
        approximateDepth: result.approximateDepth,
        sampled: result.messages.length,
        limit,
        groups: groupByCause(result.messages),
      },
    };
    this.triageCache.delete(consumer);
    this.triageCache.set(consumer, entry);
    this.evictTriage(budget);
    return entry;
  }

  /** Forgets the least recently read DLQs (Map order is insertion order) until the cache fits. */
  private evictTriage(budget: number): void {
    let total = [...this.triageCache.values()].reduce((n, e) => n + e.bytes, 0);
    for (const [consumer, entry] of this.triageCache) {
      if (total <= budget || this.triageCache.size === 1) break;
      this.triageCache.delete(consumer);
      total -= entry.bytes;
    }
  }

  /** Body and attribute bytes the triage cache holds now (tests, and the budget's own check). */
  get triageCacheBytes(): number {
    return [...this.triageCache.values()].reduce((n, e) => n + e.bytes, 0);
  }

  job(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw new ConsoleError(`no job ${id}`, 404);
    return job;
  }

  /** Each archived topic's messages, objects, size and oldest message (one listing per topic). */
  async archive(): Promise<ArchiveOverview> {
    const maxAge = this.options.archiveMaxAgeMs ?? 10_000;
    if (this.archiveCache && Date.now() - this.archiveCache.at < maxAge) return this.archiveCache.value;
    const sampledAt = new Date().toISOString();
    const s3 = this.options.s3;
    if (!s3) return { sampledAt, topics: [], error: "this console was started without an S3 client" };
    let value: ArchiveOverview;
    try {
      const topics = await Promise.all(
        archivedTopics(this.options.topology).map(async ({ topic, archive }) => ({
          ...(await archiveStats({ s3, bucket: archive.bucket, topic })),
          retentionDays: archive.retentionDays,
          ...(archive.subject ? { subject: archive.subject } : {}),
        })),
      );
      value = {
        sampledAt,
        topics: topics.map(({ newest: _newest, ...card }) => card),
      };
    } catch (error) {
      value = { sampledAt, topics: [], error: `the archive could not be read: ${(error as Error).message}` };
    }
    this.archiveCache = { at: Date.now(), value };
    return value;
  }

  /**
   * A replay's dry run (answered done at once) or run (a job the page polls), with redrive's
   * guards: refused read-only; one at a time per consumer; a run only for the count the operator
   * was shown by its dry run and typed back (the plan is computed again and must match).
   */
  async startReplay(request: ReplayRequest): Promise<ReplayJob> {
    if (!request.dryRun && this.options.readOnly) throw new ConsoleError("the console runs --read-only", 403);
    const consumer = this.known(request.consumer);
    const s3 = this.options.s3;
    if (!s3) throw new ConsoleError("this console was started without an S3 client: no replay", 400);
    let sources: ReturnType<typeof replaySourcesOf>;
    let window: { from: Date; to: Date };
    try {
      sources = replaySourcesOf(this.options.topology, consumer, s3);
      const now = new Date();
      window = {
        from: parseReplayTime(request.from, now),
        to: request.to ? parseReplayTime(request.to, now) : now,
      };
    } catch (error) {
      if (error instanceof NoArchiveError || error instanceof ReplayTimeError) {
        throw new ConsoleError(error.message, 400);
      }
      throw error;
    }
    if (window.from.getTime() >= window.to.getTime()) throw new ConsoleError("from must be before to", 400);
    if (this.replaying.has(consumer)) {
      throw new ConsoleError(`a replay to ${consumer} is already running; wait for it`, 409);
    }
    this.replaying.add(consumer);
    const id = randomUUID();
    const base = {
      id,
      consumer,
      topic: sources.target.topic,
      dryRun: request.dryRun,
      reprocess: request.reprocess,
      from: window.from.toISOString(),
      to: window.to.toISOString(),
      startedAt: new Date().toISOString(),
    };
    let plan: ReplayPlan;
    try {
      plan = await planReplay(sources, window);
      if (!request.dryRun && request.confirmCount !== plan.toSend) {
        throw new ConsoleError(
          `typed ${request.confirmCount ?? "nothing"}, but the replay would send ${plan.toSend} message(s); run the dry run and type its count`,
          400,
        );
      }
    } catch (error) {
      this.replaying.delete(consumer);
      throw error;
    }
    const planView = planViewOf(plan);
    if (request.dryRun) {
      this.replaying.delete(consumer);
      const job: ReplayJob = {
        ...base,
        state: "done",
        plan: planView,
        sent: 0,
        total: plan.toSend,
        finishedAt: new Date().toISOString(),
      };
      this.replays.set(id, job);
      return job;
    }
    this.replays.set(id, { ...base, state: "running", plan: planView, sent: 0, total: plan.toSend });
    const update = (patch: Partial<ReplayJob>) => {
      const current = this.replays.get(id);
      if (current) this.replays.set(id, { ...current, ...patch });
    };
    void replay({
      ...sources,
      sqs: this.options.sqs,
      window,
      reprocess: request.reprocess,
      onProgress: (p) => update({ sent: p.sent, total: p.total, runId: p.runId }),
    })
      .then((summary) =>
        update({
          state: summary.done ? "done" : "failed",
          sent: summary.sent,
          runId: summary.runId,
          ...(summary.done
            ? {}
            : { error: `stopped early: resume with courier replay ${consumer} --resume ${summary.runId}` }),
          finishedAt: new Date().toISOString(),
        }),
      )
      .catch((error: unknown) =>
        update({ state: "failed", error: (error as Error).message, finishedAt: new Date().toISOString() }),
      )
      .finally(() => {
        this.replaying.delete(consumer);
        this.overviewCache = undefined;
      });
    return this.replayJob(id);
  }

  replayJob(id: string): ReplayJob {
    const job = this.replays.get(id);
    if (!job) throw new ConsoleError(`no replay ${id}`, 404);
    return job;
  }

  /** Starts a redrive or delete and returns its job at once; the page polls it for progress. */
  async start(request: ActionRequest): Promise<Job> {
    if (this.options.readOnly) throw new ConsoleError("the console runs --read-only", 403);
    const consumer = this.known(request.consumer);
    if (this.running.has(consumer)) {
      throw new ConsoleError(`a job is already running on the DLQ of ${consumer}; wait for it`, 409);
    }
    // Claimed before the first await: two requests arriving together cannot both pass the check
    // above (they did: two deletes of 500 confirmed each, together deleting 801).
    const controller = new AbortController();
    this.running.set(consumer, controller);
    let selected: readonly PeekedMessage[];
    try {
      // A triage read in flight hides the messages it peeked for a while: a mover started now
      // would find them missing and report done early (120 of 301 moved). Let it finish first.
      await this.triageReads.get(consumer)?.catch(() => undefined);
      selected = await this.selectedMessages(consumer, request.selection);
      if (request.action === "delete" && request.confirmCount !== selected.length) {
        throw new ConsoleError(
          `typed ${request.confirmCount}, but the selection holds ${selected.length} message(s); type that count to delete`,
          400,
        );
      }
    } catch (error) {
      this.running.delete(consumer);
      throw error;
    }
    const filter = filterOf(request.selection);
    const id = randomUUID();
    const update = (patch: Partial<Job>) => {
      const current = this.jobs.get(id);
      if (current) this.jobs.set(id, { ...current, ...patch });
    };
    this.jobs.set(id, {
      id,
      action: request.action,
      consumer,
      dryRun: request.action === "redrive" && request.dryRun,
      selection: describeSelection(request.selection),
      state: "running",
      progress: { received: 0, total: 0, moved: 0, deleted: 0, skipped: 0, quarantined: 0, failed: 0 },
      startedAt: new Date().toISOString(),
    });
    const run = async () => {
      if (request.action === "redrive") {
        const summary = await runRedriveRequest(
          { consumer, mode: "selective", dryRun: request.dryRun, ...selectionFields(request.selection) },
          {
            sqs: this.options.sqs,
            pairs: redrivePairsFromTopology(this.options.topology),
            maxRedrives: this.maxRedrives,
            includeItems: true,
            signal: controller.signal,
            onProgress: (p) => {
              if ("received" in p) update({ progress: { ...p, deleted: 0 } });
            },
          },
        );
        const items: JobItem[] =
          "items" in summary && summary.items
            ? summary.items
                .filter((i) => i.action !== "skipped")
                .slice(0, MAX_JOB_ITEMS)
                .map((i) => ({
                  messageId: i.messageId,
                  action: i.action,
                  ...(i.type ? { type: i.type } : {}),
                  ...(i.eventId ? { eventId: i.eventId } : {}),
                  ...(i.reason ? { reason: maskPersonalText(i.reason) } : {}),
                }))
            : [];
        const previous = this.jobs.get(id)?.progress;
        const progress: JobProgress = {
          received: previous?.received ?? 0,
          total: previous?.total ?? 0,
          moved: summary.moved,
          deleted: 0,
          skipped: summary.skipped,
          quarantined: summary.quarantined,
          failed: summary.failed,
        };
        const outcome = outcomeOf(
          selected,
          "items" in summary && summary.items ? summary.items : [],
          request.dryRun,
        );
        update({ state: "done", progress, items, outcome, finishedAt: new Date().toISOString() });
      } else {
        const summary = await discardSelectively({
          sqs: this.options.sqs,
          dlqUrl: this.deployed(consumer).dlqUrl,
          filter,
          max: request.confirmCount,
          signal: controller.signal,
          onProgress: (p) => update({ progress: { ...p, moved: 0, quarantined: 0 } }),
        });
        update({
          state: "done",
          progress: { ...summary, moved: 0, quarantined: 0 },
          outcome: deleteOutcome(selected, summary.deleted, summary.failed),
          finishedAt: new Date().toISOString(),
        });
      }
    };
    void run()
      .catch((error: unknown) =>
        update({ state: "failed", error: (error as Error).message, finishedAt: new Date().toISOString() }),
      )
      .finally(() => {
        this.running.delete(consumer);
        // The DLQ changed: group it again on the next look.
        this.triageCache.delete(consumer);
        this.overviewCache = undefined;
      });
    return this.job(id);
  }

  /** The messages a selection holds in the grouping the operator was shown. */
  private async selectedMessages(consumer: string, selection: Selection): Promise<PeekedMessage[]> {
    const cache = await this.triageFor(consumer);
    if ("cause" in selection) return [...cache.messages.values()].filter((m) => m.cause === selection.cause);
    return selection.messageIds.flatMap((id) => {
      const message = cache.messages.get(id);
      return message ? [message] : [];
    });
  }

  /** Stops running jobs after their batch in hand. */
  async close(): Promise<void> {
    for (const controller of this.running.values()) controller.abort();
  }
}

/** Cuts text to `limit` characters, saying how much was left out. */
function cut(text: string, limit: number): string {
  return text.length <= limit
    ? text
    : `${text.slice(0, limit)}\n… ${text.length - limit} more characters not shown`;
}

/** A replay plan as the page shows it: its counts, without the consumer, topic and window it echoes. */
function planViewOf(plan: ReplayPlan): ReplayPlanView {
  return {
    archived: plan.archived,
    toSend: plan.toSend,
    filteredOut: plan.filteredOut,
    otherTypes: plan.otherTypes,
    erased: plan.erased,
    byType: plan.byType,
    byDay: plan.byDay,
  };
}

/** A redrive's outcome against the selection: per selected message, what the mover did to it. */
export function outcomeOf(
  selected: readonly PeekedMessage[],
  items: readonly { readonly messageId: string; readonly action: string }[],
  dryRun: boolean,
): JobOutcome {
  const actions = new Map(items.map((i) => [i.messageId, i.action]));
  const count = (action: string) => selected.filter((m) => actions.get(m.messageId) === action).length;
  const done = count("moved");
  const quarantined = count("quarantined");
  const failed = count("failed");
  const unreached = selected.filter((m) => {
    const action = actions.get(m.messageId);
    return action !== "moved" && action !== "quarantined" && action !== "failed";
  });
  return outcome(selected.length, done, quarantined, failed, unreached, dryRun ? "would move" : "moved");
}

/** A delete's outcome: the discarder counts, it does not list. */
export function deleteOutcome(
  selected: readonly PeekedMessage[],
  deleted: number,
  failed: number,
): JobOutcome {
  const notReached = Math.max(0, selected.length - deleted - failed);
  return {
    ...outcome(selected.length, deleted, 0, failed, [], "deleted"),
    notReached,
    left: notReached + failed,
    text: `deleted ${deleted} of ${selected.length}${
      notReached + failed > 0
        ? `; ${notReached + failed} left: ${failed} failed, ${notReached} not reached`
        : ""
    }`,
  };
}

function outcome(
  selected: number,
  done: number,
  quarantined: number,
  failed: number,
  unreached: readonly PeekedMessage[],
  verb: string,
): JobOutcome {
  const left = quarantined + failed + unreached.length;
  const groups = [...new Set(unreached.flatMap((m) => (m.groupId ? [m.groupId] : [])))];
  const parts = [
    quarantined ? `${quarantined} quarantined` : "",
    failed ? `${failed} failed` : "",
    unreached.length ? `${unreached.length} not reached` : "",
  ].filter(Boolean);
  const groupText = groups.length
    ? ` (FIFO groups ${groups.slice(0, MAX_GROUPS_NOT_REACHED).join(", ")}${groups.length > MAX_GROUPS_NOT_REACHED ? ", …" : ""})`
    : "";
  return {
    selected,
    done,
    left,
    quarantined,
    failed,
    notReached: unreached.length,
    ...(groups.length ? { groupsNotReached: groups.slice(0, MAX_GROUPS_NOT_REACHED) } : {}),
    text: `${verb} ${done} of ${selected}${left > 0 ? `; ${left} left: ${parts.join(", ")}${groupText}` : ""}`,
  };
}

function filterOf(selection: Selection): RedriveFilter {
  return "cause" in selection ? { cause: selection.cause } : { messageIds: selection.messageIds };
}

function selectionFields(selection: Selection): { cause: string } | { messageIds: string[] } {
  return "cause" in selection ? { cause: selection.cause } : { messageIds: [...selection.messageIds] };
}

function describeSelection(selection: Selection): string {
  return "cause" in selection
    ? `cause ${selection.cause}`
    : `${selection.messageIds.length} chosen message(s)`;
}

/** Error messages and log lines may quote an address or a number: masked, as DLQ bodies are. */
function maskJourney(journey: MessageJourney): MessageJourney {
  return {
    ...journey,
    messages: journey.messages.map((m) => ({
      ...m,
      deliveries: m.deliveries.map((d) => ({
        ...d,
        state: maskPersonalText(d.state),
        attempts: d.attempts.map((a) => ({
          ...a,
          ...(a.errorMessage ? { errorMessage: maskPersonalText(a.errorMessage) } : {}),
          sideEffects: a.sideEffects.map((e) => ({
            ...e,
            ...(e.error ? { error: maskPersonalText(e.error) } : {}),
          })),
        })),
      })),
      logLines: m.logLines.map((l) => ({ ...l, message: maskPersonalText(l.message) })),
    })),
  };
}
