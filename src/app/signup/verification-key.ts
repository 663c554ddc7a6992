/**
 * Loads the verification HMAC key from Secrets Manager once per cold start.
 *
 * Powertools' SecretsProvider does the fetch (SecretString or SecretBinary); the promise is
 * memoised here rather than left to the provider's time-based cache because the key should be
 * read once per instance, not every few seconds. A failed read is forgotten, so a transient
 * Secrets Manager error fails that invocation (retried by SQS) instead of poisoning the instance.
 */
import type { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { InvalidVerificationKeyError, type VerificationKey, verificationKey } from "./verification-code.ts";

/**
 * The secret's value is the key itself, or a JSON object whose `key` field is (the shape
 * `generateSecretString({ secretStringTemplate, generateStringKey: "key" })` makes).
 */
export function keyFromSecretValue(value: string | Uint8Array): VerificationKey {
  if (typeof value !== "string") return verificationKey(Buffer.from(value));
  const trimmed = value.trim();
  if (trimmed.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new InvalidVerificationKeyError("verification secret looks like JSON but does not parse");
    }
    const key = (parsed as { key?: unknown }).key;
    if (typeof key !== "string") {
      throw new InvalidVerificationKeyError('verification secret is a JSON object without a string "key"');
    }
    return verificationKey(key);
  }
  return verificationKey(trimmed);
}

export type VerificationKeySource = () => Promise<VerificationKey>;

export function verificationKeyFromSecret(
  provider: SecretsProvider,
  secretArn: string,
): VerificationKeySource {
  let pending: Promise<VerificationKey> | undefined;
  return () => {
    pending ??= provider
      .get(secretArn)
      .then((value) => {
        if (value === undefined) {
          throw new InvalidVerificationKeyError(`verification secret ${secretArn} has no value`);
        }
        return keyFromSecretValue(value);
      })
      .catch((error: unknown) => {
        pending = undefined;
        throw error;
      });
    return pending;
  };
}
