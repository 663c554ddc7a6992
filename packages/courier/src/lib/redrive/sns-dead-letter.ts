/**
 * Messages SNS could not deliver to a subscribed queue, as they sit in the subscription's
 * dead-letter queue, turned back into what the queue would have received.
 *
 * What SNS puts there depends on the subscription: with raw message delivery (courier's) the
 * published body with its message attributes; without it, the SNS notification JSON (`Type`,
 * `MessageId`, `TopicArn`, `Message`, `MessageAttributes` as `{Type, Value}`). Both are accepted,
 * so a subscription switched either way, or an SNS that wraps dead letters of raw subscriptions
 * too, is still redriven as the raw envelope: body = `Message`, attributes = its attributes.
 */
import type { Message, MessageAttributeValue } from "@aws-sdk/client-sqs";

/** Error class of a message SNS failed to deliver (peek, redrive --error-class). */
export const SNS_DELIVERY_ERROR_CLASS = "sns-delivery";

interface SnsNotification {
  readonly Type: "Notification";
  readonly Message: string;
  readonly TopicArn?: string;
  readonly MessageId?: string;
  readonly MessageAttributes?: Record<string, { readonly Type?: string; readonly Value?: string }>;
}

function asNotification(body: string | undefined): SnsNotification | undefined {
  if (body === undefined || !body.startsWith("{")) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (
      typeof parsed === "object" &&
      parsed !== null &&
      (parsed as { Type?: unknown }).Type === "Notification" &&
      typeof (parsed as { Message?: unknown }).Message === "string"
    ) {
      return parsed as SnsNotification;
    }
  } catch {
    // Not JSON: a raw body.
  }
  return undefined;
}

/** SNS's `{Type, Value}` attribute back to SQS's shape; binary values travel base64 in SNS JSON. */
function sqsAttribute(attribute: { readonly Type?: string; readonly Value?: string }): MessageAttributeValue {
  const dataType = attribute.Type ?? "String";
  const value = attribute.Value ?? "";
  return dataType.startsWith("Binary")
    ? { DataType: dataType, BinaryValue: Buffer.from(value, "base64") }
    : { DataType: dataType, StringValue: value };
}

/**
 * The message as the consumer's queue would have received it through a raw subscription. Its
 * MessageId, receipt handle and system attributes stay those of the subscription DLQ message.
 */
export function unwrapSnsDeadLetter(message: Message): Message {
  const notification = asNotification(message.Body);
  if (!notification) return message;
  const attributes: Record<string, MessageAttributeValue> = { ...message.MessageAttributes };
  for (const [name, attribute] of Object.entries(notification.MessageAttributes ?? {})) {
    attributes[name] = sqsAttribute(attribute);
  }
  return { ...message, Body: notification.Message, MessageAttributes: attributes };
}

/** True when the body is an SNS notification (a non-raw subscription's dead letter). */
export function isSnsNotification(body: string | undefined): boolean {
  return asNotification(body) !== undefined;
}
