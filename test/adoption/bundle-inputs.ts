/**
 * What a handler bundle is made of: the inputs esbuild's metafile lists, or the sources of the
 * source map the construct's bundling writes beside each asset, and which of them have no place in
 * a Lambda handler (CDK, build tooling, courier's constructs, CLI, console or worker, the example).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const PACKAGE = "@courier-queue/courier";

const FORBIDDEN: readonly { readonly what: string; readonly test: RegExp }[] = [
  { what: "CDK", test: /node_modules\/(aws-cdk-lib|constructs|cdk-nag)\// },
  { what: "build tooling", test: /node_modules\/(esbuild|typescript|tsx)\// },
  // Sources map through dist/ to the package's src/ paths: both count.
  {
    what: "courier's constructs, CLI, console or worker",
    test: new RegExp(`node_modules/${PACKAGE}/(dist|src)/(cdk|cli|console|worker)/`),
  },
  { what: "courier's example application", test: /(^|\/)(src\/app|lambdas|cdk\/stacks)\// },
];

/** Each input that has no place in a handler bundle, with why. */
export function forbiddenInputs(inputs: readonly string[]): string[] {
  return inputs.flatMap((input) => {
    const rule = FORBIDDEN.find((r) => r.test.test(input));
    return rule ? [`${input} (${rule.what})`] : [];
  });
}

/** "zod", "@aws-lambda-powertools/logger", or "(project)" for the team's own files. */
export function packageOf(input: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(input);
  return match?.[1] ?? "(project)";
}

export interface AssetBundle {
  readonly dir: string;
  readonly bytes: number;
  /** The source map's sources; undefined when the asset has no map. */
  readonly sources: readonly string[] | undefined;
}

/** The bundled Lambda assets (asset.<hash>/index.mjs or index.js) of a cloud assembly. */
export function assetBundles(cdkOut: string): AssetBundle[] {
  return readdirSync(cdkOut)
    .filter((name) => name.startsWith("asset.") && statSync(join(cdkOut, name)).isDirectory())
    .flatMap((name) => {
      const dir = join(cdkOut, name);
      const file = ["index.mjs", "index.js"].map((f) => join(dir, f)).find((f) => existsSync(f));
      if (!file) return [];
      const map = `${file}.map`;
      const sources = existsSync(map)
        ? (JSON.parse(readFileSync(map, "utf8")) as { sources: string[] }).sources
        : undefined;
      return [{ dir, bytes: statSync(file).size, sources }];
    });
}
