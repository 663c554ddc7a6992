// Bundled in place of `node:https` for ESM dependencies: see node-http.cjs.
module.exports = require("node:https");
