/**
 * The idempotency table's key and TTL attribute. The CDK stack creates the table with these names,
 * Powertools writes records with them, and the local DynamoDB stand-in is created from them.
 */
export const IDEMPOTENCY_PARTITION_KEY = "id";
export const IDEMPOTENCY_TTL_ATTRIBUTE = "expiration";

/**
 * What a consumer's records are keyed under (Powertools writes `<prefix>#<hash>`): the construct
 * grants each consumer's function only keys that start with its own.
 */
export function idempotencyKeyPrefix(consumer: string): string {
  return `courier.${consumer}`;
}
