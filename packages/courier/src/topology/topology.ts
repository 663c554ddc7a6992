/**
 * A team's topology: its topics (the contracts on them) and its consumers (the topic each reads,
 * its handler module and its queue settings). `defineTopology()` checks it and fills in defaults;
 * the CDK construct renders it, the publisher and `defineConsumer()` are typed from it, and the
 * deployed stack carries a manifest of it that the CLI, the console and workers read. Nothing about
 * a queue is written twice.
 */
import type { BackoffSpec } from "../lib/consumer/backoff.ts";
import type { AnyContract } from "../lib/contracts/contract.ts";
import type { TopicOrdering, TopicSpec } from "../lib/contracts/topic-spec.ts";
import { topologyProblems } from "./topology-problems.ts";

export type { BackoffSpec, TopicOrdering, TopicSpec };

/** What a consumer's alarms fire on, beyond the oldest message's age. */
export interface ConsumerAlarmThresholds {
  /** Messages in the DLQ or in the subscription DLQ (maximum over a minute) above this. */
  readonly deadLetters: number;
  /**
   * Function errors summed over 5 minutes above this. The runtime reports a failed record as a
   * partial batch failure, not an error, so an error here is a timeout, a crash or a failed start.
   */
  readonly functionErrors: number;
  /** Throttled invocations summed over 5 minutes above this (account or reserved concurrency). */
  readonly functionThrottles: number;
  /**
   * A topic with tenants: quiet tenants' dwell time (publish to processed, p95 over a minute, three
   * minutes in a row) above this many seconds.
   */
  readonly quietTenantDwellSeconds: number;
}

/** Any dead letter, any function error, any throttle: each needs a person to look. */
export const DEFAULT_ALARM_THRESHOLDS: ConsumerAlarmThresholds = {
  deadLetters: 0,
  functionErrors: 0,
  functionThrottles: 0,
  quietTenantDwellSeconds: 300,
};

/** A consumer's queue, event source and function settings; each has a default. */
export interface ConsumerSettings {
  /** Receives before SQS moves a message to the DLQ. @default 5 (10 on a FIFO topic) */
  readonly maxReceiveCount: number;
  /** @default 10 */
  readonly batchSize: number;
  /** @default 1 (0 on a FIFO topic: Lambda's FIFO event source has no batching window) */
  readonly maxBatchingWindowSeconds: number;
  /** Lambda's SQS event source maximum concurrency (2 to 1,000); also the local poller count. @default 5 */
  readonly maxConcurrency: number;
  /** @default 30 */
  readonly timeoutSeconds: number;
  /** @default 256 */
  readonly memoryMb: number;
  /** At least 6 × timeoutSeconds (AWS guidance); checked. @default 6 × timeoutSeconds */
  readonly visibilityTimeoutSeconds: number;
  /** Delay before a failed record's next receive (exponential with full jitter). @default 2 s to 300 s (1 s to 60 s on FIFO) */
  readonly backoff: BackoffSpec;
  /** Source queue retention; the DLQ keeps 14 days, which must exceed it. @default 4 */
  readonly retentionDays: number;
  /** Alarm when the oldest message in the source queue is older than this. @default 900 */
  readonly oldestMessageAlarmSeconds: number;
}

/** Settings most consumers share; a declaration states what differs. */
export const CONSUMER_DEFAULTS: Omit<ConsumerSettings, "visibilityTimeoutSeconds"> = {
  maxReceiveCount: 5,
  batchSize: 10,
  maxBatchingWindowSeconds: 1,
  maxConcurrency: 5,
  timeoutSeconds: 30,
  memoryMb: 256,
  backoff: { baseSeconds: 2, maxSeconds: 300 },
  retentionDays: 4,
  oldestMessageAlarmSeconds: 900,
};

/**
 * Consumers of a FIFO topic: Lambda's FIFO event source takes at most 10 records a batch and no
 * batching window; a short backoff, because a retry holds its whole message group. A record
 * skipped behind its group's failure is received (and counted) without running: receives run out
 * faster than on a standard queue, so a FIFO consumer gets more of them.
 */
export const FIFO_CONSUMER_DEFAULTS: Omit<ConsumerSettings, "visibilityTimeoutSeconds"> = {
  ...CONSUMER_DEFAULTS,
  maxReceiveCount: 10,
  maxBatchingWindowSeconds: 0,
  backoff: { baseSeconds: 1, maxSeconds: 60 },
};

