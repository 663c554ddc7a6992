/**
 * The local event source's FIFO scheduling (src/worker/fifo-groups.ts), as Lambda's FIFO SQS trigger
 * behaves: at most one batch in flight per message group, each group in sequence order, other
 * groups in parallel, a failed group's next batch only after its failed records are back.
 * Failure modes covered: two batches of one group in flight at once; a later record run before an
 * earlier one that arrived late (LocalStack can hand it out early); a group run past records it
 * left to come back; an early record held hidden for the whole backoff (it stalls LocalStack's
 * queue) instead of sent back behind recalled predecessors; one group's failure holding the others;
 * a record that never returns blocking its group for ever; a message received twice run twice; a
 * batch over its size.
 */
import type { Message } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { FifoScheduler } from "../../packages/courier/src/worker/fifo-groups.ts";

let seq = 0;
/** A FIFO message of `group`, with the next sequence number unless one is given. */
function msg(group: string, sequence = ++seq * 10): Message {
  return {
    MessageId: `${group}-${sequence}`,
    ReceiptHandle: `rh-${group}-${sequence}`,
    Body: `${group}#${sequence}`,
    Attributes: { MessageGroupId: group, SequenceNumber: String(sequence) },
  };
}
const ids = (messages: readonly Message[]) => messages.map((m) => m.MessageId);

function scheduler(batchSize = 10, returnWaitMs = 60_000) {
  let clock = 0;
  const s = new FifoScheduler({ batchSize, returnWaitMs, now: () => clock });
  return { s, advance: (ms: number) => (clock += ms) };
}

describe("FifoScheduler: one batch in flight per group", () => {
  it("GIVEN a group's batch is running WHEN more of that group arrives THEN nothing of it is taken until the batch settles", () => {
    const { s } = scheduler();
    const first = [msg("a", 1), msg("a", 2)];
    s.admit(first);
    expect(ids(s.take())).toEqual(["a-1", "a-2"]);
    s.admit([msg("a", 3)]);
    expect(s.take()).toEqual([]);
    s.settle(first, new Set());
    expect(ids(s.take())).toEqual(["a-3"]);
  });

  it("GIVEN group a is running WHEN group b arrives THEN b is taken at once (other groups go on in parallel)", () => {
    const { s } = scheduler();
    s.admit([msg("a", 1)]);
    expect(ids(s.take())).toEqual(["a-1"]);
    s.admit([msg("b", 2), msg("b", 3)]);
    expect(ids(s.take())).toEqual(["b-2", "b-3"]);
  });

  it("GIVEN records of one group received out of order WHEN taken THEN they come in sequence order", () => {
    const { s } = scheduler();
    s.admit([msg("a", 30), msg("a", 10), msg("a", 20)]);
    expect(ids(s.take())).toEqual(["a-10", "a-20", "a-30"]);
  });

  it("GIVEN several free groups WHEN taken with batch size 3 THEN one batch holds at most 3 records, whole groups first in written order, each group's order kept", () => {
    const { s } = scheduler(3);
    s.admit([msg("b", 5), msg("a", 1), msg("a", 2), msg("b", 6)]);
    const batch = s.take();
    expect(ids(batch)).toEqual(["a-1", "a-2", "b-5"]);
    // b is now running with b-5: its b-6 waits for that batch.
    expect(s.take()).toEqual([]);
    s.settle(batch, new Set());
    expect(ids(s.take())).toEqual(["b-6"]);
  });
});

