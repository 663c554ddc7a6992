/**
 * Thumbnails: one 12-megapixel JPEG (4000×3000, gradients and noise, so it compresses like a photo
 * rather than a flat test card) to both renditions, with courier's sharp pipeline
 * (`renderRenditions`: metadata check, EXIF orientation, cover 256×256 and inside 1280, WebP)
 * beside jimp (pure JavaScript) doing the same resizes in the same run.
 *
 * Each engine runs in its own child process, so each peak-memory figure is that process's own
 * maximum resident set (getrusage maxrss), not a mix of both engines in one heap. Engines run one
 * after the other, never side by side: the machine has two shared cores.
 *
 * Run alone: npx tsx bench/thumbnails.bench.ts   (THUMBNAILS_BENCH_RUNS=N to change the run count)
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { Benchmark, BenchResult, Row } from "./lib/benchmark.ts";
import { percentile, round } from "./lib/stats.ts";

const WIDTH = 4000;
const HEIGHT = 3000;
const WORKER_ENV = "THUMBNAILS_BENCH_WORKER";
const thisFile = fileURLToPath(import.meta.url);

type Engine = "sharp" | "sharp-decode-per-rendition" | "jimp";

interface WorkerReport {
  readonly engine: Engine;
  readonly timesMs: number[];
  /** RSS with the library loaded and the JPEG read into memory, before the first run (KiB). */
  readonly rssBeforeKiB: number;
  /** The process's peak resident set over its whole life (getrusage maxrss, KiB). */
  readonly maxRssKiB: number;
  readonly outputBytes: { thumb: number; medium: number };
  readonly outputSizes: { thumb: string; medium: string };
  /** SSIM of each rendition against a full-size decode resized with Lanczos (sharp engines only). */
  readonly ssim?: { thumb: number; medium: number };
}

/** A photo-like test image: smooth colour gradients, a few hard edges, sensor-like noise. */
async function makeTwelveMegapixelJpeg(): Promise<Buffer> {
  const sharp = (await import("sharp")).default;
  const pixels = Buffer.alloc(WIDTH * HEIGHT * 3);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const i = (y * WIDTH + x) * 3;
      const band = Math.floor(x / 500) % 2 === 0 ? 0 : 40;
      pixels[i] = (x / WIDTH) * 215 + band;
      pixels[i + 1] = (y / HEIGHT) * 255;
      pixels[i + 2] = 128 + 100 * Math.sin(x / 180) * Math.cos(y / 140);
    }
  }
  const noise = await sharp({
    create: {
      width: WIDTH,
      height: HEIGHT,
      channels: 3,
      background: "#000",
      noise: { type: "gaussian", mean: 128, sigma: 24 },
    },
  })
    .png({ compressionLevel: 1 })
    .toBuffer();
  return sharp(pixels, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
    .composite([{ input: noise, blend: "soft-light" }])
    .jpeg({ quality: 90 })
    .toBuffer();
}

// ---- worker side: runs in a child process, one engine per process ----

async function sharpJob(): Promise<
  (input: Buffer) => Promise<WorkerReport["outputBytes"] & { sizes: WorkerReport["outputSizes"] }>
> {
  const sharp = (await import("sharp")).default;
  // libvips' operation cache would serve repeated runs on the same buffer from memory; a Lambda
  // sees each original once, so measure without it.
  sharp.cache(false);
  const { renderRenditions } = await import("../src/app/images/render.ts");
  const { DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_INPUT_PIXELS } = await import("../src/app/images/config.ts");
  const limits = {
    maxInputBytes: DEFAULT_MAX_INPUT_BYTES,
    maxInputPixels: DEFAULT_MAX_INPUT_PIXELS,
    failOn: "warning" as const,
  };
  return async (input) => {
    const result = await renderRenditions(input, limits);
    const [thumb, medium] = result.renditions;
    if (!thumb || !medium) throw new Error("sharp produced no renditions");
    return {
      thumb: thumb.body.length,
      medium: medium.body.length,
      sizes: { thumb: `${thumb.width}×${thumb.height}`, medium: `${medium.width}×${medium.height}` },
    };
  };
}

