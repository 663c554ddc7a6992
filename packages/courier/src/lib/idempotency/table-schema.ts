/**
 * The idempotency table's key and TTL attribute. The CDK stack creates the table with these names,
 * Powertools writes records with them, and the local DynamoDB stand-in is created from them.
 */
export const IDEMPOTENCY_PARTITION_KEY = "id";
export const IDEMPOTENCY_TTL_ATTRIBUTE = "expiration";
