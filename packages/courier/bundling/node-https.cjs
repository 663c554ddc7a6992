// Bundled in place of `node:https` for ESM dependencies: see node-http.cjs (why getBuiltinModule).
module.exports = process.getBuiltinModule("node:https");
