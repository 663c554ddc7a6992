/**
 * Settings from the environment, parsed with zod at cold start, the same way everywhere: a missing
 * or malformed setting fails with one message that names each variable, and keeps zod's error as
 * `cause` for whoever wants the detail.
 */
import * as z from "zod/mini";
import "./zod-locale.ts";

/** A setting is missing or malformed; the message names the variable(s). */
export class ConfigError extends Error {
  override readonly name: string = "ConfigError";
}

type ConfigErrorClass = new (message: string, options?: { cause?: unknown }) => ConfigError;

export interface ParseEnvOptions {
  /** Says whose settings these are: "verification-email: invalid configuration". */
  readonly context: string;
  /** The error to throw, a ConfigError subclass naming the component. @default ConfigError */
  readonly error?: ConfigErrorClass;
}

/** "MAIL_FROM is not set (the sender)": the variable, then zod's message for it. */
function problemOf(issue: z.core.$ZodIssue, env: NodeJS.ProcessEnv): string {
  const name = String(issue.path[0] ?? "?");
  const message = issue.message.startsWith(name)
    ? issue.message.slice(name.length).trimStart()
    : issue.message;
  return env[name] === undefined && issue.code === "invalid_type" && !/not set|required/.test(message)
    ? `${name} is not set`
    : `${name} ${message}`;
}

export function parseEnv<S extends z.core.$ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv,
  options: ParseEnvOptions,
): z.output<S> {
  // zod's function, not a method: the schema may be classic zod or zod/mini.
  const result = z.safeParse(schema, env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => problemOf(issue, env));
  const ErrorClass = options.error ?? ConfigError;
  throw new ErrorClass(`${options.context}: ${problems.join("; ")}`, { cause: result.error });
}
