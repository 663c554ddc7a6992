/**
 * A message's journey, told from its spans and log lines: published when (and by whom), delivered
 * to which consumers, each attempt with its outcome and duration and the side effects under it,
 * whether it sits in a DLQ (with the reason) or was redriven, and the log lines that name it.
 * Nothing is inferred that the data does not say: a consumer with no recorded attempt is named as
 * such, and an empty answer says where it looked.
 */
import { ATTR } from "../../lib/trace/semconv.ts";
import type { AttributeValue, SpanRecord } from "./span-types.ts";

export interface LogLine {
  /** ISO 8601. */
  readonly at: string;
  /** The consumer or function whose log it is. */
  readonly source: string;
  readonly level?: string;
  readonly message: string;
  readonly eventId?: string;
  readonly correlationId?: string;
}

export interface Publication {
  readonly at: string;
  readonly topic: string;
  readonly service?: string;
  readonly snsMessageId?: string;
  readonly durationMs: number;
  readonly error?: string;
}

export interface SideEffect {
  readonly name: string;
  readonly at: string;
  readonly durationMs: number;
  readonly error?: string;
}

export type AttemptOutcome = "processed" | "retried" | "dead-lettered" | "dead-letter-failed" | "unknown";

export interface Attempt {
  readonly at: string;
  readonly queue: string;
  readonly sqsMessageId?: string;
  readonly receiveCount?: number;
  readonly outcome: AttemptOutcome;
  readonly durationMs: number;
  readonly retryDelaySeconds?: number;
  /** permanent | exhausted */
  readonly deadLetterReason?: string;
  readonly errorClass?: string;
  readonly errorMessage?: string;
  readonly sideEffects: readonly SideEffect[];
}

export interface Redrive {
  readonly at: string;
  readonly queue: string;
  readonly newMessageId?: string;
  readonly redriveCount?: number;
  /** dlq | subscription-dlq (a redrive) | archive (a replay) */
  readonly source?: string;
  readonly error?: string;
}

export interface Delivery {
  readonly consumer: string;
  readonly attempts: readonly Attempt[];
  readonly redrives: readonly Redrive[];
  /** Where the message stands for this consumer, from the last thing recorded. */
  readonly state: string;
}

export interface MessageTrail {
  readonly eventId: string;
  readonly type?: string;
  readonly correlationId?: string;
  readonly traceIds: readonly string[];
  readonly published: readonly Publication[];
  readonly deliveries: readonly Delivery[];
  readonly logLines: readonly LogLine[];
  /** Plain statements of what is missing. */
  readonly gaps: readonly string[];
}

export interface MessageJourney {
  readonly query: string;
  readonly matchedBy: "eventId" | "correlationId" | "nothing";
  readonly source: string;
  readonly messages: readonly MessageTrail[];
  readonly notes: readonly string[];
}

export interface JourneyInput {
  readonly query: string;
  readonly spans: readonly SpanRecord[];
  readonly logLines: readonly LogLine[];
  /** Where the spans came from, said in the answer ("the spans file ...", "X-Ray in eu-west-1"). */
  readonly source: string;
  /** Each consumer's topic, to name the consumers that should have had the message. */
  readonly consumersByTopic?: Readonly<Record<string, readonly string[]>>;
  /** Said when nothing matched, or when log lines were not looked for. */
  readonly notes?: readonly string[];
}

const str = (value: AttributeValue | undefined): string | undefined =>
  typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
const num = (value: AttributeValue | undefined): number | undefined =>
  typeof value === "number" ? value : typeof value === "string" && value !== "" ? Number(value) : undefined;
const byTime = <T extends { at: string }>(a: T, b: T) => a.at.localeCompare(b.at);

function isPublish(span: SpanRecord): boolean {
  return span.kind === "producer" && span.attributes[ATTR.operationName] === "publish";
}
/** A redrive's or a replay's send back to a consumer's queue. */
function isRedrive(span: SpanRecord): boolean {
  const operation = span.attributes[ATTR.operationName];
  return span.kind === "producer" && (operation === "redrive" || operation === "replay");
}
/** A record's span: a process span that names one message (the batch's names none). */
function isRecord(span: SpanRecord): boolean {
  return span.attributes[ATTR.operationType] === "process" && span.attributes[ATTR.eventId] !== undefined;
}

