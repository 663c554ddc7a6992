import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { InvalidVerificationKeyError } from "../../src/app/signup/verification-code.ts";
import { keyFromSecretValue, verificationKeyFromSecret } from "../../src/app/signup/verification-key.ts";

const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:000000000000:secret:courier-verification-AbCdEf";
const KEY_MATERIAL = "Zq3t6w9z$C&F)J@NcRfUjXn2r5u8x/A?";
const secrets = mockClient(SecretsManagerClient);

function provider(): SecretsProvider {
  return new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient({ region: "us-east-1" }) });
}

describe("verification key from Secrets Manager", () => {
  beforeEach(() => {
    secrets.reset();
  });

  it("GIVEN a secret WHEN the key is asked for on three invocations THEN Secrets Manager is read once", async () => {
    // Failure mode: a Secrets Manager call per record (latency, cost, throttling).
    secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: KEY_MATERIAL });
    const load = verificationKeyFromSecret(provider(), SECRET_ARN);
    const keys = [await load(), await load(), await load()];
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(keys[2]?.bytes.toString("utf8")).toBe(KEY_MATERIAL);
  });

  it("GIVEN the first read fails WHEN the key is asked for again THEN it is read again and succeeds", async () => {
    // Failure mode: one transient error poisons the warm instance for its whole life.
    secrets
      .on(GetSecretValueCommand)
      .rejectsOnce(new Error("ThrottlingException"))
      .resolves({ SecretString: KEY_MATERIAL });
    const load = verificationKeyFromSecret(provider(), SECRET_ARN);
    await expect(load()).rejects.toThrow();
    await expect(load()).resolves.toMatchObject({ bytes: Buffer.from(KEY_MATERIAL) });
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('GIVEN a JSON secret with a "key" field WHEN parsed THEN that field is the key', () => {
    const key = keyFromSecretValue(JSON.stringify({ key: KEY_MATERIAL }));
    expect(key.bytes.toString("utf8")).toBe(KEY_MATERIAL);
  });

  it('GIVEN a JSON secret without a "key" field WHEN parsed THEN it is refused with a reason', () => {
    // Failure mode: the JSON text itself silently becomes the key, so the API server's key differs.
    expect(() => keyFromSecretValue(JSON.stringify({ password: KEY_MATERIAL }))).toThrow(/"key"/);
  });

  it("GIVEN a secret shorter than 32 bytes WHEN loaded THEN it is refused", async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: "too-short" });
    const load = verificationKeyFromSecret(provider(), SECRET_ARN);
    await expect(load()).rejects.toBeInstanceOf(InvalidVerificationKeyError);
  });
});
