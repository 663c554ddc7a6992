#!/usr/bin/env node
// The courier CLI. Sources are TypeScript; tsx loads them without a build step.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