/** A secret the stack creates with a generated random value (letters and digits). */
export interface SecretSpec {
  readonly description: string;
  readonly length: number;
  /** Why it is rotated by hand rather than by a rotation function (acknowledges cdk-nag's SMG4). */
  readonly manualRotationReason: string;
}

/**
 * What a consumer's function needs besides its own queue and DLQ, which the construct grants and
 * puts in its environment. Anything else (a bucket of the team's, a third-party API key) the team
 * grants on the function the construct exposes (`courier.consumerFunction(name)`).
 */
export interface ConsumerNeeds {
  /** Secrets of the topology (`secrets`) the function reads: `<NAME>_SECRET_ARN` and read rights. */
  readonly secrets?: readonly string[];
  /** The stack's idempotency table (side effects once per eventId): `IDEMPOTENCY_TABLE` and item rights. */
  readonly idempotencyTable?: boolean;
  /** Packages installed into the bundle's node_modules (native modules such as sharp) rather than bundled. */
  readonly nodeModules?: readonly string[];
  /** Plain variables for the function (CDK tokens allowed); local workers get the same values. */
  readonly environment?: Readonly<Record<string, string>>;
}

/** A consumer as a team declares it: the topic, the handler module, and what differs from the defaults. */
export interface ConsumerDeclaration<Topic extends string = string> extends Partial<ConsumerSettings> {
  readonly topic: Topic;
  /** @default "<name> consumer of <topic>" */
  readonly description?: string;
  /**
   * The handler module, relative to the project root (the construct's `projectRoot`, by default
   * the directory `cdk synth` runs in); it exports `handler` (made with `defineConsumer`).
   */
  readonly handlerEntry: string;
  /** SNS filter policy on message attributes: attribute name to the allowed string values. */
  readonly filterPolicy?: Readonly<Record<string, readonly string[]>>;
  /** @default DEFAULT_ALARM_THRESHOLDS for whatever is not given */
  readonly alarms?: Partial<ConsumerAlarmThresholds>;
  /** @default - nothing besides its queue and DLQ */
  readonly needs?: ConsumerNeeds;
  /**
   * On a FIFO topic, what a permanent failure (a poison pill) does to its message group:
   * "dead-letter" sends it to the FIFO DLQ with its reason and the group goes on; "hold-group"
   * retries it with backoff like a transient failure, so the group waits behind it until its last
   * allowed receive (time for a fix to ship), and only then dead-letters it.
   * @default "dead-letter"
   */
  readonly onPermanentFailure?: "dead-letter" | "hold-group";
  /** The name, when given, must equal the consumer's key. @default the key */
  readonly name?: string;
}

/** A topic as a team declares it; `name` and `description` default from its key. */
export interface TopicDeclaration extends Omit<TopicSpec, "name" | "description" | "accepts"> {
  readonly name?: string;
  readonly description?: string;
  /** Every contract consumers accept. @default [current] */
  readonly accepts?: readonly AnyContract[];
}

/** A consumer with every setting resolved: what the construct renders and workers run. */
export interface ConsumerSpec<Topic extends string = string>
  extends ConsumerSettings,
    Omit<ConsumerDeclaration<Topic>, keyof ConsumerSettings | "name" | "description"> {
  readonly name: string;
  readonly description: string;
}

/** A whole topology with everything resolved. */
export interface TopologySpec<Topic extends string = string, Consumer extends string = string> {
  readonly topics: Readonly<Record<Topic, TopicSpec>>;
  readonly consumers: Readonly<Record<Consumer, ConsumerSpec<Topic>>>;
  readonly secrets: Readonly<Record<string, SecretSpec>>;
}

type AcceptsOf<D> = D extends { readonly accepts: infer A extends readonly AnyContract[] }
  ? A
  : D extends { readonly current: infer C extends AnyContract }
    ? readonly [C]
    : never;

/**
 * The resolved type of a declaration: the literal contracts and topic names survive, for typing.
 * A `Topology` is a `TopologySpec` (everything the construct and the tools read is there).
 */
export type Topology<
  Topics extends Readonly<Record<string, TopicDeclaration>> = Readonly<Record<string, TopicDeclaration>>,
  Consumers extends Readonly<Record<string, ConsumerDeclaration<keyof Topics & string>>> = Readonly<
    Record<string, ConsumerDeclaration<keyof Topics & string>>
  >,
> = {
  readonly topics: {
    readonly [K in keyof Topics & string]: Omit<Topics[K], "accepts" | "name" | "description"> & {
      readonly name: K;
      readonly description: string;
      readonly accepts: AcceptsOf<Topics[K]>;
    };
  };
  readonly consumers: {
    readonly [K in keyof Consumers & string]: ConsumerSpec<keyof Topics & string> & {
      readonly name: K;
      readonly topic: Consumers[K]["topic"];
    };
  };
  readonly secrets: Readonly<Record<string, SecretSpec>>;
};

