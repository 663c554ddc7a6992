/** Output helpers so every command honours `--json` and fails with one line. */

export interface OutputOptions {
  json?: boolean;
}

/** Prints `data` as JSON with --json, else the human rendering. */
export function emit(options: OutputOptions, data: unknown, human: () => string): void {
  if (options.json) {
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  } else {
    process.stdout.write(`${human()}\n`);
  }
}

/** An error the CLI reports as one line and a non-zero exit, without a stack trace. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export function oneLineReason(error: unknown): string {
  const text = error instanceof Error ? `${error.message}` : String(error);
  return text.split("\n")[0] ?? "unknown error";
}
