/**
 * courier's runtime uses zod 4's functional entry, `zod/mini`, imported as a namespace in each
 * module (`import * as z from "zod/mini"`: a namespace re-exported from a module of ours would make
 * esbuild keep all of zod, every locale). Every Lambda bundle carries the zod its contracts use;
 * zod's classic entry puts ~85 KiB into a bundle and builds a few dozen methods onto every schema at
 * cold start, mini ~20 KiB and none (measured by bench/cold-start.bench.ts). Classic and mini
 * schemas are one kind underneath (zod's core), so a team's contracts written with classic zod
 * work with courier unchanged: courier parses them with mini's functions.
 *
 * zod/mini leaves error messages to a locale, which classic sets on import. Imported for its effect
 * by each courier module that parses: it sets the same English locale unless the application chose
 * one, so courier's failure reasons (dead-letter reasons, configuration errors) read the same
 * whichever entry the bundle loads.
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

if (!z.config().localeError) z.config(en());
