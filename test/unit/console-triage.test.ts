/**
 * Grouping dead letters by cause for the triage view.
 * Failure modes: one cause split or two merged; counts, first/last seen or types wrong; personal
 * data in a reason shown in clear.
 */
import { describe, expect, it } from "vitest";
import { groupByCause } from "../../packages/courier/src/console/triage.ts";
import type { PeekedMessage } from "../../packages/courier/src/lib/redrive/peek.ts";

function peeked(id: string, cause: string, firstSeenAt: string, type = "NewAccount"): PeekedMessage {
  return {
    messageId: id,
    type,
    errorClass: cause.split(":")[0] ?? "unknown",
    cause,
    reason: `${cause} for ada@example.com`,
    receiveCount: 1,
    redriveCount: 0,
    body: "{}",
    attributes: {},
    firstSeenAt,
  };
}

describe("groupByCause", () => {
  const groups = groupByCause([
    peeked("a", "TimeoutError: timed out after <n> ms", "2026-01-01T00:00:03.000Z"),
    peeked("b", "TemplateMissingError: template <id> is missing", "2026-01-01T00:00:01.000Z"),
    peeked("c", "TimeoutError: timed out after <n> ms", "2026-01-01T00:00:01.000Z", "ImageUploaded"),
    peeked("d", "TimeoutError: timed out after <n> ms", "2026-01-01T00:00:02.000Z"),
  ]);

  it("GIVEN messages of two causes WHEN grouped THEN two groups, largest first, with their counts", () => {
    expect(groups.map((g) => [g.cause, g.count])).toEqual([
      ["TimeoutError: timed out after <n> ms", 3],
      ["TemplateMissingError: template <id> is missing", 1],
    ]);
  });

  it("GIVEN a group WHEN summarized THEN first and last seen, types, and messages oldest first", () => {
    const [timeouts] = groups;
    expect(timeouts?.firstSeenAt).toBe("2026-01-01T00:00:01.000Z");
    expect(timeouts?.lastSeenAt).toBe("2026-01-01T00:00:03.000Z");
    expect(timeouts?.types).toEqual(["ImageUploaded", "NewAccount"]);
    expect(timeouts?.messages.map((m) => m.messageId)).toEqual(["c", "d", "a"]);
  });

  it("GIVEN a reason naming an address WHEN summarized THEN the address is masked", () => {
    expect(groups[0]?.messages[0]?.reason).toContain("a•••@example.com");
    expect(groups[0]?.messages[0]?.reason).not.toContain("ada@example.com");
  });
});