/** courier's former pipeline, kept here as the peer: each rendition cloned from the input, so each decodes it. */
async function sharpDecodePerRenditionJob(): Promise<
  (input: Buffer) => Promise<WorkerReport["outputBytes"] & { sizes: WorkerReport["outputSizes"] }>
> {
  const sharp = (await import("sharp")).default;
  sharp.cache(false);
  return async (input) => {
    const image = sharp(input, { pages: 1, failOn: "warning" });
    await image.metadata();
    const oriented = image.rotate();
    const [thumb, medium] = await Promise.all(
      [
        { width: 256, height: 256, fit: "cover" as const, quality: 80 },
        { width: 1280, height: 1280, fit: "inside" as const, quality: 82 },
      ].map((spec) =>
        oriented
          .clone()
          .resize(spec.width, spec.height, { fit: spec.fit, withoutEnlargement: true })
          .webp({ quality: spec.quality })
          .toBuffer({ resolveWithObject: true }),
      ),
    );
    if (!thumb || !medium) throw new Error("no renditions");
    return {
      thumb: thumb.data.length,
      medium: medium.data.length,
      sizes: {
        thumb: `${thumb.info.width}×${thumb.info.height}`,
        medium: `${medium.info.width}×${medium.info.height}`,
      },
    };
  };
}

/**
 * SSIM (ssim.js, its default: the original algorithm's windows) of courier's renditions against a
 * reference made from a full-size decode (no shrink-on-load) resized with Lanczos3 to the same box.
 * Both are compared as decoded RGBA pixels of the same dimensions.
 */
async function renditionSsim(input: Buffer, engine: Engine): Promise<{ thumb: number; medium: number }> {
  const sharp = (await import("sharp")).default;
  const { ssim } = await import("ssim.js");
  const specs = [
    { name: "thumb", width: 256, height: 256, fit: "cover" as const },
    { name: "medium", width: 1280, height: 1280, fit: "inside" as const },
  ];
  const rendered =
    engine === "sharp"
      ? await (async () => {
          const { renderRenditions } = await import("../src/app/images/render.ts");
          const result = await renderRenditions(input, {
            maxInputBytes: 64 * 1024 * 1024,
            maxInputPixels: 100_000_000,
            failOn: "warning",
          });
          return result.renditions.map((r) => r.body);
        })()
      : await Promise.all(
          specs.map((spec, i) =>
            sharp(input)
              .rotate()
              .resize(spec.width, spec.height, { fit: spec.fit, withoutEnlargement: true })
              .webp({ quality: i === 0 ? 80 : 82 })
              .toBuffer(),
          ),
        );
  const rgba = async (image: Buffer | ReturnType<typeof sharp>) => {
    const { data, info } = await (Buffer.isBuffer(image) ? sharp(image) : image)
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return {
      data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length),
      width: info.width,
      height: info.height,
    };
  };
  const scores: number[] = [];
  for (const [i, spec] of specs.entries()) {
    const reference = await rgba(
      sharp(input, { failOn: "warning" }).rotate().resize(spec.width, spec.height, {
        fit: spec.fit,
        withoutEnlargement: true,
        kernel: "lanczos3",
        fastShrinkOnLoad: false,
      }),
    );
    const candidate = await rgba(rendered[i] as Buffer);
    scores.push(ssim(reference, candidate).mssim);
  }
  return { thumb: scores[0] as number, medium: scores[1] as number };
}

async function jimpJob(): Promise<
  (input: Buffer) => Promise<WorkerReport["outputBytes"] & { sizes: WorkerReport["outputSizes"] }>