describe("FifoScheduler: a failed group waits for its records to come back", () => {
  it("GIVEN a batch whose record 2 failed and 3 was skipped WHEN record 4 arrives before them THEN 4 is sent back and 2, 3 recalled (once); WHEN all return THEN 2, 3, 4 run in order", () => {
    const { s } = scheduler();
    const batch = [msg("a", 1), msg("a", 2), msg("a", 3)];
    s.admit(batch);
    s.take();
    s.settle(batch, new Set(["a-2", "a-3"]));
    s.admit([msg("a", 4)]);
    const early = s.early();
    expect(ids(early.sendBack)).toEqual(["a-4"]);
    expect(early.recall).toEqual(["rh-a-2", "rh-a-3"]);
    expect(s.take()).toEqual([]);
    expect(s.held()).toEqual([]);
    // Sent back again before its predecessors: no second recall.
    s.admit([msg("a", 4)]);
    expect(s.early().recall).toEqual([]);
    s.admit([msg("a", 2), msg("a", 3), msg("a", 4)]);
    expect(s.early().sendBack).toEqual([]);
    expect(ids(s.take())).toEqual(["a-2", "a-3", "a-4"]);
  });

  it("GIVEN group a's batch running WHEN a later record of a arrives THEN it is held, not sent back (the batch settles soon)", () => {
    const { s } = scheduler();
    const batch = [msg("a", 1)];
    s.admit(batch);
    s.take();
    s.admit([msg("a", 2)]);
    expect(s.early()).toEqual({ sendBack: [], recall: [] });
    expect(ids(s.held())).toEqual(["a-2"]);
  });

  it("GIVEN a record held while its group's batch ran WHEN that batch fails before it THEN it is sent back behind the recalled failed records", () => {
    const { s } = scheduler();
    const batch = [msg("a", 1), msg("a", 2)];
    s.admit(batch);
    s.take();
    s.admit([msg("a", 3)]);
    s.settle(batch, new Set(["a-2"]));
    expect(s.take()).toEqual([]);
    const early = s.early();
    expect(ids(early.sendBack)).toEqual(["a-3"]);
    expect(early.recall).toEqual(["rh-a-2"]);
  });

  it("GIVEN failed records 2 and 3 WHEN only 2 has returned THEN 2 runs alone and 4 still waits for 3", () => {
    const { s } = scheduler();
    const batch = [msg("a", 1), msg("a", 2), msg("a", 3)];
    s.admit(batch);
    s.take();
    s.settle(batch, new Set(["a-2", "a-3"]));
    s.admit([msg("a", 4), msg("a", 2)]);
    expect(ids(s.early().sendBack)).toEqual(["a-4"]);
    const retry = s.take();
    expect(ids(retry)).toEqual(["a-2"]);
    s.settle(retry, new Set());
    expect(s.take()).toEqual([]);
    s.admit([msg("a", 3), msg("a", 4)]);
    expect(ids(s.take())).toEqual(["a-3", "a-4"]);
  });

  it("GIVEN group a waits for a failed record WHEN group b arrives THEN b runs (a failure holds only its group)", () => {
    const { s } = scheduler();
    const batch = [msg("a", 1)];
    s.admit(batch);
    s.take();
    s.settle(batch, new Set(["a-1"]));
    s.admit([msg("a", 2), msg("b", 3)]);
    expect(ids(s.early().sendBack)).toEqual(["a-2"]);
    expect(ids(s.take())).toEqual(["b-3"]);
  });

  it("GIVEN a failed record that never returns (dead-lettered by SQS, or taken by another worker) WHEN the return wait has passed THEN its group goes on", () => {
    const { s, advance } = scheduler(10, 5_000);
    const batch = [msg("a", 1)];
    s.admit(batch);
    s.take();
    s.settle(batch, new Set(["a-1"]));
    advance(4_999);
    s.admit([msg("a", 2)]);
    expect(ids(s.early().sendBack)).toEqual(["a-2"]);
    advance(2);
    s.admit([msg("a", 2)]);
    expect(s.early().sendBack).toEqual([]);
    expect(ids(s.take())).toEqual(["a-2"]);
  });

  it("GIVEN a whole batch failed (the handler threw) WHEN its records return THEN they run again in order before anything later", () => {
    const { s } = scheduler();
    const batch = [msg("a", 1), msg("a", 2)];
    s.admit(batch);
    s.take();
    s.settle(batch, new Set(["a-1", "a-2"]));
    s.admit([msg("a", 3), msg("a", 2)]);
    expect(ids(s.early().sendBack)).toEqual(["a-2", "a-3"]);
    expect(s.take()).toEqual([]);
    s.admit([msg("a", 1), msg("a", 2), msg("a", 3)]);
    expect(ids(s.take())).toEqual(["a-1", "a-2", "a-3"]);
  });
  // Seen under load in ordered-work.test.ts (an account's reset emails out of publish order): a
  // failed batch's records come back from LocalStack in two parts (its requeue stopped between
  // them), the later part together with newer records of the group; whichever receive the worker
  // reads first is admitted first. Records sent back must stay awaited, or newer ones overtake them.
  it("GIVEN records 3-9 failed WHEN 6-9 and 17 come back first (sent back) and then 3-5 with 10-16 THEN 3-5 run, 10-16 wait until 6-9 are back, and all run in sequence order", () => {
    const { s } = scheduler();
    const first = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => msg("a", i));
    s.admit(first);
    s.take();
    s.settle(first, new Set(["a-3", "a-4", "a-5", "a-6", "a-7", "a-8", "a-9"]));
    s.admit([6, 7, 8, 9, 17].map((i) => msg("a", i)));
    expect(s.take()).toEqual([]);
    const early = s.early();
    expect(ids(early.sendBack)).toEqual(["a-6", "a-7", "a-8", "a-9", "a-17"]);
    expect(early.recall).toEqual(["rh-a-3", "rh-a-4", "rh-a-5"]);
    s.admit([3, 4, 5, 10, 11, 12, 13, 14, 15, 16].map((i) => msg("a", i)));
    const next = s.take();
    expect(ids(next)).toEqual(["a-3", "a-4", "a-5"]);
    s.settle(next, new Set());
    // 10-16 came before the sent-back 6-9: back behind them, not run.
    expect(s.take()).toEqual([]);
    expect(ids(s.early().sendBack)).toEqual(["a-10", "a-11", "a-12", "a-13", "a-14", "a-15", "a-16"]);
    const ran: string[] = [];
    s.admit([6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17].map((i) => msg("a", i)));
    for (let batch = s.take(); batch.length > 0; batch = s.take()) {
      ran.push(...(ids(batch) as string[]));
      s.settle(batch, new Set());
    }
    expect(ran).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17].map((i) => `a-${i}`));
  });

  it("GIVEN a record sent back early WHEN it never returns (taken by another worker, dead-lettered) THEN its group goes on after the return wait", () => {
    const { s, advance } = scheduler(10, 1_000);
    const first = [msg("a", 1), msg("a", 2)];
    s.admit(first);
    s.take();
    s.settle(first, new Set(["a-1", "a-2"]));
    s.admit([msg("a", 2)]);
    expect(ids(s.early().sendBack)).toEqual(["a-2"]);
    s.admit([msg("a", 1), msg("a", 3)]);
    const next = s.take();
    expect(ids(next)).toEqual(["a-1"]);
    s.settle(next, new Set());
    expect(s.take()).toEqual([]);
    advance(1_001);
    expect(ids(s.take())).toEqual(["a-3"]);
  });
});

