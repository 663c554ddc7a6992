/**
 * team-notify: posts a summary of each sign-up to the team's chat webhook (Slack-style: `text`
 * for the chat, plus structured fields for anything that parses it). Contact details are masked:
 * a chat channel is no place for customers' full email addresses and phone numbers.
 *
 * Written on fetch rather than a client library: one POST with a timeout and a status check is
 * all it takes, and the status classification below is the part that matters.
 */
import type { NewAccountV1 } from "../contracts/index.ts";
import type { TeamNotifyConfig } from "./config.ts";
import { WebhookRejectedError, WebhookUnavailableError } from "./errors.ts";
import type { SignupEvent } from "./signup-event.ts";

export interface TeamNotifyDeps {
  readonly config: TeamNotifyConfig;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

export interface SignupSummary {
  readonly text: string;
  readonly eventId: string;
  readonly account: {
    readonly accountId: string;
    readonly displayName: string;
    readonly email: string;
    readonly phone: string | null;
    readonly locale: string;
    readonly createdAt: string;
  };
}

/** "ada.lovelace@example.com" -> "a***@example.com": enough to tell accounts apart, not to write to. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  if (at <= 0) return "***";
  return `${email.slice(0, 1)}***${email.slice(at)}`;
}

/** "+14155550123" -> "+1********23": the country prefix and the last two digits only. */
export function maskPhone(phone: string): string {
  if (phone.length <= 5) return "***";
  return `${phone.slice(0, 2)}${"*".repeat(phone.length - 4)}${phone.slice(-2)}`;
}

/** Slack reads &, < and > as markup (`<!channel>` pings everyone): a user's name must not. */
function escapeChatText(value: string): string {
  return value.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

export function signupSummary(event: SignupEvent): SignupSummary {
  const data: NewAccountV1 = event.data;
  const email = maskEmail(data.email);
  const phone = data.phone ? maskPhone(data.phone) : null;
  const contact = phone ? `${email}, ${phone}` : email;
  return {
    text: `New sign-up: ${escapeChatText(data.displayName)} (${escapeChatText(contact)}), locale ${data.locale}, account ${escapeChatText(data.accountId)}`,
    eventId: event.eventId,
    account: {
      accountId: data.accountId,
      displayName: data.displayName,
      email,
      phone,
      locale: data.locale,
      createdAt: data.createdAt,
    },
  };
}

const BODY_DETAIL_CHARS = 200;

/** fetch's TypeError says only "fetch failed"; the reason (ECONNREFUSED, ...) is in its cause. */
function networkReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? error.cause.message : error.message;
}

async function responseDetail(response: Response): Promise<string> {
  try {
    return (await response.text()).slice(0, BODY_DETAIL_CHARS).trim();
  } catch {
    return "";
  }
}

/**
 * Posts the summary. 2xx: done. 429 and 5xx, timeouts and network errors: WebhookUnavailableError
 * (retried with backoff). Any other status: WebhookRejectedError naming it (dead-lettered). The URL
 * is never put in an error: a Slack webhook URL is itself a credential.
 */
export async function notifyTeam(deps: TeamNotifyDeps, event: SignupEvent): Promise<{ status: number }> {
  const doFetch = deps.fetch ?? fetch;
  const host = new URL(deps.config.webhookUrl).host;
  const summary = signupSummary(event);
  let response: Response;
  try {
    response = await doFetch(deps.config.webhookUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        // Receivers that deduplicate can use it; SQS may deliver the same event more than once.
        "idempotency-key": event.eventId,
      },
      body: JSON.stringify(summary),
      // A redirected POST may turn into a GET elsewhere: treat it as the misconfiguration it is.
      redirect: "manual",
      signal: AbortSignal.timeout(deps.config.timeoutMs),
    });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    throw new WebhookUnavailableError(
      timedOut
        ? `webhook at ${host} did not answer within ${deps.config.timeoutMs} ms`
        : `webhook at ${host} could not be reached: ${networkReason(error)}`,
      undefined,
      { cause: error },
    );
  }
  if (response.ok) {
    // Drain the body so the connection can be reused.
    await responseDetail(response);
    return { status: response.status };
  }
  const detail = await responseDetail(response);
  if (response.status === 429 || response.status >= 500) {
    throw new WebhookUnavailableError(
      `webhook at ${host} answered HTTP ${response.status}${detail ? `: ${detail}` : ""}`,
      response.status,
    );
  }
  throw new WebhookRejectedError(response.status, detail);
}
