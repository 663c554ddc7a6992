/**
 * "Find a message": an eventId or a correlation id in, the message's journey out (the same
 * `traceMessage` answer `courier trace` prints): published when, each consumer's attempts with
 * outcome and duration and the calls under them, DLQ or redrive, log lines, and what is missing.
 */
import { useEffect, useState } from "preact/hooks";
import type { Attempt, Delivery, MessageJourney, MessageTrail, Redrive } from "../api.ts";
import { get } from "./api-client.ts";

function ms(value: number): string {
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
}

function time(iso: string): string {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? new Date(t).toISOString().replace("T", " ").replace("Z", " UTC") : iso;
}

function stateTone(state: string): "good" | "bad" | "warn" | undefined {
  if (state === "processed") return "good";
  if (state.startsWith("in the dead-letter queue") || state.startsWith("dead-lettering failed")) return "bad";
  if (state.startsWith("retrying") || state.startsWith("redriven") || state.startsWith("no attempt"))
    return "warn";
  return undefined;
}

function AttemptRow(props: { attempt: Attempt }) {
  const a = props.attempt;
  const detail =
    a.outcome === "retried"
      ? `${a.errorClass ?? "error"}${a.errorMessage ? `: ${a.errorMessage}` : ""} — retry after ${a.retryDelaySeconds ?? "?"} s`
      : a.outcome === "dead-lettered"
        ? `${a.deadLetterReason ?? "?"}: ${a.errorClass ?? "?"}${a.errorMessage ? `: ${a.errorMessage}` : ""}`
        : "";
  return (
    <li class={`step attempt ${a.outcome}`} data-outcome={a.outcome}>
      <span class="when">{time(a.at)}</span>
      <span class="what">
        attempt{a.receiveCount !== undefined ? ` ${a.receiveCount}` : ""} on <code>{a.queue}</code>:{" "}
        <strong>{a.outcome}</strong>
        {detail ? <span class="why"> ({detail})</span> : null}
      </span>
      <span class="took">{ms(a.durationMs)}</span>
      {a.sideEffects.length > 0 ? (
        <ul class="side-effects">
          {a.sideEffects.map((s) => (
            <li key={`${s.name}-${s.at}`} class={s.error ? "failed" : undefined}>
              <code>{s.name}</code> {ms(s.durationMs)}
              {s.error ? <span class="why"> failed: {s.error}</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
    </li>
  );
}

function RedriveRow(props: { redrive: Redrive }) {
  const r = props.redrive;
  return (
    <li class="step redrive">
      <span class="when">{time(r.at)}</span>
      <span class="what">
        {r.source === "archive" ? (
          <>
            <strong>replayed</strong> from the archive
          </>
        ) : (
          <>
            <strong>redriven</strong> from the {r.source === "subscription-dlq" ? "subscription DLQ" : "DLQ"}
          </>
        )}{" "}
        to <code>{r.queue}</code>
        {r.newMessageId ? ` as ${r.newMessageId}` : ""}
        {r.redriveCount !== undefined ? ` (redrive ${r.redriveCount})` : ""}
        {r.error ? <span class="why"> failed: {r.error}</span> : null}
      </span>
    </li>
  );
}

function DeliveryCard(props: { delivery: Delivery }) {
  const d = props.delivery;
  const steps = [
    ...d.attempts.map((attempt) => ({ at: attempt.at, attempt })),
    ...d.redrives.map((redrive) => ({ at: redrive.at, redrive })),
  ].sort((a, b) => a.at.localeCompare(b.at));
  const tone = stateTone(d.state);
  return (
    <section class="delivery" data-consumer={d.consumer} aria-label={`${d.consumer}: ${d.state}`}>
      <h4>
        {d.consumer} <span class={`state${tone ? ` ${tone}` : ""}`}>{d.state}</span>
      </h4>
      {steps.length > 0 ? (
        <ol class="steps">
          {steps.map((s) =>
            "attempt" in s && s.attempt ? (
              <AttemptRow key={`a-${s.at}`} attempt={s.attempt} />
            ) : "redrive" in s && s.redrive ? (
              <RedriveRow key={`r-${s.at}`} redrive={s.redrive} />
            ) : null,
          )}
        </ol>
      ) : null}
    </section>
  );
}

function Trail(props: { message: MessageTrail }) {
  const m = props.message;
  return (
    <article class="trail" data-event-id={m.eventId}>
      <h3>
        <code>{m.eventId}</code>
        {m.type ? <span class="badge">{m.type}</span> : null}
      </h3>
      <p class="ids">
        {m.correlationId ? (
          <>
            correlation id <code>{m.correlationId}</code>
          </>
        ) : null}
        {m.traceIds.length > 0 ? (
          <>
            {" "}
            · {m.traceIds.length === 1 ? "trace" : "traces"}{" "}
            {m.traceIds.map((t, i) => (
              <span key={t}>
                {i > 0 ? ", " : ""}
                <code>{t}</code>
              </span>
            ))}
          </>
        ) : null}
      </p>
      <ol class="steps published">
        {m.published.map((p) => (
          <li class="step publish" key={p.at}>
            <span class="when">{time(p.at)}</span>
            <span class="what">
              <strong>published</strong> to <code>{p.topic}</code>
              {p.service ? ` by ${p.service}` : ""}
              {p.snsMessageId ? ` (SNS ${p.snsMessageId})` : ""}
              {p.error ? <span class="why"> failed: {p.error}</span> : null}
            </span>
            <span class="took">{ms(p.durationMs)}</span>
          </li>
        ))}
      </ol>
      {m.deliveries.map((d) => (
        <DeliveryCard key={d.consumer} delivery={d} />
      ))}
      {m.gaps.length > 0 ? (
        <ul class="gaps" aria-label="What is missing">
          {m.gaps.map((g) => (
            <li key={g}>missing: {g}</li>
          ))}
        </ul>
      ) : null}
      <details class="log-lines" open={m.logLines.length > 0 && m.logLines.length <= 20}>
        <summary>
          {m.logLines.length === 0 ? "no log lines found" : `log lines (${m.logLines.length})`}
        </summary>
        <ol>
          {m.logLines.map((l, i) => (
            <li key={`${l.at}-${i}`}>
              <span class="when">{time(l.at)}</span> <span class="source">{l.source}</span>{" "}
              {l.level ? <span class="level">{l.level}</span> : null} {l.message}
            </li>
          ))}
        </ol>
      </details>
    </article>
  );
}

export function FindMessageView(props: { initialId?: string; onSearch: (id: string) => void }) {
  const [text, setText] = useState(props.initialId ?? "");
  const [journey, setJourney] = useState<MessageJourney | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const id = props.initialId?.trim();
    if (!id) return;
    setText(id);
    setBusy(true);
    setError(undefined);
    get("GET /api/messages/:id/journey", { id })
      .then((answer) => setJourney(answer))
      .catch((e: unknown) => {
        setJourney(undefined);
        setError(e instanceof Error ? e.message : String(e));
      })
      .finally(() => setBusy(false));
  }, [props.initialId]);

  return (
    <section class="find-message">
      <h2>Find a message</h2>
      <form
        aria-label="Find a message by its eventId or correlation id"
        onSubmit={(e) => {
          e.preventDefault();
          if (text.trim()) props.onSearch(text.trim());
        }}
      >
        <label for="message-id">eventId or correlation id</label>
        <input
          id="message-id"
          name="id"
          value={text}
          onInput={(e) => setText((e.target as HTMLInputElement).value)}
          placeholder="5f0c1a52-8d0e-4a8c-9a53-2b1f5c9d7e11"
          autoComplete="off"
          spellcheck={false}
        />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Looking…" : "Find"}
        </button>
      </form>
      {error ? <p role="alert">{error}</p> : null}
      {journey ? (
        <div class="journey" aria-live="polite">
          <p class="source">
            Read from {journey.source}
            {journey.matchedBy === "correlationId"
              ? `; ${journey.messages.length} message(s) of that request`
              : ""}
            .
          </p>
          {journey.notes.map((n) => (
            <p class="note" key={n}>
              {n}
            </p>
          ))}
          {journey.messages.map((m) => (
            <Trail key={m.eventId} message={m} />
          ))}
        </div>
      ) : null}
    </section>
  );
}
