/**
 * The operator console: how long from typing `courier console` to a painted page and to the
 * figures on it, beside the terminal's `courier status` (the naive baseline: the same figures as
 * text) in the same run; and what the page costs to load (its script and stylesheet, raw and
 * gzipped, and what each library contributes to the script).
 *
 * Each row starts the CLI as a user would (`node bin/courier.mjs ... --local`) against a stack
 * copy deployed for this run. Chromium (Debian's, through playwright-core) is launched once before
 * the rows: its own start-up is not counted. Median of ROUNDS rounds.
 *
 * Run alone: npx tsx bench/console.bench.ts
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { bundleConsoleAssets } from "../packages/courier/src/console/assets.ts";
import { deleteStackOnLocalStack, deployToLocalStack } from "../src/dev/deploy.ts";
import { launchChromium } from "../test/integration/support/browser.ts";
import type { BenchContext, Benchmark, BenchResult, Row } from "./lib/benchmark.ts";

const ROUNDS = 3;
const ROOT = fileURLToPath(new URL("../", import.meta.url));

function courier(args: string[], endpoint: string): ChildProcess {
  return spawn(process.execPath, ["bin/courier.mjs", ...args, "--local"], {
    cwd: ROOT,
    env: { ...process.env, AWS_ENDPOINT_URL: endpoint },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)] ?? Number.NaN);
};

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

async function statusMs(stack: string, endpoint: string): Promise<number> {
  const started = performance.now();
  const child = courier(["status", "--stack", stack], endpoint);
  const [code] = (await once(child, "exit")) as [number];
  if (code !== 0) throw new Error(`courier status exited ${code}`);
  return performance.now() - started;
}

async function consoleTimes(
  stack: string,
  endpoint: string,
  browser: Awaited<ReturnType<typeof launchChromium>>,
): Promise<{ ready: number; paint: number; figures: number }> {
  const startedAt = Date.now();
  const child = courier(["console", "--stack", stack, "--json"], endpoint);
  try {
    let out = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const match = /"url": "([^"]+)"/.exec(out);
        if (match?.[1]) resolve(match[1]);
      });
      child.once("exit", (code) =>
        reject(new Error(`courier console exited ${code} before printing its URL`)),
      );
    });
    const ready = Date.now() - startedAt;
    const page = await browser.newPage();
    await page.goto(url);
    const paintAt = await page.evaluate(() => {
      const paint = performance.getEntriesByName("first-contentful-paint")[0];
      return performance.timeOrigin + (paint?.startTime ?? Number.NaN);
    });
    await page.locator("li.lane").first().waitFor();
    const figures = Date.now() - startedAt;
    await page.close();
    return { ready, paint: paintAt - startedAt, figures };
  } finally {
    child.kill("SIGTERM");
  }
}

export async function measureConsole(context: Pick<BenchContext, "endpoint" | "log">): Promise<BenchResult> {
  const stack = `bench-console-${Date.now().toString(36)}`;
  context.log(`deploying stack ${stack}`);
  await deployToLocalStack({ stackName: stack, endpoint: context.endpoint });
  const browser = await launchChromium();
  try {
    const status: number[] = [];
    const consoles: { ready: number; paint: number; figures: number }[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      status.push(await statusMs(stack, context.endpoint));
      consoles.push(await consoleTimes(stack, context.endpoint, browser));
    }
    const assets = await bundleConsoleAssets();
    const js = assets.files.get(assets.scriptPath)?.body ?? new Uint8Array();
    const css = assets.files.get(assets.stylePath)?.body ?? new Uint8Array();
    const rows: Row[] = [
      {
        scenario: "courier status (terminal, baseline)",
        "command to output (ms)": median(status),
        "first paint (ms)": "-",
        "figures shown (ms)": median(status),
      },
      {
        scenario: "courier console + Chromium",
        "command to output (ms)": median(consoles.map((c) => c.ready)),
        "first paint (ms)": median(consoles.map((c) => c.paint)),
        "figures shown (ms)": median(consoles.map((c) => c.figures)),
      },
    ];
    const parts = Object.entries(assets.scriptParts)
      .sort((a, b) => b[1] - a[1])
      .map(([name, bytes]) => `${name} ${kib(bytes)}`)
      .join(", ");
    return {
      rows,
      notes: [
        `Median of ${ROUNDS} rounds; each row starts the CLI in a new process against a stack copy on LocalStack; Chromium was already running.`,
        "command to output: until `courier status` printed its table / `courier console` printed its URL (it bundles the page with esbuild first).",
        "first paint: Chromium's first-contentful-paint after opening the URL; figures shown: the topology with every consumer's figures on the page.",
        `Page weight: app.js ${kib(js.byteLength)} (${kib(gzipSync(js).byteLength)} gzip), app.css ${kib(css.byteLength)} (${kib(gzipSync(css).byteLength)} gzip); no other request but the API. app.js by origin: ${parts}.`,
        `esbuild bundled the page in ${assets.buildMs} ms in this process.`,
      ],
    };
  } finally {
    await browser.close();
    await deleteStackOnLocalStack(stack, { endpoint: context.endpoint }).catch(() => {});
  }
}

export const benchmark: Benchmark = {
  name: "console",
  description:
    "Operator console: `courier console` to first paint and to figures, beside `courier status`; page weight",
  run: (context) => measureConsole(context),
};
export default benchmark;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { benchLocalStack } = await import("./lib/localstack.ts");
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const localstack = await benchLocalStack(log);
  try {
    const result = await measureConsole({ endpoint: localstack.endpoint, log });
    console.table(result.rows);
    for (const note of result.notes ?? []) console.log(`- ${note}`);
  } finally {
    await localstack.release();
  }
}
