/**
 * The queue addresses the runtime needs (ChangeMessageVisibility on the source queue, SendMessage
 * to the DLQ), from the environment the CDK stack and the local run set through
 * `consumerEnvironment()`. Parsed at first use, so importing a handler module needs no environment.
 */
import { z } from "zod";
import { RUNTIME_ENV as ENV } from "../runtime-env.ts";
import { ConsumerConfigError } from "./errors.ts";

export interface QueueAddresses {
  readonly queueUrl: string;
  readonly dlqUrl: string;
}

const queueAddressesSchema = z.object({
  [ENV.queueUrl]: z.url(),
  [ENV.dlqUrl]: z.url(),
});

export function queueAddressesFromEnv(env: NodeJS.ProcessEnv = process.env): QueueAddresses {
  const parsed = queueAddressesSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return env[name] === undefined || env[name] === ""
        ? `${name} is not set`
        : `${name} is not a URL (${JSON.stringify(env[name])})`;
    });
    throw new ConsumerConfigError(`consumer runtime configuration: ${problems.join("; ")}`);
  }
  return { queueUrl: parsed.data[ENV.queueUrl], dlqUrl: parsed.data[ENV.dlqUrl] };
}
