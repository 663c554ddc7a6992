/**
 * README's code that claims to be a file of this repository is that file, to the character.
 * Failure mode covered: the example in "Testing your consumers" drifting from the test that runs it.
 */
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

it("GIVEN README's test-kit example WHEN compared with test/unit/testing-readme.test.ts THEN it is the same text", () => {
  expect(read("README.md")).toContain(`\`\`\`ts\n${read("test/unit/testing-readme.test.ts")}\`\`\``);
});
