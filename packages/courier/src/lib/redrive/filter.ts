/** Decides, per DLQ message, whether the selective mover moves it, skips it or quarantines it. */
import { causeOf } from "./cause.ts";
import { ageSeconds, type DlqMessage } from "./dlq-message.ts";

export interface RedriveFilter {
  /** Only messages of this type (the `type` attribute, else the envelope's `type`). */
  readonly type?: string;
  /** Only messages first seen at least this long ago (SentTimestamp or failure time, earliest). */
  readonly olderThanSeconds?: number;
  /** Only messages whose `courier.failure` has this error class; "unknown" matches those without one. */
  readonly errorClass?: string;
  /** Only messages of this cause (`causeOf`: error class plus masked message), as the console groups them. */
  readonly cause?: string;
  /** Only these DLQ MessageIds (a hand-picked set). */
  readonly messageIds?: readonly string[];
}

export type Verdict =
  | { readonly action: "move" }
  | { readonly action: "skip"; readonly reason: string }
  | { readonly action: "quarantine"; readonly reason: string };

export interface ClassifyContext {
  readonly maxRedrives: number;
  readonly now: Date;
}

/** Filters first, then the redrive limit: a quarantined message is one the operator asked to move. */
export function classify(message: DlqMessage, filter: RedriveFilter, context: ClassifyContext): Verdict {
  if (filter.type !== undefined && message.type !== filter.type) {
    return { action: "skip", reason: `type ${message.type ?? "(none)"} is not ${filter.type}` };
  }
  if (filter.errorClass !== undefined && message.errorClass !== filter.errorClass) {
    return { action: "skip", reason: `error class ${message.errorClass} is not ${filter.errorClass}` };
  }
  if (filter.cause !== undefined && causeOf(message) !== filter.cause) {
    return { action: "skip", reason: `cause ${causeOf(message)} is not ${filter.cause}` };
  }
  if (filter.messageIds !== undefined && !filter.messageIds.includes(message.messageId)) {
    return { action: "skip", reason: "not among the chosen messages" };
  }
  if (filter.olderThanSeconds !== undefined) {
    const age = ageSeconds(message, context.now);
    if (age === undefined || age < filter.olderThanSeconds) {
      const shown = age === undefined ? "unknown" : `${Math.floor(age)}s`;
      return { action: "skip", reason: `age ${shown} is under ${filter.olderThanSeconds}s` };
    }
  }
  if (message.redriveCount >= context.maxRedrives) {
    return {
      action: "quarantine",
      reason: `redriven ${message.redriveCount} times already (limit ${context.maxRedrives})`,
    };
  }
  return { action: "move" };
}