> {
  const { Jimp } = await import("jimp");
  return async (input) => {
    // Jimp.read decodes and applies the EXIF orientation, like sharp's rotate().
    const image = await Jimp.read(input);
    const thumb = image.clone().cover({ w: 256, h: 256 });
    const medium = image.clone().scaleToFit({ w: 1280, h: 1280 });
    // jimp has no WebP encoder: JPEG at the qualities sharp uses for WebP.
    const [thumbBytes, mediumBytes] = await Promise.all([
      thumb.getBuffer("image/jpeg", { quality: 80 }),
      medium.getBuffer("image/jpeg", { quality: 82 }),
    ]);
    return {
      thumb: thumbBytes.length,
      medium: mediumBytes.length,
      sizes: { thumb: `${thumb.width}×${thumb.height}`, medium: `${medium.width}×${medium.height}` },
    };
  };
}

async function runWorker(engine: Engine, file: string, runs: number): Promise<void> {
  const job =
    engine === "sharp"
      ? await sharpJob()
      : engine === "sharp-decode-per-rendition"
        ? await sharpDecodePerRenditionJob()
        : await jimpJob();
  const input = await readFile(file);
  const rssBeforeKiB = Math.round(process.memoryUsage.rss() / 1024);
  const timesMs: number[] = [];
  let last: Awaited<ReturnType<typeof job>> | undefined;
  for (let i = 0; i < runs + 1; i++) {
    const start = performance.now();
    last = await job(input);
    const elapsed = performance.now() - start;
    if (i > 0) timesMs.push(elapsed); // the first run warms up the JIT and libraries
  }
  if (!last) throw new Error("no run");
  // After the timed runs and the peak-RSS reading, so neither includes the reference decode.
  const maxRssKiB = process.resourceUsage().maxRSS;
  const ssim = engine === "jimp" ? undefined : await renditionSsim(input, engine);
  const report: WorkerReport = {
    engine,
    timesMs,
    rssBeforeKiB,
    maxRssKiB,
    outputBytes: { thumb: last.thumb, medium: last.medium },
    outputSizes: last.sizes,
    ...(ssim ? { ssim } : {}),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

// ---- parent side ----

async function measure(engine: Engine, file: string, runs: number): Promise<WorkerReport> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", thisFile], {
    env: { ...process.env, [WORKER_ENV]: JSON.stringify({ engine, file, runs }) },
    maxBuffer: 1024 * 1024,
    timeout: 15 * 60_000,
  });
  const line = stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line) as WorkerReport;
}

const mib = (kib: number) => round(kib / 1024, 0);
const kib = (bytes: number) => round(bytes / 1024, 1);

function row(label: string, output: string, r: WorkerReport, baselineMedian: number): Row {
  const median = percentile(r.timesMs, 50);
  return {
    engine: label,
    output,
    runs: r.timesMs.length,
    "median ms": round(median, 0),
    "p90 ms": round(percentile(r.timesMs, 90), 0),
    "images/s": round(1000 / median, 2),
    "vs jimp": `${round(baselineMedian / median, 1)}×`,
    "peak RSS MiB": mib(r.maxRssKiB),
    "RSS growth MiB": mib(r.maxRssKiB - r.rssBeforeKiB),
    "thumb KiB": kib(r.outputBytes.thumb),
    "medium KiB": kib(r.outputBytes.medium),
    sizes: `${r.outputSizes.thumb} + ${r.outputSizes.medium}`,
    "SSIM thumb / medium": r.ssim ? `${r.ssim.thumb.toFixed(4)} / ${r.ssim.medium.toFixed(4)}` : "n/a",
  };
}

