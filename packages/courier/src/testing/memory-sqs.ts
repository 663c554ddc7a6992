/**
 * An in-memory SQS for the test kit: the calls the event source and the consumer runtime make
 * (ReceiveMessage with long polling, DeleteMessageBatch, ChangeMessageVisibility(Batch),
 * SendMessage(Batch), GetQueueAttributes, and the queue tags per-tenant controls live in), with SQS's rules for them: visibility timeouts,
 * ApproximateReceiveCount, a redrive policy that moves a message to its DLQ on the receive after
 * maxReceiveCount, receipt handles that change on every receive (a stale one deletes nothing), FIFO
 * queues that hand out no message of a group while one of its messages is in flight, and
 * deduplication. Time is the kit's clock, so nothing here waits on the wall.
 *
 * It answers through `send(command)` like an SQSClient, so the event source and the runtime run
 * against it unchanged: the rules under test are theirs, only the queue is in memory.
 */
import { createHash, randomUUID } from "node:crypto";
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListQueueTagsCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
  TagQueueCommand,
  UntagQueueCommand,
} from "@aws-sdk/client-sqs";
import type { Clock } from "../worker/clock.ts";

const ACCOUNT = "000000000000";
const REGION = "us-east-1";
/** SQS's deduplication interval on FIFO queues. */
const DEDUPLICATION_MS = 5 * 60_000;

export interface MemoryQueueSettings {
  readonly name: string;
  readonly visibilityTimeoutSeconds: number;
  /** The redrive policy: after this many receives the next receive moves the message to `deadLetterQueue`. */
  readonly redrive?: { readonly deadLetterQueue: string; readonly maxReceiveCount: number };
}

export interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly messageAttributes: Record<string, MessageAttributeValue>;
  readonly sentAtMs: number;
  readonly groupId?: string;
  readonly sequenceNumber?: string;
  readonly deduplicationId?: string;
  receiveCount: number;
  firstReceiveAtMs?: number;
  visibleAtMs: number;
  receiptHandle?: string;
}

export class MemoryQueue {
  readonly url: string;
  readonly arn: string;
  readonly fifo: boolean;
  readonly messages: StoredMessage[] = [];
  /** FIFO: deduplication ids seen, with when. */
  readonly deduplicated = new Map<string, number>();
  /** The queue's tags (`courier pause`, per-tenant controls). */
  readonly tags = new Map<string, string>();

  readonly settings: MemoryQueueSettings;
  private readonly clock: Clock;

  constructor(settings: MemoryQueueSettings, clock: Clock) {
    this.settings = settings;
    this.clock = clock;
    this.url = `https://sqs.${REGION}.test-kit.invalid/${ACCOUNT}/${settings.name}`;
    this.arn = `arn:aws:sqs:${REGION}:${ACCOUNT}:${settings.name}`;
    this.fifo = settings.name.endsWith(".fifo");
  }

  /** Visible now (not in flight, not delayed). */
  get visible(): number {
    const now = this.clock.now();
    return this.messages.filter((m) => m.visibleAtMs <= now).length;
  }

  get inFlight(): number {
    return this.messages.length - this.visible;
  }
}

/** What the kit is told after every call: something may have changed. */
export type QueueActivity = () => void;

interface ParkedReceive {
  readonly queue: MemoryQueue;
  readonly retry: () => void;
}

export class MemorySqs {
  private readonly queues = new Map<string, MemoryQueue>();
  private parked: ParkedReceive[] = [];
  private sequence = 0n;
  private receivesEnded = false;

  private readonly clock: Clock;
  private readonly onActivity: QueueActivity;

  constructor(clock: Clock, onActivity: QueueActivity = () => undefined) {
    this.clock = clock;
    this.onActivity = onActivity;
  }

  createQueue(settings: MemoryQueueSettings): MemoryQueue {
    const queue = new MemoryQueue(settings, this.clock);
    this.queues.set(queue.url, queue);
    return queue;
  }

  queue(url: string | undefined): MemoryQueue {
    const queue = url ? this.queues.get(url) : undefined;
    if (!queue) throw sqsError("AWS.SimpleQueueService.NonExistentQueue", `no queue ${url}`);
    return queue;
  }

