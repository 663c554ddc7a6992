/**
 * The queue addresses the runtime needs (ChangeMessageVisibility on the source queue, SendMessage
 * to the DLQ), from the environment the CDK stack and the local run set through
 * `consumerEnvironment()`. Parsed at first use, so importing a handler module needs no environment.
 */
import * as z from "zod/mini";
import "../zod-locale.ts";
import { parseEnv } from "../config.ts";
import { RUNTIME_ENV as ENV } from "../runtime-env.ts";
import { ConsumerConfigError } from "./errors.ts";

export interface QueueAddresses {
  readonly queueUrl: string;
  readonly dlqUrl: string;
}

const queueUrl = (_name: string) =>
  z.pipe(
    z.string({ error: "is not set" }).check(z.minLength(1, "is not set")),
    z.url({ error: (issue) => `is not a URL (${JSON.stringify(issue.input)})` }),
  );

const queueAddressesSchema = z.object({
  [ENV.queueUrl]: queueUrl(ENV.queueUrl),
  [ENV.dlqUrl]: queueUrl(ENV.dlqUrl),
});

export function queueAddressesFromEnv(env: NodeJS.ProcessEnv = process.env): QueueAddresses {
  const parsed = parseEnv(queueAddressesSchema, env, {
    context: "consumer runtime configuration",
    error: ConsumerConfigError,
  });
  return { queueUrl: parsed[ENV.queueUrl], dlqUrl: parsed[ENV.dlqUrl] };
}
