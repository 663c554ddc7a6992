/**
 * @courier-queue/courier/worker: worker mode. Runs a deployed courier stack's consumers outside
 * Lambda (a container, a laptop) through a local event source with Lambda's SQS semantics (batch
 * size and window, partial batch responses, visibility extension, FIFO group order, `courier
 * pause`). Everything comes from the stack's manifest; no CDK here.
 *
 *   const topology = await readDeployedTopology("acme-orders", {});
 *   const worker = await startWorker({ topology, consumer: "invoice" });
 *   process.once("SIGTERM", () => void worker.stop().then(() => process.exit(0)));
 */

export {
  type AwsTarget,
  localTarget,
  resolveTarget,
  type TargetClientConfig,
  type TargetOptions,
  targetClientConfig,
} from "../deployment/aws-target.ts";
// Reading the deployed stack, and where its AWS is.
export {
  describeStack,
  outputsOf,
  readDeployedTopology,
  StackNotFoundError,
} from "../deployment/deployed-stack.ts";
export {
  type DeployedConsumer,
  type DeployedTopic,
  type DeployedTopology,
  deployedConsumer,
  InvalidManifestError,
  MissingStackOutputError,
  topologyFromOutputs,
  UnknownConsumerError,
} from "../deployment/deployed-topology.ts";
export type { RecordOutcome } from "../lib/consumer/outcomes.ts";
export {
  ARCHIVE_WORKER_PREFIX,
  archiveWorkerNames,
  isArchiveWorkerName,
  undeployedArchiverNames,
  workerConsumer,
} from "./archive-worker.ts";
// The bundles a synthesized assembly deploys, run here instead of the sources.
export {
  type BundledHandlerOptions,
  BundleImportError,
  BundleNotFoundError,
  bundledHandlerModules,
} from "./bundles.ts";
// The event source itself, for a handler and queue of one's own.
export {
  DEFAULT_FAIR_LOOKAHEAD,
  type EventSourceOptions,
  type EventSourceStats,
  type FairTenantOptions,
  LocalEventSource,
  type SqsHandler,
} from "./event-source.ts";
// Fair delivery per tenant, as SQS fair queues serve it.
export {
  FAIR_DEFAULTS,
  FairTenantScheduler,
  type FairTenantSettings,
  type TenantLoad,
  tenantOfMessage,
} from "./fair-tenants.ts";
export { formatOutcomeLine, wantsColour } from "./outcome-line.ts";
export { WORKER_LOGS_ENV, type WorkerLogs } from "./readable-output.ts";
export {
  type LoadHandlerOptions,
  loadHandler,
  type RunConsumerOptions,
  type RunningConsumer,
  runConsumer,
  WorkerConfigError,
} from "./run-consumer.ts";
// Starting workers from a deployed stack.
export {
  type EnvironmentOverrides,
  type StartWorkerOptions,
  type StartWorkersOptions,
  startWorker,
  startWorkers,
  type WorkerPlanOptions,
  workerPlans,
} from "./start.ts";
export {
  WorkerExitError,
  type WorkerPlan,
  WorkerPool,
  type WorkerPoolEvents,
  type WorkerState,
} from "./worker.ts";
export {
  HandlerModuleNotFoundError,
  resolveHandlerModule,
  WORKER_BUNDLE_ENV,
  WORKER_CONCURRENCY_ENV,
  WORKER_WAIT_SECONDS_ENV,
  type WorkerEnvironmentOptions,
  WorkerOptionError,
  type WorkerSettings,
  type WorkerTarget,
  workerEnvironment,
  workerSettingsOf,
} from "./worker-environment.ts";
export type { WorkerMessage } from "./worker-process.ts";
export { workerTarget } from "./worker-target.ts";
