/** Typed failures of the publisher. Each names what went wrong so an API server can log it as is. */

/** Every error the publisher raises or reports per item; narrow with `instanceof` or `name`. */
export abstract class PublisherError extends Error {}

export class UnknownTopicError extends PublisherError {
  override readonly name = "UnknownTopicError";
  constructor(
    readonly topic: string,
    readonly knownTopics: readonly string[],
  ) {
    super(`unknown topic "${topic}"; known topics: ${knownTopics.join(", ")}`);
  }
}

export interface FieldIssue {
  /** Dotted path inside `data`, e.g. "phone"; "(root)" when the data itself is wrong. */
  readonly path: string;
  readonly reason: string;
}

export class InvalidMessageError extends PublisherError {
  override readonly name = "InvalidMessageError";
  constructor(
    readonly topic: string,
    readonly contract: string,
    readonly issues: readonly FieldIssue[],
  ) {
    super(
      `invalid ${contract} for topic "${topic}": ${issues.map((i) => `${i.path}: ${i.reason}`).join("; ")}`,
    );
  }
}

/**
 * A message attribute in courier's namespace (`courier.failure`, `courier.lineage`, ...): only the
 * runtime and the redrive mover write those. A publisher's `courier.lineage` with a redrive count
 * of 0 would dodge quarantine; a forged `courier.failure` would mislabel a dead letter.
 */
export class ReservedAttributeError extends PublisherError {
  override readonly name = "ReservedAttributeError";
  constructor(
    readonly topic: string,
    readonly attribute: string,
  ) {
    super(
      `message for topic "${topic}" sets attribute "${attribute}": names starting "${RESERVED_ATTRIBUTE_PREFIX}" are courier's own`,
    );
  }
}

/** Attribute names only courier itself sets. */
export const RESERVED_ATTRIBUTE_PREFIX = "courier.";

export class MessageTooLargeError extends PublisherError {
  override readonly name = "MessageTooLargeError";
  constructor(
    readonly topic: string,
    readonly sizeBytes: number,
    readonly limitBytes: number,
  ) {
    super(
      `message for topic "${topic}" is ${sizeBytes} bytes with its attributes, over the topic's SNS limit of ${limitBytes} bytes`,
    );
  }
}

export class PublishFailedError extends PublisherError {
  override readonly name = "PublishFailedError";
  constructor(
    readonly topic: string,
    /** The SNS error code (a thrown SDK error's name, or a PublishBatch `Failed` entry's Code). */
    readonly code: string,
    detail: string,
    options?: { cause?: unknown; senderFault?: boolean },
  ) {
    super(`publishing to topic "${topic}" failed: ${code}: ${detail}`, { cause: options?.cause });
    this.senderFault = options?.senderFault;
  }
  /** From a PublishBatch `Failed` entry: true when the request, not SNS, was at fault. */
  readonly senderFault: boolean | undefined;

  static fromSdkError(topic: string, error: unknown): PublishFailedError {
    const code = error instanceof Error ? error.name : "Error";
    const detail = error instanceof Error ? error.message : String(error);
    return new PublishFailedError(topic, code, detail, { cause: error });
  }
}