/** Any topology made by `defineTopology`, whatever its names. */
export type AnyTopology = TopologySpec;

export type TopicNameOf<T extends AnyTopology> = keyof T["topics"] & string;
export type ConsumerNameOf<T extends AnyTopology> = keyof T["consumers"] & string;
/** The topic a consumer reads. */
export type TopicOfConsumer<T extends AnyTopology, N extends ConsumerNameOf<T>> = T["consumers"][N]["topic"];
/** Every contract a consumer accepts: every version its topic accepts. */
export type AcceptedContractOf<
  T extends AnyTopology,
  N extends ConsumerNameOf<T>,
> = T["topics"][TopicOfConsumer<T, N>]["accepts"][number];

export class InvalidTopologyError extends Error {
  override readonly name = "InvalidTopologyError";
  constructor(readonly problems: readonly string[]) {
    super(`invalid courier topology: ${problems.join("; ")}`);
  }
}

/**
 * Checks a team's declaration and resolves it: names and descriptions from keys, `accepts` from
 * `current`, every consumer setting from its default (FIFO defaults on an ordered topic). Throws an
 * `InvalidTopologyError` listing every problem (unknown topic, bad name, visibility timeout under 6 ×
 * the function timeout, size limits SNS refuses, ...). A wrong topic name is also a type error.
 */
export function defineTopology<
  const Topics extends Readonly<Record<string, TopicDeclaration>>,
  const Consumers extends Readonly<Record<string, ConsumerDeclaration<keyof Topics & string>>>,
>(declaration: {
  readonly topics: Topics;
  readonly consumers: Consumers;
  readonly secrets?: Readonly<Record<string, SecretSpec>>;
}): Topology<Topics, Consumers> {
  const problems: string[] = [];
  const topics: Record<string, TopicSpec> = {};
  for (const [name, topic] of Object.entries(declaration.topics)) {
    if (topic.name !== undefined && topic.name !== name) {
      problems.push(`topic "${name}": its name field says "${topic.name}"`);
    }
    topics[name] = {
      ...topic,
      name,
      description: topic.description ?? `the ${name} topic`,
      accepts: topic.accepts ?? [topic.current],
    };
  }
  const consumers: Record<string, ConsumerSpec> = {};
  for (const [name, consumer] of Object.entries(declaration.consumers)) {
    if (consumer.name !== undefined && consumer.name !== name) {
      problems.push(`consumer "${name}": its name field says "${consumer.name}"`);
    }
    const fifo = topics[consumer.topic]?.ordering !== undefined;
    const defaults = fifo ? FIFO_CONSUMER_DEFAULTS : CONSUMER_DEFAULTS;
    const timeoutSeconds = consumer.timeoutSeconds ?? defaults.timeoutSeconds;
    consumers[name] = {
      ...defaults,
      visibilityTimeoutSeconds: 6 * timeoutSeconds,
      ...stripUndefined(consumer),
      name,
      description: consumer.description ?? `${name} consumer of ${consumer.topic}`,
    } as ConsumerSpec;
  }
  const resolved = { topics, consumers, secrets: declaration.secrets ?? {} };
  problems.push(...topologyProblems(resolved));
  if (problems.length > 0) throw new InvalidTopologyError(problems);
  return resolved as unknown as Topology<Topics, Consumers>;
}

/** The thresholds a consumer's alarms use: its own where given, the defaults elsewhere. */
export function alarmThresholds(spec: Pick<ConsumerSpec, "alarms">): ConsumerAlarmThresholds {
  return { ...DEFAULT_ALARM_THRESHOLDS, ...spec.alarms };
}

/** A FIFO topic: SNS FIFO to SQS FIFO, one message group per `ordering.groupBy` value. */
export function isOrderedTopic(topic: Pick<TopicSpec, "ordering">): boolean {
  return topic.ordering !== undefined;
}

/** Looks a consumer up by name, with an error that lists the valid names. */
export function consumerSpecOf(topology: TopologySpec, name: string): ConsumerSpec {
  const spec = Object.hasOwn(topology.consumers, name) ? topology.consumers[name] : undefined;
  if (!spec) {
    throw new Error(
      `unknown consumer "${name}"; known consumers: ${Object.keys(topology.consumers).join(", ")}`,
    );
  }
  return spec;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
