/** Typed errors of the redrive library; each names the consumer or queue that was wrong. */

/** SQS allows one active message move task per source queue (here: per DLQ). */
export class MoveTaskAlreadyRunningError extends Error {
  override readonly name = "MoveTaskAlreadyRunningError";
  constructor(
    readonly dlqArn: string,
    readonly taskHandle?: string,
  ) {
    super(
      `a message move task is already running on ${dlqArn}${taskHandle ? ` (task ${taskHandle})` : ""}; ` +
        "SQS allows one per queue: wait for it to finish or cancel it",
    );
  }
}

/** The move task ended in FAILED (SQS's FailureReason attached) or vanished from the task list. */
export class MoveTaskFailedError extends Error {
  override readonly name = "MoveTaskFailedError";
  constructor(
    readonly dlqArn: string,
    readonly failureReason: string,
    readonly moved: number,
  ) {
    super(`message move task on ${dlqArn} failed after moving ${moved} message(s): ${failureReason}`);
  }
}

/** The caller aborted the run (AbortSignal); what was moved before stays moved. */
export class RedriveAbortedError extends Error {
  override readonly name = "RedriveAbortedError";
  constructor(
    readonly queue: string,
    readonly moved: number,
  ) {
    super(`redrive from ${queue} was cancelled after moving ${moved} message(s)`);
  }
}

/** The redrive function or CLI was asked about a consumer that has no DLQ/source pair. */
export class UnknownRedriveConsumerError extends Error {
  override readonly name = "UnknownRedriveConsumerError";
  constructor(
    readonly consumer: string,
    readonly known: readonly string[],
  ) {
    super(`unknown consumer "${consumer}" for redrive; known consumers: ${known.join(", ") || "(none)"}`);
  }
}

/** A required setting is missing or malformed (environment of the redrive function). */
export class RedriveConfigError extends Error {
  override readonly name = "RedriveConfigError";
}
