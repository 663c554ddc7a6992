/**
 * Installs LocalStack into a project-local Python virtualenv. LocalStack 4.14.0 is the last release
 * that runs without an account token, and it runs without Docker as a Python process on the host,
 * so a venv plus the pinned constraints the project ships is all a new user needs.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const LOCALSTACK_VERSION = "4.14.0";
/**
 * localstack-core 4.14.0 declares Python >= 3.10 but its code uses PEP 695 generics (`class
 * InterruptibleQueue[T](Queue)` in its SQS provider): on 3.11 it boots, answers /_localstack/health,
 * then fails every SQS and CloudFormation call with "invalid syntax". On 3.12 SQS fails too:
 * `localstack/utils/tagging.py` imports `warnings.deprecated`, new in 3.13 (its constraints file
 * was compiled with 3.13). So 3.13 is the real minimum.
 */
export const MIN_PYTHON: readonly [number, number] = [3, 13];

export interface VenvOptions {
  /** The virtualenv directory (created when absent). */
  readonly venvDir: string;
  /** The pip constraints file pinning LocalStack's dependency set. */
  readonly constraintsFile: string;
  /** The interpreter that creates the venv (the harness passes COURIER_PYTHON). @default the first suitable one found */
  readonly python?: string;
  readonly log?: (line: string) => void;
}

export interface VenvInstall {
  readonly venvDir: string;
  readonly python: string;
  /** False when a complete venv was already there. */
  readonly installed: boolean;
  readonly seconds: number;
}

export class PythonMissingError extends Error {
  override readonly name = "PythonMissingError";
  constructor(python: string, detail: string) {
    super(
      `LocalStack 4.14 needs Python ${MIN_PYTHON.join(".")}+ but ${python} ${detail}; install Python 3.13+ ` +
        "(or set COURIER_PYTHON), or run LocalStack in Docker and set AWS_ENDPOINT_URL",
    );
  }
}

export class LocalStackInstallError extends Error {
  override readonly name = "LocalStackInstallError";
}

/** The file written once pip finished, so an interrupted install is never mistaken for a complete one. */
export function venvMarker(venvDir: string): string {
  return join(venvDir, `.courier-localstack-${LOCALSTACK_VERSION}`);
}

export function venvPython(venvDir: string): string {
  return process.platform === "win32"
    ? join(venvDir, "Scripts", "python.exe")
    : join(venvDir, "bin", "python");
}

interface RunResult {
  readonly code: number | null;
  readonly output: string;
}

function run(command: string, args: readonly string[], log?: (line: string) => void): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const collect = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      if (log) for (const line of text.split("\n")) if (line.trim()) log(line);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

function tail(text: string, lines = 15): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

