import * as z from "zod/mini";
import "../zod-locale.ts";

/** An unpaired UTF-16 surrogate: not encodable as UTF-8 (it turns into U+FFFD on the way). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** C0 and C1 control characters, NUL included (Unicode general category Cc). */
const CONTROL = /\p{Cc}/u;
/** Bidirectional embeddings, overrides and isolates: they reorder what a reader sees. */
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/;
/** Something other than whitespace and zero-width characters. */
const VISIBLE = /[^\s\u200B-\u200D\u2060\uFEFF]/;

/**
 * Free text that people read (names, ids shown in links) travels into emails, SMS and team chat, so
 * it must be well-formed Unicode, free of control characters (NUL cuts log lines and C strings) and
 * of bidirectional controls (text that reads differently from what it is: "Trojan Source"-style
 * spoofing), and show at least one visible character. Zero-width joiners inside text stay allowed:
 * emoji sequences and several scripts need them.
 */
export function plainText(min: number, max: number, options: { trim?: boolean } = {}) {
  // One pass for the common, valid text (these fields are on every message: it was a tenth of the
  // consumer's decode time as four refinements); the rules one by one only to say what is wrong.
  return z.string().check(
    ...(options.trim ? [z.trim()] : []),
    z.minLength(min),
    z.maxLength(max),
    z.superRefine((s: string, ctx) => {
      if (!FORBIDDEN.test(s) && (s.length === 0 || VISIBLE.test(s))) return;
      for (const [broken, message] of RULES) {
        if (broken(s)) ctx.addIssue({ code: "custom", message, input: s });
      }
    }),
  );
}

/**
 * Lone surrogates, control and bidirectional characters in one expression, for the fast path. In
 * unicode mode a surrogate class matches only unpaired surrogates: a pair is one code point.
 */
const FORBIDDEN = new RegExp(`[\\uD800-\\uDFFF]|${CONTROL.source}|${BIDI_CONTROL.source}`, "u");

const RULES: ReadonlyArray<readonly [(s: string) => boolean, string]> = [
  [(s) => LONE_SURROGATE.test(s), "must be well-formed Unicode (no lone surrogate)"],
  [(s) => CONTROL.test(s), "must not contain control characters such as NUL"],
  [(s) => BIDI_CONTROL.test(s), "must not contain bidirectional override or isolate characters"],
  [(s) => s.length > 0 && !VISIBLE.test(s), "must contain a visible character"],
];
