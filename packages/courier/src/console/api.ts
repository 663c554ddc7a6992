/**
 * The console's HTTP API as the page and the server share it: every route with the shape of what
 * it returns, and the type of what it accepts (validated by the server with
 * `api-schema.ts`). The server's handlers are typed against
 * `ConsoleRoutes`, and the page's fetch helper takes a route key and gets the matching type back,
 * so a change on one side that the other does not follow fails `npm run build`.
 */
export interface QueueFigures {
  /** Messages available to receive. */
  readonly visible: number;
  /** Received and within their visibility timeout. */
  readonly inFlight: number;
  /** Delayed, or held back by a consumer's backoff. */
  readonly delayed: number;
}

/** Where a consumer's rates come from; see `ratesNote` in the overview. */
export type RatesSource = "courier-metrics" | "sqs-metrics" | "unavailable";

export interface ConsumerRates {
  /** Per minute, averaged over the window; null when CloudWatch gave nothing. */
  readonly processedPerMinute: number | null;
  readonly retriedPerMinute: number | null;
  readonly deadLetteredPerMinute: number | null;
  readonly source: RatesSource;
}

export interface ConsumerCard {
  readonly name: string;
  readonly description: string;
  readonly topic: string;
  /** SNS filter policy of its subscription: attribute to allowed values; absent: every message. */
  readonly filterPolicy?: Readonly<Record<string, readonly string[]>>;
  readonly maxReceiveCount: number;
  readonly queueName: string;
  readonly dlqName: string;
  readonly queue: QueueFigures;
  readonly dlq: QueueFigures;
  /** Seconds; null where the endpoint cannot tell without receiving (AWS: a CloudWatch-only figure). */
  readonly oldestAgeSeconds: number | null;
  readonly dlqOldestAgeSeconds: number | null;
  readonly rates: ConsumerRates;
  /** Absent where the stack has no notion of pausing. */
  readonly paused?: boolean;
  /** A consumer of a topic with tenants: its noisy tenants (null: unknown) and the tenants held on it. */
  readonly tenants?: {
    readonly noisy: ReadonlyArray<{ tenant: string; processed: number; p95DwellMs: number | null }> | null;
    readonly held: ReadonlyArray<{ tenant: string; state: "paused" | "quarantined"; since: string }>;
  };
}

export interface TopicCard {
  readonly name: string;
  readonly description: string;
  /** The contract's message type and version, e.g. NewAccount v1. */
  readonly messageType: string;
  readonly consumers: readonly string[];
}

export interface Overview {
  readonly stack: string;
  /** Where the stack is: "AWS (profile ops, eu-west-1)" or a LocalStack endpoint. */
  readonly endpoint: string;
  readonly readOnly: boolean;
  /** When the queue figures were read (ISO). */
  readonly sampledAt: string;
  readonly topics: readonly TopicCard[];
  readonly consumers: readonly ConsumerCard[];
  /** One sentence on where the rates come from and over which window. */
  readonly ratesNote: string;
  /** Set when the last read of the queues failed; the figures are then the last good ones. */
  readonly error?: string;
}

export interface MessageSummary {
  readonly messageId: string;
  readonly type?: string;
  readonly eventId?: string;
  readonly ageSeconds?: number;
  readonly firstSeenAt?: string;
  readonly receiveCount: number;
  readonly redriveCount: number;
  /** One line, personal data masked. */
  readonly reason: string;
}

export interface TriageGroup {
  /** Error class plus masked message: the key a redrive or delete of the group filters on. */
  readonly cause: string;
  readonly errorClass: string;
  readonly count: number;
  readonly firstSeenAt?: string;
  readonly lastSeenAt?: string;
  readonly types: readonly string[];
  readonly messages: readonly MessageSummary[];
}

export interface Triage {
  readonly consumer: string;
  readonly sampledAt: string;
  /** The DLQ's approximate depth when it was read. */
  readonly approximateDepth: number;
  /** Messages read and grouped (at most `limit`). */
  readonly sampled: number;
  readonly limit: number;
  readonly groups: readonly TriageGroup[];
}

export interface MessageDetail extends MessageSummary {
  readonly consumer: string;
  readonly errorClass: string;
  readonly cause: string;
  readonly failure?: {
    readonly errorClass: string;
    readonly message: string;
    readonly kind: string;
    readonly receiveCount: number;
    readonly failedAt: string;
    readonly messageId: string;
  };
  readonly lineage?: {
    readonly originalMessageId: string;
    readonly redriveCount: number;
    readonly lastRedriveAt: string;
  };
  readonly attributes: Readonly<Record<string, string>>;
  /** Pretty-printed when it is JSON. */
  readonly body: string;
  /** True when emails and phone numbers in body, attributes and reason are masked. */
  readonly masked: boolean;
  /** Set when the body shown was cut to the console's view limit. */
  readonly truncated?: { readonly shownChars: number; readonly totalChars: number };
  /** True when the console did not keep this body (over its memory budget): `courier dlq peek` shows it. */
  readonly bodyOmitted?: boolean;
}

/** A cause group, or a hand-picked set of DLQ MessageIds. */
export type Selection = { readonly cause: string } | { readonly messageIds: readonly string[] };

