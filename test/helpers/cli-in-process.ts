/**
 * Runs the `courier` CLI in this process (its AWS clients then answer to aws-sdk-client-mock) and
 * returns what it wrote and its exit code, as a shell would see them.
 */
import { vi } from "vitest";
import { operatorCommands, runCli } from "../../packages/courier/src/cli/index.ts";

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function courierInProcess(...args: string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await runCli(operatorCommands, ["node", "courier", ...args]);
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    process.exitCode = before;
    out.mockRestore();
    err.mockRestore();
  }
}