describe("FifoScheduler: held messages", () => {
  it("GIVEN a failed record received again while its batch still ran WHEN the batch settles THEN that copy runs next (it is back, not awaited)", () => {
    const { s } = scheduler();
    const batch = [msg("a", 1), msg("b", 2)];
    s.admit(batch);
    s.take();
    // a-1 failed early in the batch; its backoff ran out while b-2 was still being handled.
    s.admit([{ ...msg("a", 1), ReceiptHandle: "rh-again" }]);
    s.settle(batch, new Set(["a-1"]));
    expect(s.early()).toEqual({ sendBack: [], recall: [] });
    expect(s.take().map((m) => m.ReceiptHandle)).toEqual(["rh-again"]);
  });

  it("GIVEN a message received again while held WHEN taken THEN it runs once, with its newest receipt handle", () => {
    const { s } = scheduler();
    const running = [msg("a", 1)];
    s.admit(running);
    s.take();
    s.admit([msg("a", 2)]);
    s.admit([{ ...msg("a", 2), ReceiptHandle: "rh-newer" }]);
    expect(s.held().map((m) => m.ReceiptHandle)).toEqual(["rh-newer"]);
    s.settle(running, new Set());
    expect(s.take().map((m) => m.ReceiptHandle)).toEqual(["rh-newer"]);
  });

  it("GIVEN held messages WHEN drained (stop or pause) THEN they are handed back for release", () => {
    const { s } = scheduler();
    const batch = [msg("a", 1)];
    s.admit(batch);
    s.take();
    s.admit([msg("a", 2)]);
    expect(ids(s.drain())).toEqual(["a-2"]);
    expect(s.held()).toEqual([]);
  });
});
