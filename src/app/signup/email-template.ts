/**
 * The verification email, localised. A locale resolves by its language (de-AT -> de) and falls
 * back to English, so a sign-up in a language without a template still gets a usable email.
 */

export interface VerificationEmailContent {
  readonly language: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export interface VerificationEmailFields {
  readonly displayName: string;
  readonly link: string;
  readonly expiresAt: Date;
}

interface Template {
  readonly subject: string;
  readonly greeting: (name: string) => string;
  readonly instruction: string;
  readonly button: string;
  readonly expiry: (when: string) => string;
  readonly ignore: string;
}

const templates = {
  en: {
    subject: "Confirm your email address",
    greeting: (name) => `Hello ${name},`,
    instruction: "Please confirm your email address by opening this link:",
    button: "Confirm email address",
    expiry: (when) => `The link is valid until ${when}.`,
    ignore: "If you did not create an account, you can ignore this email.",
  },
  de: {
    subject: "Bestätigen Sie Ihre E-Mail-Adresse",
    greeting: (name) => `Hallo ${name},`,
    instruction: "bitte bestätigen Sie Ihre E-Mail-Adresse über diesen Link:",
    button: "E-Mail-Adresse bestätigen",
    expiry: (when) => `Der Link ist gültig bis ${when}.`,
    ignore: "Wenn Sie kein Konto angelegt haben, können Sie diese E-Mail ignorieren.",
  },
  fr: {
    subject: "Confirmez votre adresse e-mail",
    greeting: (name) => `Bonjour ${name},`,
    instruction: "Veuillez confirmer votre adresse e-mail en ouvrant ce lien :",
    button: "Confirmer l’adresse e-mail",
    expiry: (when) => `Le lien est valable jusqu’au ${when}.`,
    ignore: "Si vous n’avez pas créé de compte, vous pouvez ignorer cet e-mail.",
  },
  es: {
    subject: "Confirma tu dirección de correo electrónico",
    greeting: (name) => `Hola, ${name}:`,
    instruction: "Confirma tu dirección de correo electrónico abriendo este enlace:",
    button: "Confirmar dirección de correo",
    expiry: (when) => `El enlace es válido hasta el ${when}.`,
    ignore: "Si no has creado una cuenta, puedes ignorar este correo.",
  },
} as const satisfies Record<string, Template>;

export type TemplateLanguage = keyof typeof templates;
export const FALLBACK_LANGUAGE: TemplateLanguage = "en";
export const templateLanguages = Object.keys(templates) as TemplateLanguage[];

export function templateLanguageFor(locale: string): TemplateLanguage {
  const language = locale.split("-")[0]?.toLowerCase() ?? "";
  return Object.hasOwn(templates, language) ? (language as TemplateLanguage) : FALLBACK_LANGUAGE;
}

function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

function formatExpiry(locale: string, expiresAt: Date): string {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat(locale, { dateStyle: "long", timeStyle: "short", timeZone: "UTC" });
  } catch {
    // A well-formed tag ICU does not know: the template's own language still reads naturally.
    format = new Intl.DateTimeFormat(FALLBACK_LANGUAGE, {
      dateStyle: "long",
      timeStyle: "short",
      timeZone: "UTC",
    });
  }
  return `${format.format(expiresAt)} UTC`;
}

export function renderVerificationEmail(
  locale: string,
  fields: VerificationEmailFields,
): VerificationEmailContent {
  const language = templateLanguageFor(locale);
  const t: Template = templates[language];
  // Dates in the sign-up's own regional format when its language has a template (en-GB, de-AT),
  // else in the fallback language the rest of the email is written in.
  const fellBack = locale.split("-")[0]?.toLowerCase() !== language;
  const when = formatExpiry(fellBack ? language : locale, fields.expiresAt);
  const text = [
    t.greeting(fields.displayName),
    "",
    t.instruction,
    fields.link,
    "",
    t.expiry(when),
    t.ignore,
    "",
  ].join("\n");
  // The display name is the user's own input: escape it (and everything else) in the HTML part.
  const html = [
    `<!doctype html><html lang="${language}"><body>`,
    `<p>${escapeHtml(t.greeting(fields.displayName))}</p>`,
    `<p>${escapeHtml(t.instruction)}</p>`,
    `<p><a href="${escapeHtml(fields.link)}">${escapeHtml(t.button)}</a></p>`,
    `<p>${escapeHtml(fields.link)}</p>`,
    `<p>${escapeHtml(t.expiry(when))}</p>`,
    `<p>${escapeHtml(t.ignore)}</p>`,
    "</body></html>",
  ].join("\n");
  return { language, subject: t.subject, text, html };
}
