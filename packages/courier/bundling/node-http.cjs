// Bundled in place of `node:http` for ESM dependencies (see lambdaBundling in src/cdk/bundled-function.ts):
// an ESM import of node:http builds the module's ESM facade, which reads every export, and on Node.js 24+
// that wakes http's lazy undici getters: ~60 ms of a cold start for nothing. A CommonJS require reads none.
// process.getBuiltinModule, not require("node:http"): the bundler's alias would send that require back to
// this very file, which then exported its own empty exports (no Agent, no request: the OTLP exporter's
// `new Agent()` threw and no span left a bundled function; test/cdk/otel-bundle.test.ts holds it).
module.exports = process.getBuiltinModule("node:http");
