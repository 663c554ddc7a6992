/**
 * One Powertools Tracer per consumer, shared by its runtime (a subsegment per batch) and its
 * handler module (the AWS clients whose calls are the consumer's side effects). Outside Lambda
 * (local workers, tests) Powertools turns tracing off: captureAWSv3Client returns the client as it
 * is and the runtime does no tracing work. On Lambda with active tracing (the stack's default),
 * X-Ray shows each captured call, and fetch (the team webhook), under the invocation.
 */
import { Tracer } from "@aws-lambda-powertools/tracer";

const tracers = new Map<string, Tracer>();

export function consumerTracer(consumer: string): Tracer {
  let tracer = tracers.get(consumer);
  if (!tracer) {
    tracer = new Tracer({ serviceName: consumer });
    tracers.set(consumer, tracer);
  }
  return tracer;
}

/** The client, with its calls recorded as subsegments of the consumer's trace where tracing is on. */
export function tracedClient<T>(consumer: string, client: T): T {
  return consumerTracer(consumer).captureAWSv3Client(client);
}
