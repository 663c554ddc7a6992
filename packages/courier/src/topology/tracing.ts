/**
 * A handler's AWS clients, traced under the consumer's record spans (OpenTelemetry; a no-op until
 * the application registers an SDK). Re-exported from the library so the topology layer and the
 * package root share one definition.
 */
export { tracedClient, tracedFetch } from "../lib/trace/traced-client.ts";
