import { z } from "zod";

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
  const base = options.trim ? z.string().trim() : z.string();
  return base
    .min(min)
    .max(max)
    .refine((s) => !LONE_SURROGATE.test(s), "must be well-formed Unicode (no lone surrogate)")
    .refine((s) => !CONTROL.test(s), "must not contain control characters such as NUL")
    .refine((s) => !BIDI_CONTROL.test(s), "must not contain bidirectional override or isolate characters")
    .refine((s) => s.length === 0 || VISIBLE.test(s), "must contain a visible character");
}
