/**
 * `--topology <module>`: the team's own topology, loaded from their project, so `courier publish`
 * validates against the contracts themselves (a deployed stack carries only their type and
 * version). A JavaScript module, or TypeScript where Node.js strips types (22.18+, 23.6+).
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { TopicSpec } from "../lib/contracts/topic-spec.ts";
import { CliError, oneLineReason } from "./output.ts";

/** What the CLI needs of a topology made by defineTopology: its topics and their contracts. */
export interface LoadedTopology {
  readonly path: string;
  readonly topics: Readonly<Record<string, TopicSpec>>;
}

function isContract(value: unknown): boolean {
  const c = value as Record<string, unknown> | null;
  return (
    typeof c === "object" &&
    c !== null &&
    typeof c.type === "string" &&
    typeof c.version === "number" &&
    typeof (c.data as { safeParse?: unknown } | undefined)?.safeParse === "function" &&
    typeof c.filterAttributes === "function"
  );
}

function isTopology(value: unknown): value is { topics: Record<string, TopicSpec> } {
  const topics = (value as { topics?: unknown } | null)?.topics;
  if (typeof topics !== "object" || topics === null) return false;
  return Object.values(topics).every((t) => isContract((t as { current?: unknown } | null)?.current));
}

export async function loadTopologyModule(path: string, cwd = process.cwd()): Promise<LoadedTopology> {
  const absolute = resolve(cwd, path);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ERR_UNKNOWN_FILE_EXTENSION" && /\.[cm]?ts$/.test(absolute)) {
      throw new CliError(
        `cannot load --topology ${path}: Node.js ${process.version} does not run TypeScript; use Node.js 22.18 or newer, or pass the compiled .js module`,
      );
    }
    throw new CliError(`cannot load --topology ${path}: ${oneLineReason(error)}`);
  }
  // The default or `topology` export; else the module's only topology, whatever its name.
  const named = [module.default, module.topology].find(isTopology);
  const others = Object.entries(module).filter(([, value]) => isTopology(value));
  const candidate = named ?? (others.length === 1 ? others[0]?.[1] : undefined);
  if (!isTopology(candidate)) {
    throw new CliError(
      others.length > 1
        ? `--topology ${path} exports several topologies (${others.map(([n]) => n).join(", ")}); export the one to use as default or as "topology"`
        : `--topology ${path} exports no topology: export the one made by defineTopology as default or as "topology"`,
    );
  }
  return { path, topics: candidate.topics };
}

/** A topic of the loaded topology, or one line naming the module's topics (a usage error). */
export function moduleTopic(loaded: LoadedTopology, name: string): TopicSpec {
  const spec = Object.hasOwn(loaded.topics, name) ? loaded.topics[name] : undefined;
  if (spec) return spec;
  throw new CliError(
    `unknown topic "${name}" in --topology ${loaded.path}; its topics: ${Object.keys(loaded.topics).join(", ")}`,
    2,
  );
}
