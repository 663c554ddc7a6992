/** The shape of a benchmark module: `bench/<name>.bench.ts` exports `benchmark`. */

export type Cell = string | number;
export type Row = Record<string, Cell>;

export interface BenchContext {
  /** LocalStack (or AWS_ENDPOINT_URL) to run against. */
  readonly endpoint: string;
  /** Messages per scenario: `--messages N`, else BENCH_MESSAGES, else the benchmark's default. */
  readonly messages: number | undefined;
  readonly log: (line: string) => void;
}

export interface BenchResult {
  /** One row per scenario; the first row is the baseline the others are compared with. */
  readonly rows: Row[];
  /** What a reader needs to interpret the rows (setup, caveats). */
  readonly notes?: string[];
}

export interface Benchmark {
  readonly name: string;
  readonly description: string;
  /** False for benchmarks that need no emulator, so running only those does not need LocalStack. @default true */
  readonly usesLocalStack?: boolean;
  run(context: BenchContext): Promise<BenchResult>;
}

export interface RunEnvironment {
  readonly node: string;
  readonly cpus: string;
  /** 1-minute load average when the run started: the machine is often shared. */
  readonly loadAverage?: number;
  readonly endpoint: string;
  readonly localstack: string;
}

export interface BenchReport {
  readonly name: string;
  readonly description: string;
  readonly startedAt: string;
  readonly seconds: number;
  /** Where it ran: reports from earlier runs are kept beside new ones. */
  readonly environment?: RunEnvironment;
  readonly result?: BenchResult;
  /** Set when the benchmark failed; the others still run. */
  readonly error?: string;
}