function errorOf(span: SpanRecord): string | undefined {
  if (span.status !== "error") return undefined;
  return span.statusMessage ?? str(span.attributes[ATTR.errorClass]) ?? "error";
}

function outcomeOf(value: AttributeValue | undefined): AttemptOutcome {
  return value === "processed" ||
    value === "retried" ||
    value === "dead-lettered" ||
    value === "dead-letter-failed"
    ? value
    : "unknown";
}

function stateOf(attempts: readonly Attempt[], redrives: readonly Redrive[]): string {
  const last = attempts.at(-1);
  if (!last) return "no attempt recorded";
  const laterRedrive = redrives.filter((r) => !r.error && r.at >= last.at).at(-1);
  switch (last.outcome) {
    case "processed":
      return "processed";
    case "retried":
      return `retrying${last.retryDelaySeconds !== undefined ? ` (next attempt after ${last.retryDelaySeconds} s)` : ""}`;
    case "dead-lettered":
      return laterRedrive
        ? `redriven to ${laterRedrive.queue} at ${laterRedrive.at}; no attempt recorded since`
        : `in the dead-letter queue (${last.deadLetterReason ?? "reason not recorded"}: ${last.errorClass ?? "?"}${last.errorMessage ? `: ${last.errorMessage}` : ""})`;
    case "dead-letter-failed":
      return "dead-lettering failed; left on the queue for a retry";
    default:
      return "outcome not recorded";
  }
}

