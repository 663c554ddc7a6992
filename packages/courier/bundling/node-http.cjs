// Bundled in place of `node:http` for ESM dependencies (see lambdaBundling in src/cdk/bundled-function.ts):
// an ESM import of node:http builds the module's ESM facade, which reads every export, and on Node.js 24+
// that wakes http's lazy undici getters: ~60 ms of a cold start for nothing. A CommonJS require reads none.
module.exports = require("node:http");
