/**
 * Unit and CDK files share worker processes (`isolate: false`: each file re-importing the AWS SDK,
 * Powertools and aws-cdk-lib was half of those layers' time). aws-sdk-client-mock stubs a client
 * class's `send` on its prototype through sinon's default sandbox and no file restores it, so a later
 * file in the same process would meet the last file's stub: restore everything after each file.
 * `require`, not `import`: it must be the CommonJS sinon aws-sdk-client-mock itself requires.
 */
import { createRequire } from "node:module";
import { afterAll } from "vitest";

const sinon = createRequire(createRequire(import.meta.url).resolve("aws-sdk-client-mock"))("sinon") as {
  restore(): void;
};

afterAll(() => sinon.restore());
