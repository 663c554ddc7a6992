/**
 * The console page: a header naming the stack, three views (topology, dead letters, find a
 * message), live figures.
 */
import "./styles.css";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { ArchiveOverview, Overview } from "../api.ts";
import { adoptToken, get } from "./api-client.ts";
import { DeadLettersView } from "./dead-letters.tsx";
import { FindMessageView } from "./find-message.tsx";
import { since } from "./format.ts";
import { OverviewView } from "./overview.tsx";
import { usePoll } from "./use-poll.ts";

type View =
  | { readonly name: "overview" }
  | { readonly name: "dead-letters"; readonly consumer?: string }
  | { readonly name: "find"; readonly id?: string };

function viewFromHash(hash: string): View {
  const [, name, arg] = hash.replace(/^#/, "").split("/");
  if (name === "dead-letters") return arg ? { name, consumer: decodeURIComponent(arg) } : { name };
  if (name === "find") return arg ? { name, id: decodeURIComponent(arg) } : { name };
  return { name: "overview" };
}

function hashOf(view: View): string {
  if (view.name === "overview") return "#/overview";
  if (view.name === "find") return view.id ? `#/find/${encodeURIComponent(view.id)}` : "#/find";
  return view.consumer ? `#/dead-letters/${encodeURIComponent(view.consumer)}` : "#/dead-letters";
}

/** Re-renders every second so "read 3s ago" stays true between polls. */
function useClock(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

function App() {
  const [view, setView] = useState<View>(viewFromHash(location.hash));
  const overview = usePoll<Overview>(() => get("GET /api/overview", {}), 2_000, "overview");
  const archive = usePoll<ArchiveOverview>(() => get("GET /api/archive", {}), 10_000, "archive");
  const now = useClock();

  useEffect(() => {
    const onHash = () => setView(viewFromHash(location.hash));
    addEventListener("hashchange", onHash);
    // Effects run after the first render: a hash changed in between had no listener yet.
    onHash();
    return () => removeEventListener("hashchange", onHash);
  }, []);
  const go = (next: View) => {
    location.hash = hashOf(next);
  };

  const o = overview.value;
  const deadTotal = o?.consumers.reduce((n, c) => n + c.dlq.visible + c.dlq.inFlight + c.dlq.delayed, 0) ?? 0;
  const firstWithDead = o?.consumers.find((c) => c.dlq.visible + c.dlq.inFlight + c.dlq.delayed > 0)?.name;
  const deadConsumer =
    view.name === "dead-letters" ? (view.consumer ?? firstWithDead ?? o?.consumers[0]?.name) : undefined;

  useEffect(() => {
    document.title = deadTotal > 0 ? `(${deadTotal}) courier console` : "courier console";
  }, [deadTotal]);

  return (
    <>
      <header class="top">
        <div class="brand">
          <h1>courier console</h1>
          {o ? (
            <p class="target">
              stack <strong>{o.stack}</strong> on {o.endpoint}
              {o.readOnly ? <span class="badge">read-only</span> : null}
            </p>
          ) : null}
        </div>
        <nav class="views" aria-label="Views">
          <a href="#/overview" aria-current={view.name === "overview" ? "page" : undefined}>
            Topology
          </a>
          <a href="#/dead-letters" aria-current={view.name === "dead-letters" ? "page" : undefined}>
            Dead letters <span class={`pill${deadTotal > 0 ? " bad" : ""}`}>{deadTotal}</span>
          </a>
          <a href="#/find" aria-current={view.name === "find" ? "page" : undefined}>
            Find a message
          </a>
        </nav>
        <p class="freshness" aria-live="off">
          {o ? `figures read ${since(o.sampledAt, now)}` : ""}
        </p>
      </header>
      <main>
        {overview.error && !o ? (
          <p role="alert">The console cannot read the stack: {overview.error}</p>
        ) : null}
        {o?.error ? <p role="alert">{o.error}</p> : null}
        {!o ? <p class="loading">Reading the stack…</p> : null}
        {o && view.name === "overview" ? (
          <OverviewView
            overview={o}
            archive={archive.value}
            onOpenDlq={(consumer) => go({ name: "dead-letters", consumer })}
          />
        ) : null}
        {view.name === "find" ? (
          <FindMessageView
            {...(view.id ? { initialId: view.id } : {})}
            onSearch={(id) => go({ name: "find", id })}
          />
        ) : null}
        {o && view.name === "dead-letters" && deadConsumer ? (
          <DeadLettersView
            overview={o}
            consumer={deadConsumer}
            onConsumer={(consumer) => go({ name: "dead-letters", consumer })}
          />
        ) : null}
      </main>
    </>
  );
}

adoptToken();
const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<App />, root);
}
