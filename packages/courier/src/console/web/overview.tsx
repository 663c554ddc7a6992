/** The system at a glance: each topic, its subscriptions (with filters), queues, consumers and DLQs. */
import { useState } from "preact/hooks";
import type { ArchiveCard, ArchiveOverview, ConsumerCard, Overview } from "../api.ts";
import { age, rate } from "./format.ts";
import { ReplayPanel } from "./replay.tsx";

function Figure(props: { label: string; value: string | number; tone?: "warn" | "bad" | undefined }) {
  return (
    <div class={`figure${props.tone ? ` ${props.tone}` : ""}`}>
      <dt class="figure-label">{props.label}</dt>
      <dd class="figure-value">{props.value}</dd>
    </div>
  );
}

function filterText(policy: ConsumerCard["filterPolicy"]): string {
  if (!policy) return "every message";
  return Object.entries(policy)
    .map(([name, values]) => `${name} = ${values.join(" | ")}`)
    .join(", ");
}

function dlqDepth(c: ConsumerCard): number {
  return c.dlq.visible + c.dlq.inFlight + c.dlq.delayed;
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** A topic's archive: what `courier replay` can re-read. */
function ArchiveFigures(props: { archive: ArchiveCard | undefined; error?: string | undefined }) {
  const a = props.archive;
  if (!a) return <p class="quiet archive">{props.error ? `archive: ${props.error}` : "no archive"}</p>;
  return (
    <div class="node archive" data-archive={a.topic}>
      <span class="kind">archive (keeps {a.retentionDays} days)</span>
      <dl class="figures">
        <Figure label="messages" value={a.messages} />
        <Figure label="oldest" value={a.oldest ? a.oldest.replace("T", " ").slice(0, 16) : "–"} />
        <Figure label="size" value={size(a.bytes)} />
      </dl>
    </div>
  );
}

function ConsumerRow(props: {
  consumer: ConsumerCard;
  onOpenDlq: (name: string) => void;
  onReplay?: ((name: string) => void) | undefined;
}) {
  const c = props.consumer;
  const dead = dlqDepth(c);
  return (
    <li class="lane" data-consumer={c.name}>
      <div class="node subscription" title="SNS subscription">
        <span class="kind">subscription</span>
        <span class="filter">{filterText(c.filterPolicy)}</span>
      </div>
      <span class="arrow" aria-hidden="true">
        →
      </span>
      <div class="node queue">
        <span class="kind">queue</span>
        <span class="name">{c.queueName}</span>
        <dl class="figures">
          <Figure label="queued" value={c.queue.visible} />
          <Figure label="in flight" value={c.queue.inFlight} />
          <Figure label="delayed" value={c.queue.delayed} />
          <Figure
            label="oldest"
            value={c.queue.visible + c.queue.inFlight === 0 ? "–" : age(c.oldestAgeSeconds)}
          />
        </dl>
      </div>
      <span class="arrow" aria-hidden="true">
        →
      </span>
      <div class={`node consumer${c.paused ? " paused" : ""}`}>
        <span class="kind">consumer</span>
        <h3 class="name">
          {c.name}
          {c.paused ? <span class="badge">paused</span> : null}
        </h3>
        <p class="description">{c.description}</p>
        {c.tenants ? <Tenants tenants={c.tenants} /> : null}
        <dl class="figures">
          <Figure label="processed" value={rate(c.rates.processedPerMinute)} />
          <Figure
            label="retried"
            value={rate(c.rates.retriedPerMinute)}
            tone={(c.rates.retriedPerMinute ?? 0) > 0 ? "warn" : undefined}
          />
          <Figure
            label="dead-lettered"
            value={rate(c.rates.deadLetteredPerMinute)}
            tone={(c.rates.deadLetteredPerMinute ?? 0) > 0 ? "bad" : undefined}
          />
        </dl>
      </div>
      <span class="arrow" aria-hidden="true">
        ⇢
      </span>
      <div class={`node dlq${dead > 0 ? " has-dead" : ""}`}>
        <span class="kind">dead-letter queue</span>
        <dl class="figures">
          <Figure label="messages" value={dead} tone={dead > 0 ? "bad" : undefined} />
          <Figure label="oldest" value={dead === 0 ? "–" : age(c.dlqOldestAgeSeconds)} />
        </dl>
        {dead > 0 ? (
          <button type="button" class="link" onClick={() => props.onOpenDlq(c.name)}>
            Triage {dead} dead letter{dead === 1 ? "" : "s"}
          </button>
        ) : (
          <span class="quiet">after {c.maxReceiveCount} receives</span>
        )}
        {props.onReplay ? (
          <button type="button" class="link" onClick={() => props.onReplay?.(c.name)}>
            Replay history…
          </button>
        ) : null}
      </div>
    </li>
  );
}

export function OverviewView(props: {
  overview: Overview;
  archive?: ArchiveOverview | undefined;
  onOpenDlq: (name: string) => void;
}) {
  const { overview } = props;
  const [replaying, setReplaying] = useState<string | undefined>(undefined);
  const byName = new Map(overview.consumers.map((c) => [c.name, c]));
  const archives = new Map((props.archive?.topics ?? []).map((a) => [a.topic, a]));
  return (
    <section aria-labelledby="topology-heading">
      <h2 id="topology-heading">Topology</h2>
      {overview.topics.map((topic) => (
        <article class="topic" key={topic.name} aria-labelledby={`topic-${topic.name}`}>
          <header class="topic-head">
            <span class="kind">SNS topic</span>
            <h3 id={`topic-${topic.name}`}>{topic.name}</h3>
            <span class="type">{topic.messageType}</span>
            <p class="description">{topic.description}</p>
            {props.archive ? (
              <ArchiveFigures archive={archives.get(topic.name)} error={props.archive.error} />
            ) : null}
          </header>
          <ul class="lanes">
            {topic.consumers.map((name) => {
              const consumer = byName.get(name);
              return consumer ? (
                <ConsumerRow
                  key={name}
                  consumer={consumer}
                  onOpenDlq={props.onOpenDlq}
                  onReplay={archives.has(topic.name) ? setReplaying : undefined}
                />
              ) : null;
            })}
          </ul>
          {replaying && topic.consumers.includes(replaying) ? (
            <ReplayPanel
              consumer={replaying}
              readOnly={overview.readOnly}
              onClose={() => setReplaying(undefined)}
            />
          ) : null}
        </article>
      ))}
      <p class="note">Rates: {overview.ratesNote}.</p>
    </section>
  );
}

/** A consumer of a topic with tenants: the noisy ones (from the runtime's metric) and the held ones. */
function Tenants({ tenants }: { tenants: NonNullable<ConsumerCard["tenants"]> }) {
  const noisy =
    tenants.noisy === null
      ? "unknown"
      : tenants.noisy.length === 0
        ? "none"
        : tenants.noisy
            .map(
              (t) =>
                `${t.tenant} (${t.processed}${t.p95DwellMs === null ? "" : `, p95 ${Math.round(t.p95DwellMs / 100) / 10} s`})`,
            )
            .join(", ");
  return (
    <p class="tenants" data-noisy-tenants={tenants.noisy?.map((t) => t.tenant).join(" ") ?? ""}>
      <span>noisy tenants (15 min): {noisy}</span>
      {tenants.held.map((h) => (
        <span class="badge" key={h.tenant}>
          {h.tenant} {h.state}
        </span>
      ))}
    </p>
  );
}