/** Groups the spans (and log lines) that name the query into one trail per eventId. */
export function buildJourney(input: JourneyInput): MessageJourney {
  const { query, spans } = input;
  let matchedBy: MessageJourney["matchedBy"] = "nothing";
  let eventIds = new Set<string>();
  if (spans.some((s) => s.attributes[ATTR.eventId] === query)) {
    matchedBy = "eventId";
    eventIds.add(query);
  } else {
    const byCorrelation = spans.filter((s) => s.attributes[ATTR.correlationId] === query);
    eventIds = new Set(byCorrelation.flatMap((s) => str(s.attributes[ATTR.eventId]) ?? []));
    if (eventIds.size > 0) matchedBy = "correlationId";
  }
  const notes = [...(input.notes ?? [])];
  if (matchedBy === "nothing") {
    const logged = input.logLines.filter((l) => l.eventId === query || l.correlationId === query);
    notes.unshift(
      `No span names "${query}" as an eventId or a correlation id in ${input.source}.` +
        (logged.length > 0
          ? ` ${logged.length} log line(s) name it (below); its spans may not have been exported or sampled.`
          : " The message may be older than what is kept, its trace may not have been sampled, or the id is wrong."),
    );
    if (logged.length > 0) {
      const eventId = logged.find((l) => l.eventId)?.eventId ?? query;
      return {
        query,
        matchedBy,
        source: input.source,
        notes,
        messages: [
          {
            eventId,
            traceIds: [],
            published: [],
            deliveries: [],
            logLines: [...logged].sort(byTime),
            gaps: ["no spans recorded for this message"],
          },
        ],
      };
    }
    return { query, matchedBy, source: input.source, messages: [], notes };
  }

  const childrenOf = new Map<string, SpanRecord[]>();
  for (const span of spans) {
    if (!span.parentSpanId) continue;
    const list = childrenOf.get(span.parentSpanId) ?? [];
    list.push(span);
    childrenOf.set(span.parentSpanId, list);
  }

  const messages: MessageTrail[] = [...eventIds].sort().map((eventId) => {
    const mine = spans.filter((s) => s.attributes[ATTR.eventId] === eventId);
    const published: Publication[] = mine
      .filter(isPublish)
      .map((s) => ({
        at: s.start,
        topic: str(s.attributes[ATTR.destinationName]) ?? "?",
        ...(s.service ? { service: s.service } : {}),
        ...(str(s.attributes[ATTR.messageId]) ? { snsMessageId: str(s.attributes[ATTR.messageId]) } : {}),
        durationMs: s.durationMs,
        ...(errorOf(s) ? { error: errorOf(s) } : {}),
      }))
      .sort(byTime);
    const redrivesAll = mine.filter(isRedrive);
    const attemptsByConsumer = new Map<string, Attempt[]>();
    for (const s of mine.filter(isRecord)) {
      const consumer = str(s.attributes[ATTR.consumer]) ?? "?";
      const sideEffects = (childrenOf.get(s.spanId) ?? [])
        .filter((c) => c.kind === "client")
        .map((c) => ({
          name: c.name,
          at: c.start,
          durationMs: c.durationMs,
          ...(errorOf(c) ? { error: errorOf(c) } : {}),
        }))
        .sort(byTime);
      const attempt: Attempt = {
        at: s.start,
        queue: str(s.attributes[ATTR.destinationName]) ?? "?",
        ...(str(s.attributes[ATTR.messageId]) ? { sqsMessageId: str(s.attributes[ATTR.messageId]) } : {}),
        ...(num(s.attributes[ATTR.receiveCount]) !== undefined
          ? { receiveCount: num(s.attributes[ATTR.receiveCount]) }
          : {}),
        outcome: outcomeOf(s.attributes[ATTR.outcome]),
        durationMs: s.durationMs,
        ...(num(s.attributes[ATTR.retryDelaySeconds]) !== undefined
          ? { retryDelaySeconds: num(s.attributes[ATTR.retryDelaySeconds]) }
          : {}),
        ...(str(s.attributes[ATTR.deadLetterReason])
          ? { deadLetterReason: str(s.attributes[ATTR.deadLetterReason]) }
          : {}),
        ...(str(s.attributes[ATTR.errorClass]) ? { errorClass: str(s.attributes[ATTR.errorClass]) } : {}),
        ...(str(s.attributes[ATTR.errorMessage])
          ? { errorMessage: str(s.attributes[ATTR.errorMessage]) }
          : {}),
        sideEffects,
      };
      const list = attemptsByConsumer.get(consumer) ?? [];
      list.push(attempt);
      attemptsByConsumer.set(consumer, list);
    }
    // A redrive goes to one consumer's queue: matched to the consumer whose attempts used that queue.
    const queueOwner = new Map<string, string>();
    for (const [consumer, attempts] of attemptsByConsumer)
      for (const a of attempts) queueOwner.set(a.queue, consumer);
    const redrivesByConsumer = new Map<string, Redrive[]>();
    for (const s of redrivesAll) {
      const queue = str(s.attributes[ATTR.destinationName]) ?? "?";
      const consumer = queueOwner.get(queue) ?? `(queue ${queue})`;
      const list = redrivesByConsumer.get(consumer) ?? [];
      list.push({
        at: s.start,
        queue,
        ...(str(s.attributes[ATTR.messageId]) ? { newMessageId: str(s.attributes[ATTR.messageId]) } : {}),
        ...(num(s.attributes[ATTR.redriveCount]) !== undefined
          ? { redriveCount: num(s.attributes[ATTR.redriveCount]) }
          : {}),
        ...(s.attributes[ATTR.operationName] === "replay"
          ? { source: "archive" }
          : str(s.attributes[ATTR.redriveSource])
            ? { source: str(s.attributes[ATTR.redriveSource]) }
            : {}),
        ...(errorOf(s) ? { error: errorOf(s) } : {}),
      });
      redrivesByConsumer.set(consumer, list);
    }
    // The topic from its publish, else from the consumers that had it (an untraced producer).
    const topicOf = new Map(
      Object.entries(input.consumersByTopic ?? {}).flatMap(([topic, consumers]) =>
        consumers.map((c) => [c, topic]),
      ),
    );
    const topics = new Set([
      ...published.map((p) => p.topic),
      ...[...attemptsByConsumer.keys()].flatMap((c) => topicOf.get(c) ?? []),
    ]);
    const expected = new Set<string>([...attemptsByConsumer.keys(), ...redrivesByConsumer.keys()]);
    for (const topic of topics) for (const c of input.consumersByTopic?.[topic] ?? []) expected.add(c);
    const deliveries: Delivery[] = [...expected].sort().map((consumer) => {
      const attempts = (attemptsByConsumer.get(consumer) ?? []).sort(byTime);
      const redrives = (redrivesByConsumer.get(consumer) ?? []).sort(byTime);
      return { consumer, attempts, redrives, state: stateOf(attempts, redrives) };
    });
    const correlationId = mine.map((s) => str(s.attributes[ATTR.correlationId])).find(Boolean);
    const type = mine.map((s) => str(s.attributes[ATTR.messageType])).find(Boolean);
    const gaps: string[] = [];
    if (published.length === 0)
      gaps.push("no publish recorded (the producer ran without tracing, or its span was not exported)");
    for (const d of deliveries) {
      if (d.attempts.length === 0)
        gaps.push(
          `${d.consumer}: no attempt recorded (not received yet, filtered out by its subscription, or its spans not exported)`,
        );
    }
    const logLines = input.logLines
      .filter(
        (l) =>
          l.eventId === eventId ||
          (correlationId !== undefined && l.correlationId === correlationId && !l.eventId),
      )
      .sort(byTime);
    return {
      eventId,
      ...(type ? { type } : {}),
      ...(correlationId ? { correlationId } : {}),
      traceIds: [...new Set(mine.map((s) => s.traceId))],
      published,
      deliveries,
      logLines,
      gaps,
    };
  });
  return { query, matchedBy, source: input.source, messages, notes };
}

