/**
 * A Lambda `Context` for handlers run by the local event source: the fields Lambda fills, a fresh
 * request id per invocation, and `getRemainingTimeInMillis` counting down from the function
 * timeout, so handlers that budget their time behave as they would on Lambda.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";

export interface LambdaContextSettings {
  readonly functionName: string;
  readonly timeoutMs: number;
  readonly memoryMb: number;
  readonly region: string;
  readonly accountId: string;
  /** Milliseconds since the epoch; the invocation's start (default: now). */
  readonly startedAtMs?: number;
  readonly now?: () => number;
}

/** The deprecated callback-era methods: Lambda's Node.js runtimes no longer honour them either. */
function unsupported(method: string): () => never {
  return () => {
    throw new Error(`context.${method}() is not supported; return a value or throw instead`);
  };
}

export function createLambdaContext(settings: LambdaContextSettings): Context {
  const now = settings.now ?? Date.now;
  const deadline = (settings.startedAtMs ?? now()) + settings.timeoutMs;
  const day = new Date(settings.startedAtMs ?? now()).toISOString().slice(0, 10).replaceAll("-", "/");
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: settings.functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${settings.region}:${settings.accountId}:function:${settings.functionName}`,
    memoryLimitInMB: String(settings.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${settings.functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString("hex")}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done: unsupported("done"),
    fail: unsupported("fail"),
    succeed: unsupported("succeed"),
  };
}
