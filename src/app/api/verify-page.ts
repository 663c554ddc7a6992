/**
 * The page a person sees after clicking the link in the verification email (GET /verify): verified,
 * expired or invalid, with the reason. The JSON API (POST /accounts/:id/verify) answers machines.
 *
 * Everything shown that came from the request (the account id) or from a check is escaped: the
 * link is clicked from mail anyone could have sent, so its parameters are attacker-chosen.
 */

/** What checking a link found; `reason` is for a person and may quote the request. */
export type VerifyPageOutcome =
  | { readonly kind: "verified"; readonly accountId: string }
  | { readonly kind: "expired"; readonly accountId: string }
  | { readonly kind: "invalid"; readonly reason: string };

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text for an HTML element or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

export interface VerifyPage {
  readonly status: number;
  readonly html: string;
}

export function renderVerifyPage(outcome: VerifyPageOutcome): VerifyPage {
  switch (outcome.kind) {
    case "verified":
      return page(200, "Email address verified", [
        "Thank you: your email address is verified. You can close this page.",
        `Account ${outcome.accountId}`,
      ]);
    case "expired":
      return page(410, "This link has expired", [
        "A verification link is valid for 24 hours after sign-up; this one can no longer verify the address.",
        `Account ${outcome.accountId}`,
      ]);
    case "invalid":
      return page(400, "This link is not valid", [
        `Reason: ${outcome.reason}.`,
        "Check that the whole link was copied from the email.",
      ]);
  }
}

function page(status: number, title: string, paragraphs: readonly string[]): VerifyPage {
  const body = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join("\n");
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
  return { status, html };
}