function parseVersion(text: string): [number, number] | undefined {
  const match = /^(\d+)\.(\d+)\.\d+/.exec(text.trim());
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

function recentEnough(version: [number, number]): boolean {
  return version[0] > MIN_PYTHON[0] || (version[0] === MIN_PYTHON[0] && version[1] >= MIN_PYTHON[1]);
}

/** The interpreter's version, or undefined when it does not run. */
async function pythonVersion(python: string): Promise<string | undefined> {
  const result = await run(python, ["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"]).catch(
    () => undefined,
  );
  return result?.code === 0 && parseVersion(result.output) ? result.output.trim() : undefined;
}

/** pyenv installs interpreters it does not put on PATH unless selected; look there too. */
async function pyenvInterpreters(): Promise<string[]> {
  const root = await run("pyenv", ["root"]).catch(() => undefined);
  const dir = root?.code === 0 ? join(root.output.trim(), "versions") : undefined;
  if (!dir || !existsSync(dir)) return [];
  const versions = (await readdir(dir)).filter((v) => /^3\.\d+\.\d+$/.test(v));
  versions.sort((a, b) => b.localeCompare(a, undefined, { numeric: true }));
  return versions.map((v) => join(dir, v, "bin", "python3"));
}

/**
 * Picks the interpreter that creates the venv: `COURIER_PYTHON` when set, else the first of
 * python3.14, python3.13, python3 and pyenv's installed versions that is 3.13 or later.
 */
export async function findPython(explicit: string | undefined): Promise<{
  python: string;
  version: string;
}> {
  if (explicit) {
    const version = await pythonVersion(explicit);
    if (!version) throw new PythonMissingError(`COURIER_PYTHON=${explicit}`, "does not run");
    const parsed = parseVersion(version);
    if (!parsed || !recentEnough(parsed))
      throw new PythonMissingError(`COURIER_PYTHON=${explicit}`, `is ${version}`);
    return { python: explicit, version };
  }
  const seen: string[] = [];
  for (const candidate of ["python3.14", "python3.13", "python3", ...(await pyenvInterpreters())]) {
    const version = await pythonVersion(candidate);
    if (!version) continue;
    const parsed = parseVersion(version);
    if (parsed && recentEnough(parsed)) return { python: candidate, version };
    seen.push(`${candidate} is ${version}`);
  }
  throw new PythonMissingError(
    "no interpreter",
    seen.length > 0
      ? `was found (${seen.join(", ")})`
      : "was found on PATH (python3.14, python3.13, python3)",
  );
}

/** The Python version a venv was made with, from its pyvenv.cfg. */
async function venvPythonVersion(venvDir: string): Promise<[number, number] | undefined> {
  try {
    const cfg = await readFile(join(venvDir, "pyvenv.cfg"), "utf8");
    const line = /^version(?:_info)?\s*=\s*(.+)$/m.exec(cfg);
    return line?.[1] ? parseVersion(line[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when the venv holds LocalStack at the pinned version on a recent enough Python. A venv made
 * by hand before the marker existed (the same install, without the marker) is adopted by asking
 * pip's metadata.
 */
export async function isVenvComplete(venvDir: string): Promise<boolean> {
  if (!existsSync(venvPython(venvDir))) return false;
  const version = await venvPythonVersion(venvDir);
  if (!version || !recentEnough(version)) return false;
  if (existsSync(venvMarker(venvDir))) return true;
  const probe = await run(venvPython(venvDir), [
    "-c",
    "import importlib.metadata as m, localstack.services.sqs.queue; print(m.version('localstack-core'))",
  ]).catch(() => undefined);
  if (probe?.code !== 0 || probe.output.trim() !== LOCALSTACK_VERSION) return false;
  await writeFile(venvMarker(venvDir), `adopted ${new Date().toISOString()}\n`);
  return true;
}

/** Creates the venv and pip-installs LocalStack into it, unless a complete one is there. */
export async function installLocalStack(options: VenvOptions): Promise<VenvInstall> {
  const started = performance.now();
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  if (await isVenvComplete(options.venvDir)) {
    return {
      venvDir: options.venvDir,
      python: venvPython(options.venvDir),
      installed: false,
      seconds: seconds(),
    };
  }
  if (!existsSync(options.constraintsFile)) {
    throw new LocalStackInstallError(`constraints file ${options.constraintsFile} is missing`);
  }
  const { python, version } = await findPython(options.python);
  options.log?.(`creating ${options.venvDir} with ${python} (Python ${version})`);
  await mkdir(options.venvDir, { recursive: true });
  // --clear: a venv left by an interrupted install, or made with a too-old Python, is rebuilt whole.
  const venv = await run(python, ["-m", "venv", "--clear", options.venvDir]);
  if (venv.code !== 0) {
    // Debian's python3 without python3-venv fails here with a hint worth showing.
    throw new LocalStackInstallError(
      `"${python} -m venv" failed: ${tail(venv.output, 3).replace(/\n/g, " ")}`,
    );
  }
  options.log?.(`pip install localstack-core[runtime]==${LOCALSTACK_VERSION} (about a minute)`);
  const pip = await run(venvPython(options.venvDir), [
    "-m",
    "pip",
    "install",
    "--disable-pip-version-check",
    `localstack-core[runtime]==${LOCALSTACK_VERSION}`,
    "-c",
    options.constraintsFile,
  ]);
  if (pip.code !== 0) {
    throw new LocalStackInstallError(
      `pip install of LocalStack failed (exit ${pip.code}):\n${tail(pip.output)}`,
    );
  }
  await writeFile(venvMarker(options.venvDir), `installed ${new Date().toISOString()}\n`);
  return {
    venvDir: options.venvDir,
    python: venvPython(options.venvDir),
    installed: true,
    seconds: seconds(),
  };
}