export async function runThumbnailsBenchmark(
  options: { runs?: number; log?: (line: string) => void } = {},
): Promise<BenchResult> {
  const runs = options.runs ?? 6;
  const log = options.log ?? (() => {});
  const dir = await mkdtemp(join(tmpdir(), "courier-thumbnails-bench-"));
  try {
    const file = join(dir, "12mp.jpg");
    const jpeg = await makeTwelveMegapixelJpeg();
    await writeFile(file, jpeg);
    log(
      `thumbnails: ${WIDTH}×${HEIGHT} JPEG, ${kib(jpeg.length)} KiB; ${runs} runs per engine after 1 warm-up`,
    );
    const jimp = await measure("jimp", file, runs);
    log("thumbnails: jimp done");
    const perRendition = await measure("sharp-decode-per-rendition", file, runs);
    log("thumbnails: sharp, one decode per rendition done");
    const sharpReport = await measure("sharp", file, runs);
    log("thumbnails: sharp done");
    const baseline = percentile(jimp.timesMs, 50);
    return {
      rows: [
        row("jimp 1.6 (baseline)", "JPEG q80/q82 (jimp has no WebP encoder)", jimp, baseline),
        row("sharp 0.35, one decode per rendition (courier before)", "WebP q80/q82", perRendition, baseline),
        row("sharp 0.35 renderRenditions: one reduced-scale decode", "WebP q80/q82", sharpReport, baseline),
      ],
      notes: [
        `Input: one ${WIDTH}×${HEIGHT} (12 MP) JPEG q90 of gradients, hard edges and Gaussian noise, ${kib(jpeg.length)} KiB, read from memory (no S3).`,
        "Job per image: decode, auto-orient, thumbnail cover 256×256 and medium inside 1280 px, both encoded. " +
          "sharp runs courier's own pipeline (metadata and format check included); jimp does the same resizes.",
        "Output formats differ: jimp 1.x cannot write WebP, so its renditions are JPEG (bigger files, cheaper " +
          "to encode than WebP). sharp can also decode a JPEG at a reduced scale when the target is much " +
          "smaller (libjpeg shrink-on-load); jimp decodes all 12 MP at full size.",
        "courier's pipeline decodes the JPEG once, at the smallest scale every rendition can be made from " +
          "(1280×960 here: libjpeg shrink-on-load at 1/2), and makes both renditions from those pixels; the row " +
          "before it is the former pipeline, which decoded once per rendition.",
        "SSIM (ssim.js) compares each rendition with a reference made from a full-size decode (shrink-on-load " +
          "off) resized with Lanczos3 to the same box; 1 is identical. Computed after the timed runs.",
        "Each engine runs alone in its own child process, one image at a time (images/s = 1000 / median ms); " +
          "peak RSS is the child's getrusage maxrss, RSS growth is that peak minus the RSS after loading the " +
          "library and the input. sharp's libvips cache is off so repeated runs are not served from memory.",
        `${process.env.UV_THREADPOOL_SIZE ? `UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE}; ` : ""}` +
          "libvips uses every core available (two here, shared with other work), jimp one.",
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const benchmark: Benchmark = {
  name: "thumbnails",
  description: "12 MP JPEG to thumbnail + medium renditions: sharp pipeline vs jimp, each in its own process",
  run: ({ log }) => runThumbnailsBenchmark({ log, runs: runsFromEnv() }),
};

function runsFromEnv(): number | undefined {
  const value = process.env.THUMBNAILS_BENCH_RUNS;
  if (!value) return undefined;
  const runs = Number(value);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`THUMBNAILS_BENCH_RUNS must be a positive integer, got "${value}"`);
  return runs;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const worker = process.env[WORKER_ENV];
  if (worker) {
    const { engine, file, runs } = JSON.parse(worker) as { engine: Engine; file: string; runs: number };
    await runWorker(engine, file, runs);
  } else {
    const { markdownTable } = await import("./lib/report.ts");
    const result = await runThumbnailsBenchmark({
      runs: runsFromEnv(),
      log: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(
      `${markdownTable(result.rows)}\n\n${(result.notes ?? []).map((n) => `- ${n}`).join("\n")}\n`,
    );
  }
}
