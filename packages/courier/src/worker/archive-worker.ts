/**
 * A topic's archiver as a worker: `archive:<topic>` runs the package's archiver handler on the
 * topic's archive queue through the local event source, as Lambda runs it in AWS. Where the stack's
 * functions are not deployed (LocalStack here), `npm start` and `courier work` run these beside the
 * consumers; a container may too.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  type DeployedConsumer,
  type DeployedTopology,
  deployedConsumer,
  deployedTopic,
} from "../deployment/deployed-topology.ts";

export const ARCHIVE_WORKER_PREFIX = "archive:";

/** The archiver handler module shipped beside the worker: JavaScript when installed, TypeScript here. */
export function archiverHandlerModule(): string {
  for (const extension of [".js", ".ts"]) {
    const path = fileURLToPath(new URL(`../archive-function/handler${extension}`, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error("courier's archiver handler is missing beside the worker (a broken install?)");
}

/** `archive:<topic>` for each archived topic of the stack. */
export function archiveWorkerNames(topology: DeployedTopology): string[] {
  return Object.values(topology.topics)
    .filter((t) => t.archive !== undefined)
    .map((t) => `${ARCHIVE_WORKER_PREFIX}${t.name}`);
}

/** The archivers a deployment left to workers (no function: LocalStack here). */
export function undeployedArchiverNames(topology: DeployedTopology): string[] {
  return Object.values(topology.topics)
    .filter((t) => t.archive !== undefined && t.archive.functionName === undefined)
    .map((t) => `${ARCHIVE_WORKER_PREFIX}${t.name}`);
}

export function isArchiveWorkerName(name: string): boolean {
  return name.startsWith(ARCHIVE_WORKER_PREFIX);
}

/**
 * A consumer of the stack by name, or the archiver of a topic (`archive:<topic>`) in a consumer's
 * shape, so the worker pool runs it like any other.
 */
export function workerConsumer(topology: DeployedTopology, name: string): DeployedConsumer {
  if (!isArchiveWorkerName(name)) return deployedConsumer(topology, name);
  const topic = deployedTopic(topology, name.slice(ARCHIVE_WORKER_PREFIX.length));
  const archive = topic.archive;
  if (!archive) throw new Error(`topic "${topic.name}" of stack "${topology.stackName}" keeps no archive`);
  return {
    name,
    topic: topic.name,
    description: `archiver of ${topic.name}`,
    handlerEntry: archiverHandlerModule(),
    queueUrl: archive.queueUrl,
    queueArn: archive.queueArn,
    dlqUrl: archive.dlqUrl,
    dlqArn: archive.dlqArn,
    ...(archive.subscriptionDlqUrl ? { subscriptionDlqUrl: archive.subscriptionDlqUrl } : {}),
    fifo: topic.fifo,
    maxReceiveCount: 5,
    batchSize: archive.batchSize,
    maxBatchingWindowSeconds: archive.maxBatchingWindowSeconds,
    maxConcurrency: 2,
    timeoutSeconds: 60,
    visibilityTimeoutSeconds: 360,
    backoff: { baseSeconds: 2, maxSeconds: 60 },
    environment: {
      POWERTOOLS_SERVICE_NAME: `archive-${topic.name}`,
      ...archive.environment,
    },
  };
}
