import type { AlarmNotificationSettings } from "@courier-queue/courier/cdk";

/**
 * Reads the alarm subscriptions from CDK context: `alarmEmail` (one address, a comma-separated
 * list, or a JSON array when given in cdk.json), `alarmHttpsEndpoint` and `alarmTopicArn`.
 */
export function alarmNotificationsFromContext(
  tryGetContext: (key: string) => unknown,
): AlarmNotificationSettings {
  const text = (key: string): string | undefined => {
    const value = tryGetContext(key);
    return typeof value === "string" && value.trim().length > 0 ? value.trim() : undefined;
  };
  const rawEmails = tryGetContext("alarmEmail");
  const emails = Array.isArray(rawEmails)
    ? rawEmails.map(String)
    : typeof rawEmails === "string"
      ? rawEmails.split(",")
      : [];
  const cleaned = emails.map((e) => e.trim()).filter((e) => e.length > 0);
  const httpsEndpoint = text("alarmHttpsEndpoint");
  const topicArn = text("alarmTopicArn");
  return {
    ...(cleaned.length > 0 ? { emails: cleaned } : {}),
    ...(httpsEndpoint ? { httpsEndpoint } : {}),
    ...(topicArn ? { topicArn } : {}),
  };
}
