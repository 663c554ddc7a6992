/**
 * SNS's rules for a topic's message size, checked on the topology before anything is synthesized:
 * the range of `MaximumMessageSize`, and what a topic raised above 256 KiB may have behind it.
 */
import {
  maxMessageBytesProblem,
  SNS_MAX_PAYLOAD_BYTES,
  SNS_RAISED_TOPIC_MAX_SUBSCRIPTIONS,
  topicMaxMessageBytes,
} from "../lib/publisher/size.ts";
import type { TopologySpec } from "../../../../src/topology.ts";

/** Whether SNS treats the topic as raised (subscription count and kinds limited). */
export function isRaisedTopic(spec: { readonly maxMessageBytes?: number | undefined }): boolean {
  return topicMaxMessageBytes(spec) > SNS_MAX_PAYLOAD_BYTES;
}

/** One line per topic whose size setting SNS would refuse; empty when all are fine. */
export function topicSizeProblems(topology: TopologySpec): string[] {
  const problems: string[] = [];
  const consumers = Object.values(topology.consumers);
  for (const [name, spec] of Object.entries(topology.topics)) {
    if (spec.maxMessageBytes !== undefined) {
      const problem = maxMessageBytesProblem(spec.maxMessageBytes);
      if (problem) problems.push(`topic "${name}": ${problem}`);
    }
    if (!isRaisedTopic(spec)) continue;
    // Every courier consumer subscribes an SQS queue, one subscription each; SNS refuses other
    // protocols and a 101st subscription on a raised topic, so say so at synth time, not at deploy.
    const subscriptions = consumers.filter((c) => c.topic === name).length;
    if (subscriptions > SNS_RAISED_TOPIC_MAX_SUBSCRIPTIONS) {
      problems.push(
        `topic "${name}": maxMessageBytes ${spec.maxMessageBytes} is above 262144, so SNS allows at most ${SNS_RAISED_TOPIC_MAX_SUBSCRIPTIONS} subscriptions (all SQS, Lambda or Firehose); it has ${subscriptions}`,
      );
    }
  }
  return problems;
}
