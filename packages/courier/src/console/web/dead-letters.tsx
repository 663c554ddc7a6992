/**
 * Dead-letter triage: a consumer's DLQ grouped by cause, each group with its figures, a sample and
 * its messages; redrive (dry run first) or delete a group or a hand-picked set; a message's detail.
 * Every message text is rendered as text by Preact (never as HTML).
 */
import { useEffect, useState } from "preact/hooks";
import type { Job, MessageDetail, Overview, Selection, Triage, TriageGroup } from "../api.ts";
import { get, startAction } from "./api-client.ts";
import { age, plural, since } from "./format.ts";
import { usePoll } from "./use-poll.ts";

interface ActiveJob {
  readonly job: Job;
  readonly selection: Selection;
}

function JobPanel(props: {
  active: ActiveJob;
  readOnly: boolean;
  onRedrive: (selection: Selection) => void;
  onClose: () => void;
}) {
  const { job } = props.active;
  const p = job.progress;
  const done = job.state !== "running";
  const what = job.action === "delete" ? "Delete" : job.dryRun ? "Dry run of a redrive" : "Redrive";
  const value = job.action === "delete" ? p.deleted : job.dryRun ? p.received : p.moved + p.failed;
  const max = Math.max(p.total, value, 1);
  return (
    <section
      class={`job ${job.state}`}
      aria-live="polite"
      aria-labelledby="job-heading"
      data-job-state={job.state}
    >
      <h3 id="job-heading">
        {what}: {job.selection}
      </h3>
      <label class="progress">
        <span>{done ? "Finished" : "Working"}</span>
        <progress value={done ? max : value} max={max} />
      </label>
      {job.state === "failed" ? <p role="alert">Failed: {job.error}</p> : null}
      {job.action === "delete" ? (
        <p class="counts">
          deleted <strong data-count="deleted">{p.deleted}</strong>, left {p.skipped}, failed {p.failed}
        </p>
      ) : (
        <p class="counts">
          {job.dryRun ? "would move" : "moved"} <strong data-count="moved">{p.moved}</strong>, quarantined{" "}
          {p.quarantined} (redriven too often), failed {p.failed}
          {job.dryRun ? "; nothing moved yet" : ""}
        </p>
      )}
      {job.outcome ? (
        <p class={`outcome${job.outcome.left > 0 ? " partial" : ""}`} data-testid="job-outcome">
          {job.outcome.text}
        </p>
      ) : null}
      {job.dryRun && done && job.items && job.items.length > 0 ? (
        <table class="items">
          <caption>What the redrive would do</caption>
          <thead>
            <tr>
              <th scope="col">action</th>
              <th scope="col">type</th>
              <th scope="col">event id</th>
              <th scope="col">note</th>
            </tr>
          </thead>
          <tbody>
            {job.items.slice(0, 20).map((item) => (
              <tr key={item.messageId}>
                <td>{item.action === "moved" ? "move" : item.action}</td>
                <td>{item.type ?? "?"}</td>
                <td class="mono">{item.eventId ?? item.messageId}</td>
                <td>{item.reason ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <div class="actions">
        {job.dryRun && done && p.moved > 0 && !props.readOnly ? (
          <button type="button" class="primary" onClick={() => props.onRedrive(props.active.selection)}>
            Redrive {plural(p.moved, "message")} now
          </button>
        ) : null}
        {done ? (
          <button type="button" onClick={props.onClose}>
            Close
          </button>
        ) : null}
      </div>
    </section>
  );
}

function DeleteConfirm(props: { count: number; onDelete: () => void; onCancel: () => void }) {
  const [typed, setTyped] = useState("");
  const id = `confirm-${props.count}`;
  return (
    <fieldset class="confirm">
      <label id={`${id}-label`} for={id}>
        Deleting cannot be undone. Type <strong>{props.count}</strong> to delete{" "}
        {plural(props.count, "message")}:
      </label>
      <input
        id={id}
        inputMode="numeric"
        autoComplete="off"
        value={typed}
        onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
      />
      <button
        type="button"
        class="danger"
        disabled={typed.trim() !== String(props.count)}
        onClick={props.onDelete}
      >
        Delete {plural(props.count, "message")}
      </button>
      <button type="button" onClick={props.onCancel}>
        Cancel
      </button>
    </fieldset>
  );
}

function GroupCard(props: {
  group: TriageGroup;
  readOnly: boolean;
  busy: boolean;
  chosen: ReadonlySet<string>;
  onChoose: (messageId: string, on: boolean) => void;
  onPreview: (selection: Selection) => void;
  onDelete: (selection: Selection, count: number) => void;
  onOpen: (messageId: string) => void;
}) {
  const { group } = props;
  const [confirming, setConfirming] = useState(false);
  const sample = group.messages[0];
  return (
    <li class="group" data-cause={group.cause}>
      <div class="group-head">
        <span class="count">
          {group.count}
          <span class="visually-hidden"> messages</span>
        </span>
        <div>
          <h3 class="cause">{group.cause}</h3>
          <p class="meta">
            {group.types.join(", ")} · first seen {since(group.firstSeenAt, Date.now())} · last seen{" "}
            {since(group.lastSeenAt, Date.now())}
          </p>
        </div>
      </div>
      {sample ? (
        <p class="sample">
          <span class="kind">sample</span>
          {sample.reason}
        </p>
      ) : null}
      {props.readOnly ? null : (
        <div class="actions">
          <button
            type="button"
            class="primary"
            disabled={props.busy}
            onClick={() => props.onPreview({ cause: group.cause })}
          >
            Preview redrive of {plural(group.count, "message")}
          </button>
          <button
            type="button"
            class="danger-outline"
            disabled={props.busy}
            onClick={() => setConfirming(true)}
          >
            Delete…
          </button>
        </div>
      )}
      {confirming ? (
        <DeleteConfirm
          count={group.count}
          onCancel={() => setConfirming(false)}
          onDelete={() => {
            setConfirming(false);
            props.onDelete({ cause: group.cause }, group.count);
          }}
        />
      ) : null}
      <details>
        <summary>Messages ({group.count})</summary>
        <table class="messages">
          <thead>
            <tr>
              {props.readOnly ? null : (
                <th scope="col">
                  <span class="visually-hidden">choose</span>
                </th>
              )}
              <th scope="col">type</th>
              <th scope="col">event id</th>
              <th scope="col">age</th>
              <th scope="col">receives</th>
              <th scope="col">redrives</th>
              <th scope="col">
                <span class="visually-hidden">detail</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {group.messages.map((m) => (
              <tr key={m.messageId}>
                {props.readOnly ? null : (
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`choose message ${m.eventId ?? m.messageId}`}
                      checked={props.chosen.has(m.messageId)}
                      onChange={(e) => props.onChoose(m.messageId, (e.target as HTMLInputElement).checked)}
                    />
                  </td>
                )}
                <td>{m.type ?? "?"}</td>
                <td class="mono">{m.eventId ?? "?"}</td>
                <td>{age(m.ageSeconds)}</td>
                <td>{m.receiveCount}</td>
                <td>{m.redriveCount}</td>
                <td>
                  <button type="button" class="link" onClick={() => props.onOpen(m.messageId)}>
                    View<span class="visually-hidden"> message {m.eventId ?? m.messageId}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </li>
  );
}

function MessagePanel(props: { consumer: string; messageId: string; onClose: () => void }) {
  const [reveal, setReveal] = useState(false);
  const [detail, setDetail] = useState<MessageDetail | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    setError(undefined);
    get(
      "GET /api/consumers/:consumer/messages/:messageId",
      { consumer: props.consumer, messageId: props.messageId },
      reveal ? { reveal: "1" } : undefined,
    )
      .then(setDetail)
      .catch((e: Error) => setError(e.message));
  }, [props.consumer, props.messageId, reveal]);
  return (
    <aside class="detail" aria-labelledby="detail-heading">
      <header>
        <h3 id="detail-heading">Message {detail?.eventId ?? props.messageId}</h3>
        <button type="button" onClick={props.onClose}>
          Close
        </button>
      </header>
      {error ? <p role="alert">{error}</p> : null}
      {detail ? (
        <>
          <dl class="facts">
            <dt>reason</dt>
            <dd>{detail.reason}</dd>
            <dt>cause</dt>
            <dd class="mono">{detail.cause}</dd>
            <dt>type</dt>
            <dd>{detail.type ?? "?"}</dd>
            <dt>receives</dt>
            <dd>{detail.receiveCount}</dd>
            <dt>first seen</dt>
            <dd>{detail.firstSeenAt ?? "unknown"}</dd>
            <dt>redrive lineage</dt>
            <dd>
              {detail.lineage
                ? `redriven ${detail.lineage.redriveCount}×, last at ${detail.lineage.lastRedriveAt}, first dead-lettered as ${detail.lineage.originalMessageId}`
                : "never redriven"}
            </dd>
            <dt>SQS message id</dt>
            <dd class="mono">{detail.messageId}</dd>
          </dl>
          <div class="reveal">
            <span>{detail.masked ? "Personal data is masked." : "Personal data is shown."}</span>
            <button type="button" aria-pressed={reveal} onClick={() => setReveal(!reveal)}>
              {reveal ? "Mask personal data" : "Reveal personal data"}
            </button>
          </div>
          <h4>Body</h4>
          {detail.truncated ? (
            <p class="note">
              Showing the first {detail.truncated.shownChars.toLocaleString()} of{" "}
              {detail.truncated.totalChars.toLocaleString()} characters.
            </p>
          ) : null}
          <pre class="body" data-testid="message-body">
            {detail.body}
          </pre>
          <h4>Attributes</h4>
          <dl class="attributes">
            {Object.entries(detail.attributes).map(([name, value]) => (
              <div key={name}>
                <dt class="mono">{name}</dt>
                <dd class="mono">{value}</dd>
              </div>
            ))}
          </dl>
        </>
      ) : (
        <p class="loading">Loading…</p>
      )}
    </aside>
  );
}

export function DeadLettersView(props: {
  overview: Overview;
  consumer: string;
  onConsumer: (name: string) => void;
}) {
  const { overview, consumer } = props;
  const readOnly = overview.readOnly;
  const triage = usePoll<Triage>(
    () => get("GET /api/consumers/:consumer/triage", { consumer }),
    2_000,
    consumer,
  );
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [active, setActive] = useState<ActiveJob | undefined>(undefined);
  const [actionError, setActionError] = useState<string | undefined>(undefined);
  const [openMessage, setOpenMessage] = useState<string | undefined>(undefined);
  useEffect(() => {
    setChosen(new Set());
    setOpenMessage(undefined);
    setActive(undefined);
  }, [consumer]);

  const running = active?.job.state === "running";
  useEffect(() => {
    if (!active || !running) return;
    const timer = setInterval(() => {
      get("GET /api/jobs/:id", { id: active.job.id })
        .then((job) => {
          setActive({ job, selection: active.selection });
          if (job.state !== "running") triage.refresh();
        })
        .catch((e: Error) => setActionError(e.message));
    }, 400);
    return () => clearInterval(timer);
  }, [active, running, triage]);

  const act = (run: () => Promise<Job>, selection: Selection) => {
    setActionError(undefined);
    run()
      .then((job) => setActive({ job, selection }))
      .catch((e: Error) => setActionError(e.message));
  };
  const preview = (selection: Selection) =>
    act(() => startAction({ action: "redrive", consumer, selection, dryRun: true }), selection);
  const redrive = (selection: Selection) => {
    setChosen(new Set());
    act(() => startAction({ action: "redrive", consumer, selection, dryRun: false }), selection);
  };
  const remove = (selection: Selection, count: number) => {
    setChosen(new Set());
    act(() => startAction({ action: "delete", consumer, selection, confirmCount: count }), selection);
  };
  const choose = (messageId: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(messageId);
    else next.delete(messageId);
    setChosen(next);
  };
  const [confirmChosen, setConfirmChosen] = useState(false);
  const t = triage.value;

  return (
    <section aria-labelledby="dead-letters-heading">
      <h2 id="dead-letters-heading">Dead letters</h2>
      <nav class="tabs" aria-label="Consumers">
        {overview.consumers.map((c) => {
          const depth = c.dlq.visible + c.dlq.inFlight + c.dlq.delayed;
          return (
            <button
              type="button"
              key={c.name}
              aria-pressed={c.name === consumer}
              class={depth > 0 ? "has-dead" : ""}
              onClick={() => props.onConsumer(c.name)}
            >
              {c.name} <span class="pill">{depth}</span>
            </button>
          );
        })}
      </nav>
      {triage.error ? <p role="alert">Reading the DLQ failed: {triage.error}</p> : null}
      {actionError ? <p role="alert">{actionError}</p> : null}
      {active ? (
        <JobPanel
          active={active}
          readOnly={readOnly}
          onRedrive={redrive}
          onClose={() => setActive(undefined)}
        />
      ) : null}
      {!t ? (
        <p class="loading">Reading the dead-letter queue of {consumer}…</p>
      ) : (
        <>
          <p class="summary" data-testid="triage-summary">
            {t.groups.length === 0
              ? `The dead-letter queue of ${consumer} is empty.`
              : `${plural(t.sampled, "dead letter")} in ${plural(t.groups.length, "cause")}${
                  t.sampled < t.approximateDepth ? ` (grouped ${t.sampled} of ~${t.approximateDepth})` : ""
                }; read ${since(t.sampledAt, Date.now())}.`}
          </p>
          {chosen.size > 0 && !readOnly ? (
            <section class="selection-bar" aria-label="Chosen messages">
              <span>{plural(chosen.size, "message")} chosen</span>
              <button
                type="button"
                class="primary"
                disabled={running}
                onClick={() => preview({ messageIds: [...chosen] })}
              >
                Preview redrive of chosen
              </button>
              <button
                type="button"
                class="danger-outline"
                disabled={running}
                onClick={() => setConfirmChosen(true)}
              >
                Delete chosen…
              </button>
              <button type="button" onClick={() => setChosen(new Set())}>
                Clear
              </button>
              {confirmChosen ? (
                <DeleteConfirm
                  count={chosen.size}
                  onCancel={() => setConfirmChosen(false)}
                  onDelete={() => {
                    setConfirmChosen(false);
                    remove({ messageIds: [...chosen] }, chosen.size);
                  }}
                />
              ) : null}
            </section>
          ) : null}
          <div class={openMessage ? "triage with-detail" : "triage"}>
            <ul class="groups">
              {t.groups.map((group) => (
                <GroupCard
                  key={group.cause}
                  group={group}
                  readOnly={readOnly}
                  busy={running}
                  chosen={chosen}
                  onChoose={choose}
                  onPreview={preview}
                  onDelete={remove}
                  onOpen={setOpenMessage}
                />
              ))}
            </ul>
            {openMessage ? (
              <MessagePanel
                consumer={consumer}
                messageId={openMessage}
                onClose={() => setOpenMessage(undefined)}
              />
            ) : null}
          </div>
        </>
      )}
    </section>
  );
}
