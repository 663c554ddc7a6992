/**
 * Installs LocalStack 4.14.0 into the project's virtualenv (reused when complete), the step CI and a
 * new clone run before the integration tests. `npm run localstack:install`.
 */
import { localstackPaths } from "../src/dev/localstack.ts";
import { installLocalStack } from "../src/dev/localstack-venv.ts";

const paths = localstackPaths();
try {
  const result = await installLocalStack({
    ...(process.env.COURIER_PYTHON ? { python: process.env.COURIER_PYTHON } : {}),
    venvDir: paths.venvDir,
    constraintsFile: paths.constraintsFile,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(
    result.installed
      ? `installed LocalStack into ${result.venvDir} in ${result.seconds} s\n`
      : `LocalStack already installed in ${result.venvDir}\n`,
  );
} catch (error) {
  process.stderr.write(`localstack-install: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
