/**
 * What the console knows and does, apart from HTTP: reads the queues (cached a moment, so many
 * tabs cost one read), groups dead letters by cause, and runs redrives and deletes as jobs whose
 * progress the page polls. Redrives go through `runRedriveRequest`, the CLI's and the redrive
 * function's own path: same selective mover, lineage and quarantine.
 */
import { randomUUID } from "node:crypto";
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { type ConsumerStatus, consumerStatuses, type OldestAge } from "../deployment/consumer-status.ts";
import type { DeployedConsumer, DeployedTopology } from "../deployment/deployed-topology.ts";
import { redrivePairsFromTopology } from "../deployment/redrive-pairs.ts";
import { runRedriveRequest } from "../deployment/redrive-request.ts";
import { discardSelectively } from "../lib/redrive/discard.ts";
import type { RedriveFilter } from "../lib/redrive/filter.ts";
import { type PeekedMessage, peekDlq } from "../lib/redrive/peek.ts";
import type {
  ActionRequest,
  ConsumerCard,
  ConsumerRates,
  Job,
  JobItem,
  JobProgress,
  MessageDetail,
  Overview,
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
  readonly depth: number;
  readonly triage: Triage;
  readonly messages: ReadonlyMap<string, PeekedMessage>;
}

const MAX_JOB_ITEMS = 200;

export class ConsoleService {
  private overviewCache: { at: number; value: Overview } | undefined;
  private overviewRead: Promise<Overview> | undefined;
  private ratesCache: { at: number; value: Record<string, ConsumerRates> } | undefined;
  private readonly triageCache = new Map<string, TriageCache>();
  private readonly triageReads = new Map<string, Promise<TriageCache>>();
  private readonly jobs = new Map<string, Job>();
  private readonly running = new Map<string, AbortController>();

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
        consumerStatuses({ sqs: this.options.sqs, topology, oldestAge: this.oldestAge }),
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

  async triage(consumer: string): Promise<Triage> {
    return (await this.triageFor(this.known(consumer))).triage;
  }

  async message(consumer: string, messageId: string, reveal: boolean): Promise<MessageDetail> {
    const cache = await this.triageFor(this.known(consumer));
    const message = cache.messages.get(messageId);
    if (!message)
      throw new ConsoleError(`message ${messageId} is not in the DLQ of ${consumer} (any more)`, 404);
    const mask = (text: string) => (reveal ? text : maskPersonalText(text));
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
      body: displayBody(message.body, reveal),
      masked: !reveal,
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
    const result = await peekDlq({
      sqs: this.options.sqs,
      dlqUrl: this.deployed(consumer).dlqUrl,
      max: limit,
      sourceMaxReceiveCount: this.deployed(consumer).maxReceiveCount,
      // Long enough to read `limit` messages; they are released at the end.
      visibilityTimeoutSeconds: 60,
      stopAtDepth: true,
    });
    const entry: TriageCache = {
      at: Date.now(),
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
    this.triageCache.set(consumer, entry);
    return entry;
  }

  job(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw new ConsoleError(`no job ${id}`, 404);
    return job;
  }

  /** Starts a redrive or delete and returns its job at once; the page polls it for progress. */
  async start(request: ActionRequest): Promise<Job> {
    if (this.options.readOnly) throw new ConsoleError("the console runs --read-only", 403);
    const consumer = this.known(request.consumer);
    if (this.running.has(consumer)) {
      throw new ConsoleError(`a job is already running on the DLQ of ${consumer}; wait for it`, 409);
    }
    const filter = filterOf(request.selection);
    if (request.action === "delete") {
      const shown = await this.selectedCount(consumer, request.selection);
      if (request.confirmCount !== shown) {
        throw new ConsoleError(
          `typed ${request.confirmCount}, but the selection holds ${shown} message(s); type that count to delete`,
          400,
        );
      }
    }
    const id = randomUUID();
    const controller = new AbortController();
    this.running.set(consumer, controller);
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
        update({ state: "done", progress, items, finishedAt: new Date().toISOString() });
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

  /** How many messages a selection holds in the grouping the operator was shown. */
  private async selectedCount(consumer: string, selection: Selection): Promise<number> {
    const cache = await this.triageFor(consumer);
    if ("cause" in selection) return cache.triage.groups.find((g) => g.cause === selection.cause)?.count ?? 0;
    return selection.messageIds.filter((id) => cache.messages.has(id)).length;
  }

  /** Stops running jobs after their batch in hand. */
  async close(): Promise<void> {
    for (const controller of this.running.values()) controller.abort();
  }
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