  /** The body of a message on any of this SQS's queues, by MessageId (a message the runtime re-sent). */
  bodyOf(messageId: string): string | undefined {
    for (const queue of this.queues.values()) {
      const found = queue.messages.find((m) => m.messageId === messageId);
      if (found) return found.body;
    }
    return undefined;
  }

  /** This object typed as the SQSClient the event source and the runtime take. */
  get client(): SQSClient {
    return this as unknown as SQSClient;
  }

  /** Ends every parked long poll now with nothing: a stopping kit does not wait out their wait. */
  endReceives(): void {
    this.receivesEnded = true;
    for (const parked of this.parked.splice(0)) parked.retry();
  }

  // biome-ignore lint/suspicious/noExplicitAny: answers like SQSClient.send, whose result type depends on the command.
  async send(command: unknown): Promise<any> {
    this.onActivity();
    try {
      return await this.dispatch(command);
    } finally {
      this.onActivity();
      this.wakeParked();
    }
  }

  private dispatch(command: unknown): unknown {
    if (command instanceof ReceiveMessageCommand) {
      const input = command.input;
      return this.receive(
        this.queue(input.QueueUrl),
        Math.min(10, input.MaxNumberOfMessages ?? 1),
        input.WaitTimeSeconds ?? 0,
      );
    }
    if (command instanceof SendMessageCommand) {
      const { QueueUrl, ...entry } = command.input;
      return this.enqueue(this.queue(QueueUrl), entry);
    }
    if (command instanceof SendMessageBatchCommand) {
      const queue = this.queue(command.input.QueueUrl);
      const entries = command.input.Entries ?? [];
      return {
        Successful: entries.map((entry) => ({ Id: entry.Id, ...this.enqueue(queue, entry) })),
        Failed: [],
      };
    }
    if (command instanceof DeleteMessageCommand) {
      this.delete(this.queue(command.input.QueueUrl), command.input.ReceiptHandle);
      return {};
    }
    if (command instanceof DeleteMessageBatchCommand) {
      const queue = this.queue(command.input.QueueUrl);
      const entries = command.input.Entries ?? [];
      for (const entry of entries) this.delete(queue, entry.ReceiptHandle);
      return { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] };
    }
    if (command instanceof ChangeMessageVisibilityCommand) {
      const { QueueUrl, ReceiptHandle, VisibilityTimeout } = command.input;
      const failure = this.changeVisibility(this.queue(QueueUrl), ReceiptHandle, VisibilityTimeout ?? 0);
      if (failure) throw sqsError(failure.Code, failure.Message);
      return {};
    }
    if (command instanceof ChangeMessageVisibilityBatchCommand) {
      const queue = this.queue(command.input.QueueUrl);
      const Successful: { Id: string | undefined }[] = [];
      const Failed: { Id: string | undefined; Code: string; Message: string; SenderFault: boolean }[] = [];
      for (const entry of command.input.Entries ?? []) {
        const failure = this.changeVisibility(queue, entry.ReceiptHandle, entry.VisibilityTimeout ?? 0);
        if (failure) Failed.push({ Id: entry.Id, ...failure, SenderFault: true });
        else Successful.push({ Id: entry.Id });
      }
      return { Successful, Failed };
    }
    if (command instanceof ListQueueTagsCommand) {
      return { Tags: Object.fromEntries(this.queue(command.input.QueueUrl).tags) };
    }
    if (command instanceof TagQueueCommand) {
      const queue = this.queue(command.input.QueueUrl);
      for (const [key, value] of Object.entries(command.input.Tags ?? {})) queue.tags.set(key, value);
      return {};
    }
    if (command instanceof UntagQueueCommand) {
      const queue = this.queue(command.input.QueueUrl);
      for (const key of command.input.TagKeys ?? []) queue.tags.delete(key);
      return {};
    }
    if (command instanceof GetQueueAttributesCommand) {
      const queue = this.queue(command.input.QueueUrl);
      return {
        Attributes: {
          QueueArn: queue.arn,
          VisibilityTimeout: String(queue.settings.visibilityTimeoutSeconds),
          ApproximateNumberOfMessages: String(queue.visible),
          ApproximateNumberOfMessagesNotVisible: String(queue.inFlight),
          ...(queue.settings.redrive
            ? {
                RedrivePolicy: JSON.stringify({
                  deadLetterTargetArn: this.queue(queue.settings.redrive.deadLetterQueue).arn,
                  maxReceiveCount: queue.settings.redrive.maxReceiveCount,
                }),
              }
            : {}),
        },
      };
    }
    const name = (command as { constructor?: { name?: string } })?.constructor?.name ?? typeof command;
    throw new Error(`the test kit's in-memory SQS does not implement ${name}`);
  }

  /** Puts a message on a queue (as SNS, a producer or the runtime's DLQ send would). */
  enqueue(
    queue: MemoryQueue,
    entry: {
      readonly MessageBody?: string | undefined;
      readonly MessageAttributes?: Record<string, MessageAttributeValue> | undefined;
      readonly DelaySeconds?: number | undefined;
      readonly MessageGroupId?: string | undefined;
      readonly MessageDeduplicationId?: string | undefined;
    },
  ): { MessageId: string; MD5OfMessageBody: string; SequenceNumber?: string } {
    const body = entry.MessageBody ?? "";
    const now = this.clock.now();
    if (queue.fifo && !entry.MessageGroupId) {
      throw sqsError("MissingParameter", "a FIFO queue needs a MessageGroupId");
    }
    // As SQS (and LocalStack) answer: a standard queue takes a MessageGroupId (a fair queue's
    // tenant) but refuses a deduplication id.
    if (!queue.fifo && entry.MessageDeduplicationId !== undefined) {
      throw sqsError(
        "InvalidParameterValue",
        "MessageDeduplicationId is not valid for a standard queue (only MessageGroupId is)",
      );
    }
    const deduplicationId = queue.fifo
      ? (entry.MessageDeduplicationId ?? createHash("sha256").update(body).digest("hex"))
      : undefined;
    if (deduplicationId !== undefined) {
      const seen = queue.deduplicated.get(deduplicationId);
      // SQS accepts a duplicate within the interval and delivers nothing.
      if (seen !== undefined && now - seen < DEDUPLICATION_MS) {
        return { MessageId: randomUUID(), MD5OfMessageBody: md5(body) };
      }
      queue.deduplicated.set(deduplicationId, now);
    }
    this.sequence += 1n;
    const sequenceNumber = queue.fifo ? String(10_000_000_000_000_000_000n + this.sequence) : undefined;
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      messageAttributes: { ...(entry.MessageAttributes ?? {}) },
      sentAtMs: now,
      receiveCount: 0,
      visibleAtMs: now + (entry.DelaySeconds ?? 0) * 1000,
      ...(entry.MessageGroupId ? { groupId: entry.MessageGroupId } : {}),
      ...(sequenceNumber ? { sequenceNumber } : {}),
      ...(deduplicationId ? { deduplicationId } : {}),
    };
    queue.messages.push(message);
    return {
      MessageId: message.messageId,
      MD5OfMessageBody: md5(body),
      ...(sequenceNumber ? { SequenceNumber: sequenceNumber } : {}),
    };
  }

  private async receive(
    queue: MemoryQueue,
    max: number,
    waitSeconds: number,
  ): Promise<{ Messages?: Message[] }> {
    const deadline = this.clock.now() + waitSeconds * 1000;
    for (;;) {
      const taken = this.take(queue, max);
      if (taken.length > 0 || this.clock.now() >= deadline || this.receivesEnded) {
        return taken.length > 0 ? { Messages: taken } : {};
      }
      await this.park(queue, deadline);
    }
  }

  /** Waits until something may have changed on the queue, or the wait ends. */
  private park(queue: MemoryQueue, deadlineMs: number): Promise<void> {
    return new Promise((resolve) => {
      const nextVisible = queue.messages.reduce(
        (min, m) => (m.visibleAtMs > this.clock.now() ? Math.min(min, m.visibleAtMs) : min),
        Number.POSITIVE_INFINITY,
      );
      const wakeAt = Math.min(deadlineMs, nextVisible);
      let timer: unknown;
      const parked: ParkedReceive = {
        queue,
        retry: () => {
          this.clock.clearTimeout(timer);
          this.parked = this.parked.filter((p) => p !== parked);
          resolve();
        },
      };
      timer = this.clock.setTimeout(parked.retry, wakeAt - this.clock.now());
      this.parked.push(parked);
    });
  }

  private wakeParked(): void {
    for (const parked of [...this.parked]) {
      if (parked.queue.visible > 0) parked.retry();
    }
  }

  /** One receive's messages: visible ones, in order; on FIFO, none of a group with one in flight. */
  private take(queue: MemoryQueue, max: number): Message[] {
    const now = this.clock.now();
    const lockedGroups = new Set(
      queue.fifo
        ? queue.messages.filter((m) => m.visibleAtMs > now && m.receiveCount > 0).map((m) => m.groupId)
        : [],
    );
    const taken: Message[] = [];
    for (const message of [...queue.messages]) {
      if (taken.length >= max) break;
      if (message.visibleAtMs > now) {
        // FIFO: a group's later messages never pass an earlier one that is delayed or in flight.
        if (queue.fifo) lockedGroups.add(message.groupId);
        continue;
      }
      if (queue.fifo && lockedGroups.has(message.groupId)) continue;
      const redrive = queue.settings.redrive;
      if (redrive && message.receiveCount >= redrive.maxReceiveCount) {
        this.moveToDeadLetterQueue(queue, message, this.queue(redrive.deadLetterQueue));
        continue;
      }
      message.receiveCount += 1;
      message.firstReceiveAtMs ??= now;
      message.receiptHandle = randomUUID();
      message.visibleAtMs = now + queue.settings.visibilityTimeoutSeconds * 1000;
      taken.push(toMessage(message));
    }
    return taken;
  }

  /** SQS's own redrive: the message moves as it is (same id, body and attributes), with no reason. */
  private moveToDeadLetterQueue(from: MemoryQueue, message: StoredMessage, to: MemoryQueue): void {
    from.messages.splice(from.messages.indexOf(message), 1);
    const { receiptHandle: _, ...rest } = message;
    to.messages.push({ ...rest, receiveCount: 0, visibleAtMs: this.clock.now() });
  }

  private delete(queue: MemoryQueue, receiptHandle: string | undefined): void {
    // A stale receipt handle (the message was received again since) succeeds and deletes nothing.
    const index = queue.messages.findIndex((m) => m.receiptHandle === receiptHandle);
    if (index >= 0) queue.messages.splice(index, 1);
  }

  private changeVisibility(
    queue: MemoryQueue,
    receiptHandle: string | undefined,
    seconds: number,
  ): { Code: string; Message: string } | undefined {
    const message = queue.messages.find((m) => m.receiptHandle === receiptHandle);
    if (!message) return { Code: "ReceiptHandleIsInvalid", Message: "the receipt handle is not current" };
    if (message.visibleAtMs <= this.clock.now()) {
      return { Code: "AWS.SimpleQueueService.MessageNotInflight", Message: "the message is not in flight" };
    }
    if (!(Number.isInteger(seconds) && seconds >= 0 && seconds <= 43_200)) {
      return { Code: "InvalidParameterValue", Message: `VisibilityTimeout ${seconds} is out of range` };
    }
    message.visibleAtMs = this.clock.now() + seconds * 1000;
    return undefined;
  }
}

function toMessage(message: StoredMessage): Message {
  return {
    MessageId: message.messageId,
    ReceiptHandle: message.receiptHandle,
    Body: message.body,
    MD5OfBody: md5(message.body),
    Attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAtMs),
      ApproximateFirstReceiveTimestamp: String(message.firstReceiveAtMs ?? message.sentAtMs),
      SenderId: ACCOUNT,
      ...(message.groupId ? { MessageGroupId: message.groupId } : {}),
      ...(message.sequenceNumber ? { SequenceNumber: message.sequenceNumber } : {}),
      ...(message.deduplicationId ? { MessageDeduplicationId: message.deduplicationId } : {}),
    },
    ...(Object.keys(message.messageAttributes).length > 0
      ? { MessageAttributes: structuredClone(message.messageAttributes) }
      : {}),
  };
}

function md5(text: string): string {
  return createHash("md5").update(text).digest("hex");
}

function sqsError(code: string, message: string): Error {
  const error = new Error(message);
  error.name = code;
  return error;
}
