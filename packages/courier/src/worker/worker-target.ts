import { type AwsTarget, targetEnvironment } from "../deployment/aws-target.ts";
import type { WorkerTarget } from "./worker-environment.ts";

/** The workers' side of a target: its variables, and isolation from real credentials for LocalStack. */
export function workerTarget(target: AwsTarget): WorkerTarget {
  return { env: targetEnvironment(target), isolated: target.kind === "local" };
}
