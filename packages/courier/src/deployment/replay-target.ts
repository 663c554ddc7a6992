/**
 * What a replay or an archive command needs from a deployed stack: the consumer's queue, delivery
 * mode and filter policy, and its topic's archive. The library (lib/replay, lib/archive) is given
 * these and knows nothing of manifests.
 */

import type { S3Client } from "@aws-sdk/client-s3";
import type { ReplaySources } from "../lib/replay/replay.ts";
import { type DeployedTopology, deployedConsumer, deployedTopic } from "./deployed-topology.ts";

export class NoArchiveError extends Error {
  override readonly name = "NoArchiveError";
}

/** The replay sources for one consumer of the stack, or an error saying why it cannot be replayed. */
export function replaySourcesOf(
  topology: DeployedTopology,
  consumerName: string,
  s3: S3Client,
): ReplaySources {
  const consumer = deployedConsumer(topology, consumerName);
  const topic = deployedTopic(topology, consumer.topic);
  if (!topic.archive) {
    throw new NoArchiveError(
      `topic "${topic.name}" of stack "${topology.stackName}" keeps no archive (archive: false, or deployed before courier archived topics); nothing to replay`,
    );
  }
  return {
    s3,
    bucket: topic.archive.bucket,
    target: {
      consumer: consumer.name,
      topic: topic.name,
      topicArn: topic.arn,
      queueUrl: consumer.queueUrl,
      fifo: consumer.fifo,
      ...(consumer.tenant && !consumer.fifo ? { tenant: consumer.tenant } : {}),
      ...(consumer.filterPolicy ? { filterPolicy: consumer.filterPolicy } : {}),
    },
  };
}

/** Every archived topic of the stack with its archive. */
export function archivedTopics(topology: DeployedTopology) {
  return Object.values(topology.topics).flatMap((t) =>
    t.archive ? [{ topic: t.name, archive: t.archive }] : [],
  );
}
