/** Dead letters grouped by cause, as the console's triage view lists them. */
import type { PeekedMessage } from "../lib/redrive/peek.ts";
import type { MessageSummary, TriageGroup } from "./api.ts";
import { maskPersonalText } from "./personal-data.ts";

export function summarize(message: PeekedMessage): MessageSummary {
  return {
    messageId: message.messageId,
    ...(message.type ? { type: message.type } : {}),
    ...(message.eventId ? { eventId: message.eventId } : {}),
    ...(message.ageSeconds !== undefined ? { ageSeconds: message.ageSeconds } : {}),
    ...(message.firstSeenAt ? { firstSeenAt: message.firstSeenAt } : {}),
    receiveCount: message.receiveCount,
    redriveCount: message.redriveCount,
    reason: maskPersonalText(message.reason),
  };
}

/** Groups by cause, largest group first; within a group, oldest message first. */
export function groupByCause(messages: readonly PeekedMessage[]): TriageGroup[] {
  const byCause = new Map<string, PeekedMessage[]>();
  for (const message of messages) {
    const group = byCause.get(message.cause);
    if (group) group.push(message);
    else byCause.set(message.cause, [message]);
  }
  return [...byCause.entries()]
    .map(([cause, members]): TriageGroup => {
      const times = members.flatMap((m) => (m.firstSeenAt ? [m.firstSeenAt] : [])).sort();
      const sorted = [...members].sort((a, b) => (a.firstSeenAt ?? "").localeCompare(b.firstSeenAt ?? ""));
      const first = times[0];
      const last = times.at(-1);
      return {
        // causeOf already masks addresses and numbers; the key must stay exact for the redrive filter.
        cause,
        errorClass: members[0]?.errorClass ?? "unknown",
        count: members.length,
        ...(first ? { firstSeenAt: first } : {}),
        ...(last ? { lastSeenAt: last } : {}),
        types: [...new Set(members.map((m) => m.type ?? "(none)"))].sort(),
        messages: sorted.map(summarize),
      };
    })
    .sort((a, b) => b.count - a.count || a.cause.localeCompare(b.cause));
}