const ms = (value: number) => `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;

/** The journey as lines for a person. */
export function formatJourney(journey: MessageJourney): string[] {
  const lines: string[] = [];
  for (const note of journey.notes) lines.push(note);
  for (const m of journey.messages) {
    if (lines.length > 0) lines.push("");
    lines.push(
      `message ${m.eventId}${m.type ? ` (${m.type})` : ""}${m.correlationId ? ` correlationId ${m.correlationId}` : ""}`,
    );
    if (m.traceIds.length > 0) lines.push(`  traces: ${m.traceIds.join(", ")}`);
    for (const p of m.published) {
      lines.push(
        `  published ${p.at} to ${p.topic}${p.service ? ` by ${p.service}` : ""}${p.snsMessageId ? ` (SNS ${p.snsMessageId})` : ""}, ${ms(p.durationMs)}${p.error ? ` FAILED: ${p.error}` : ""}`,
      );
    }
    for (const d of m.deliveries) {
      lines.push(`  ${d.consumer}: ${d.state}`);
      const events = [
        ...d.attempts.map((a) => ({ at: a.at, attempt: a })),
        ...d.redrives.map((r) => ({ at: r.at, redrive: r })),
      ].sort((a, b) => a.at.localeCompare(b.at));
      for (const e of events) {
        if ("attempt" in e && e.attempt) {
          const a = e.attempt;
          const detail =
            a.outcome === "retried"
              ? ` (${a.errorClass ?? "error"}${a.errorMessage ? `: ${a.errorMessage}` : ""}; retry after ${a.retryDelaySeconds ?? "?"} s)`
              : a.outcome === "dead-lettered"
                ? ` (${a.deadLetterReason ?? "?"}: ${a.errorClass ?? "?"}${a.errorMessage ? `: ${a.errorMessage}` : ""})`
                : "";
          lines.push(
            `    ${a.at} attempt${a.receiveCount !== undefined ? ` ${a.receiveCount}` : ""} on ${a.queue}: ${a.outcome}${detail}, ${ms(a.durationMs)}`,
          );
          for (const s of a.sideEffects) {
            lines.push(`      ${s.name} ${ms(s.durationMs)}${s.error ? ` FAILED: ${s.error}` : ""}`);
          }
        } else if ("redrive" in e && e.redrive) {
          const r = e.redrive;
          lines.push(
            `    ${r.at} ${r.source === "archive" ? "replayed from the archive" : `redriven from the ${r.source === "subscription-dlq" ? "subscription DLQ" : "DLQ"}`} to ${r.queue}${r.newMessageId ? ` as ${r.newMessageId}` : ""}${r.redriveCount !== undefined ? ` (redrive ${r.redriveCount})` : ""}${r.error ? ` FAILED: ${r.error}` : ""}`,
          );
        }
      }
    }
    for (const gap of m.gaps) lines.push(`  missing: ${gap}`);
    if (m.logLines.length > 0) {
      lines.push(`  log lines (${m.logLines.length}):`);
      for (const l of m.logLines)
        lines.push(`    ${l.at} ${l.source}${l.level ? ` ${l.level}` : ""} ${l.message}`);
    } else {
      lines.push("  log lines: none found");
    }
  }
  return lines;
}
