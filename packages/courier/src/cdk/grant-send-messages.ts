import type * as iam from "aws-cdk-lib/aws-iam";
import type * as sqs from "aws-cdk-lib/aws-sqs";

/**
 * Lets `grantee` send to an SSE-KMS queue with only what SQS needs: `sqs:SendMessage` (with the
 * attribute and URL lookups SDK clients make) and `kms:GenerateDataKey` + `kms:Decrypt` on the
 * queue's key, as AWS documents for producers to an encrypted queue. CDK's `grantSendMessages` adds
 * `kms:Encrypt`, `kms:ReEncrypt*` and `kms:GenerateDataKey*`, which sending never uses.
 */
export function grantSendToEncryptedQueue(queue: sqs.IQueue, grantee: iam.IGrantable): void {
  queue.grant(grantee, "sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl");
  queue.encryptionMasterKey?.grant(grantee, "kms:GenerateDataKey", "kms:Decrypt");
}
