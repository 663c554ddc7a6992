/**
 * Replay from the console: a consumer's dry run (what its filter accepts in the window, by type
 * and day), then a run with redrive's guards: the count the dry run showed must be typed back, the
 * server refuses it read-only or while another replay to the consumer runs, and the run's id is
 * shown so `courier replay <consumer> --resume <runId>` can finish an interrupted one.
 */
import { useEffect, useState } from "preact/hooks";
import type { ReplayJob } from "../api.ts";
import { get, startReplay } from "./api-client.ts";
import { plural } from "./format.ts";

function counts(record: Readonly<Record<string, number>>): string {
  const entries = Object.entries(record);
  return entries.length > 0 ? entries.map(([k, n]) => `${k} ${n}`).join(", ") : "none";
}

export function ReplayPanel(props: { consumer: string; readOnly: boolean; onClose: () => void }) {
  const [from, setFrom] = useState("1d");
  const [reprocess, setReprocess] = useState(false);
  const [plan, setPlan] = useState<ReplayJob | undefined>(undefined);
  const [job, setJob] = useState<ReplayJob | undefined>(undefined);
  const [typed, setTyped] = useState("");
  const [error, setError] = useState<string | undefined>(undefined);

  useEffect(() => {
    if (!job || job.state !== "running") return;
    const timer = setInterval(() => {
      get("GET /api/replays/:id", { id: job.id }).then(setJob, (e: Error) => setError(e.message));
    }, 500);
    return () => clearInterval(timer);
  }, [job?.id, job?.state]);

  const dryRun = () => {
    setError(undefined);
    setJob(undefined);
    setTyped("");
    startReplay({ consumer: props.consumer, from, dryRun: true, reprocess }).then(setPlan, (e: Error) =>
      setError(e.message),
    );
  };
  const run = () => {
    if (!plan) return;
    setError(undefined);
    startReplay({
      consumer: props.consumer,
      from: plan.from,
      to: plan.to,
      dryRun: false,
      reprocess,
      confirmCount: Number(typed.trim()),
    }).then(setJob, (e: Error) => setError(e.message));
  };
  const toSend = plan?.plan?.toSend ?? 0;
  const id = `replay-${props.consumer}`;
  return (
    <section class="replay" aria-labelledby={`${id}-heading`} data-replay={props.consumer}>
      <h4 id={`${id}-heading`}>Replay the archive to {props.consumer} only</h4>
      <div class="actions">
        <label for={`${id}-from`}>From (ISO time, or 30d, 2h ago)</label>
        <input
          id={`${id}-from`}
          value={from}
          onInput={(e) => setFrom((e.target as HTMLInputElement).value)}
        />
        <label>
          <input
            type="checkbox"
            checked={reprocess}
            onChange={(e) => setReprocess((e.target as HTMLInputElement).checked)}
          />{" "}
          reprocess (run completed work again, once per run)
        </label>
        <button type="button" class="primary" onClick={dryRun}>
          Dry run
        </button>
        <button type="button" onClick={props.onClose}>
          Close
        </button>
      </div>
      {error ? <p role="alert">{error}</p> : null}
      {plan?.plan ? (
        <div class="replay-plan" data-to-send={toSend}>
          <p>
            {plan.from} to {plan.to}: {plural(plan.plan.archived, "message")} archived; would send{" "}
            <strong>{toSend}</strong> (not accepted by its filter {plan.plan.filteredOut}, erased{" "}
            {plan.plan.erased}).
          </p>
          <p>
            By type: {counts(plan.plan.byType)}. By day: {counts(plan.plan.byDay)}.
          </p>
          {props.readOnly || toSend === 0 ? null : (
            <fieldset class="confirm">
              <label for={`${id}-confirm`}>
                Type <strong>{toSend}</strong> to send {plural(toSend, "message")} to {props.consumer}'s
                queue:
              </label>
              <input
                id={`${id}-confirm`}
                inputMode="numeric"
                autoComplete="off"
                value={typed}
                onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
              />
              <button
                type="button"
                class="danger"
                disabled={typed.trim() !== String(toSend) || job?.state === "running"}
                onClick={run}
              >
                Replay {plural(toSend, "message")}
              </button>
            </fieldset>
          )}
        </div>
      ) : null}
      {job ? (
        <p class="job" data-job-state={job.state} aria-live="polite">
          {job.state === "running" ? "Replaying: " : job.state === "done" ? "Replayed: " : "Stopped: "}
          <span data-count="sent">{job.sent}</span> of {job.total} sent
          {job.runId ? ` (run ${job.runId})` : ""}
          {job.error ? `: ${job.error}` : ""}
        </p>
      ) : null}
    </section>
  );
}
