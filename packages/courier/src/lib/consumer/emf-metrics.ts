/**
 * The consumer runtime's metrics as CloudWatch embedded metric format (EMF) lines on stdout: one
 * line per invocation, the same document Powertools Metrics writes for the same calls
 * (test/unit/emf-metrics.test.ts compares the two).
 *
 * Why not Powertools Metrics itself: measured in bench/consumer-overhead.bench.ts, it cost about
 * 4 µs per record (a third of the runtime), because every `addMetric` re-validates the unit and
 * resolution against freshly built arrays and every flush builds its document through several
 * layers; the runtime records one age value per record, so that cost scales with traffic. This
 * writer does only what the runtime needs: a fixed namespace and `service` dimension, values
 * buffered per name, settings read from the environment once.
 *
 * Format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
import type { MetricUnit } from "@aws-lambda-powertools/metrics";

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** EMF allows at most 100 values per metric in one document and 100 metrics per directive. */
export const EMF_MAX_VALUES_PER_METRIC = 100;
const EMF_MAX_METRICS = 100;

export interface EmfMetricsOptions {
  readonly namespace: string;
  /** The value of the `service` dimension (Powertools' default dimension, which dashboards use). */
  readonly serviceName: string;
  /** Where each document goes, one line each. @default process.stdout */
  readonly write?: (line: string) => void;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Clock in epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

interface Stored {
  readonly unit: Unit;
  readonly values: number[];
}

export class EmfMetrics {
  readonly #namespace: string;
  readonly #serviceName: string;
  readonly #write: (line: string) => void;
  readonly #now: () => number;
  /**
   * Powertools' switches, read once: POWERTOOLS_METRICS_DISABLED (`courier work`'s readable output
   * sets it) and, when that is unset, POWERTOOLS_DEV.
   */
  readonly #disabled: boolean;
  #stored = new Map<string, Stored>();
  /** Top-level keys of the next document that are not metrics (Powertools' `addMetadata`). */
  #metadata = new Map<string, string>();

  constructor(options: EmfMetricsOptions) {
    if (!options.namespace) throw new TypeError("EmfMetrics needs a namespace");
    if (!options.serviceName) throw new TypeError("EmfMetrics needs a serviceName");
    this.#namespace = options.namespace;
    this.#serviceName = options.serviceName;
    this.#write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
    this.#now = options.now ?? Date.now;
    const env = options.env ?? process.env;
    const disabled = env.POWERTOOLS_METRICS_DISABLED;
    this.#disabled = isTrue(disabled === undefined ? env.POWERTOOLS_DEV : disabled);
  }

  addMetric(name: string, unit: Unit, value: number): void {
    // A metric CloudWatch would refuse must not cost the batch: it is dropped, as a NaN would be.
    if (!Number.isFinite(value)) return;
    const stored = this.#stored.get(name);
    if (stored === undefined) {
      if (this.#stored.size >= EMF_MAX_METRICS) this.publishStoredMetrics();
      this.#stored.set(name, { unit, values: [value] });
      return;
    }
    stored.values.push(value);
    if (stored.values.length >= EMF_MAX_VALUES_PER_METRIC) this.publishStoredMetrics();
  }

  /** A searchable key on the next document only, never a dimension (as Powertools' `addMetadata`). */
  addMetadata(key: string, value: string): void {
    this.#metadata.set(key, value);
  }

  /** Writes the stored values as one EMF document (none when nothing is stored) and clears them. */
  publishStoredMetrics(): void {
    if (this.#stored.size === 0) return;
    const stored = this.#stored;
    const metadata = this.#metadata;
    this.#stored = new Map();
    this.#metadata = new Map();
    if (this.#disabled) return;
    const definitions: Array<{ Name: string; Unit: Unit }> = [];
    const document: Record<string, unknown> = {
      _aws: {
        Timestamp: this.#now(),
        CloudWatchMetrics: [{ Namespace: this.#namespace, Dimensions: [["service"]], Metrics: definitions }],
      },
      service: this.#serviceName,
    };
    for (const [key, value] of metadata) document[key] = value;
    for (const [name, { unit, values }] of stored) {
      definitions.push({ Name: name, Unit: unit });
      document[name] = values.length === 1 ? values[0] : values;
    }
    this.#write(JSON.stringify(document));
  }
}

/** Powertools' extended reading of a boolean setting (commons getBooleanFromEnv). */
function isTrue(value: string | undefined): boolean {
  return ["1", "y", "yes", "t", "true", "on"].includes((value ?? "").trim().toLowerCase());
}
