/**
 * Injected ahead of a courier function's handler by the construct's `tracing: "otel"` (esbuild's
 * `inject`, so it runs before the handler module and its clients load). Never imported otherwise.
 */
import { startLambdaTracing } from "./index.ts";

startLambdaTracing();