export type ActionRequest =
  | {
      readonly action: "redrive";
      readonly consumer: string;
      readonly selection: Selection;
      readonly dryRun: boolean;
    }
  | {
      readonly action: "delete";
      readonly consumer: string;
      readonly selection: Selection;
      /** The operator typed this many: it must equal the count the page showed them. */
      readonly confirmCount: number;
    };

export interface JobProgress {
  readonly received: number;
  readonly total: number;
  readonly moved: number;
  readonly deleted: number;
  readonly skipped: number;
  readonly quarantined: number;
  readonly failed: number;
}

export interface JobItem {
  readonly messageId: string;
  readonly action: string;
  readonly type?: string;
  readonly eventId?: string;
  readonly reason?: string;
}

/**
 * What a finished job did to the messages the operator selected (as the grouping shown counted
 * them), and what it left in the DLQ and why: nothing is reported done that was not.
 */
export interface JobOutcome {
  /** Messages in the selection when the job started. */
  readonly selected: number;
  /** Moved (a redrive; a dry run: would move) or deleted. */
  readonly done: number;
  /** Selected messages still in the DLQ: left = quarantined + failed + notReached. */
  readonly left: number;
  readonly quarantined: number;
  readonly failed: number;
  /** Not received by the job: in flight elsewhere, or behind a FIFO group it could not pass. */
  readonly notReached: number;
  /** FIFO message groups holding messages not reached (at most 20). */
  readonly groupsNotReached?: readonly string[];
  /** One sentence for the page: "moved 120 of 301; 181 left: 181 not reached". */
  readonly text: string;
}

export interface Job {
  readonly id: string;
  readonly action: "redrive" | "delete";
  readonly consumer: string;
  readonly dryRun: boolean;
  /** "cause: …" or "3 chosen messages". */
  readonly selection: string;
  readonly state: "running" | "done" | "failed";
  readonly progress: JobProgress;
  /** Per message (a dry run's preview), at most 200. */
  readonly items?: readonly JobItem[];
  /** Set when the job finished. */
  readonly outcome?: JobOutcome;
  readonly error?: string;
  readonly startedAt: string;
  readonly finishedAt?: string;
}

/** One topic's archive: its history for `courier replay`. */
export interface ArchiveCard {
  readonly topic: string;
  readonly retentionDays: number;
  /** The data field erasure goes by, when the topic names one. */
  readonly subject?: string;
  /** Messages as archived (a batch the archiver wrote twice after a crash counts twice). */
  readonly messages: number;
  readonly objects: number;
  readonly bytes: number;
  /** First publish time of the oldest archived batch (ISO); absent when empty. */
  readonly oldest?: string;
}

export interface ArchiveOverview {
  readonly sampledAt: string;
  readonly topics: readonly ArchiveCard[];
  /** Set when the archive could not be read (no S3 client, or a failed listing). */
  readonly error?: string;
}

/** A replay of a window of the consumer's topic's archive to its queue only. */
export interface ReplayRequest {
  readonly consumer: string;
  /** ISO 8601, or a duration ago ("30d", "2h"). */
  readonly from: string;
  /** @default now */
  readonly to?: string;
  readonly dryRun: boolean;
  readonly reprocess: boolean;
  /** A real run: the operator typed the dry run's count; it must equal what the run would send. */
  readonly confirmCount?: number;
}

export interface ReplayPlanView {
  readonly archived: number;
  readonly toSend: number;
  readonly filteredOut: number;
  readonly otherTypes: number;
  readonly erased: number;
  readonly byType: Readonly<Record<string, number>>;
  readonly byDay: Readonly<Record<string, number>>;
}

export interface ReplayJob {
  readonly id: string;
  readonly consumer: string;
  readonly topic: string;
  readonly dryRun: boolean;
  readonly reprocess: boolean;
  readonly from: string;
  readonly to: string;
  readonly state: "running" | "done" | "failed";
  readonly plan?: ReplayPlanView;
  readonly sent: number;
  readonly total: number;
  /** The run's id: `courier replay <consumer> --resume <runId>` goes on from an interrupted run. */
  readonly runId?: string;
  readonly error?: string;
  readonly startedAt: string;
  readonly finishedAt?: string;
}

export interface ApiError {
  readonly error: string;
}

/** "Find a message": what `traceMessage` answers (courier trace prints the same). */
export type {
  Attempt,
  Delivery,
  LogLine,
  MessageJourney,
  MessageTrail,
  Publication,
  Redrive,
  SideEffect,
} from "../deployment/message-trace/journey.ts";

/** Every route the page calls, with what it returns. */
export interface ConsoleRoutes {
  "GET /api/messages/:id/journey": import("../deployment/message-trace/journey.ts").MessageJourney;
  "GET /api/overview": Overview;
  "GET /api/consumers/:consumer/triage": Triage;
  "GET /api/consumers/:consumer/messages/:messageId": MessageDetail;
  "POST /api/actions": Job;
  "GET /api/jobs/:id": Job;
  "GET /api/archive": ArchiveOverview;
  "POST /api/replays": ReplayJob;
  "GET /api/replays/:id": ReplayJob;
}

/** The header that carries the token on every API request. */
export const TOKEN_HEADER = "x-courier-token";
/** The meta element through which the page learns the token (once, from the printed link). */
export const TOKEN_META = "courier-token";
/** Where the page keeps the token: localStorage is per origin, so per console port. */
export const TOKEN_STORAGE_KEY = "courier-console-token";
