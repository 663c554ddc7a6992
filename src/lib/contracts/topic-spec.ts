import type { AnyContract } from "./contract.ts";

/** A topic as the library sees it: its name and the contracts on it. */
export interface TopicSpec {
  readonly name: string;
  readonly description: string;
  /** The contract producers publish now. */
  readonly current: AnyContract;
  /** Every contract consumers accept (current included): old and new versions during a migration. */
  readonly accepts: readonly AnyContract[];
  /**
   * The largest message SNS takes on this topic, body plus attributes (its `MaximumMessageSize`
   * attribute): 1,024 to 1,048,576. Above 262,144 the topic may have at most 100 subscriptions,
   * all SQS, Lambda or Firehose.
   * @default 262,144 (SNS's default)
   */
  readonly maxMessageBytes?: number;
  /**
   * Messages over `maxMessageBytes` go by reference: the body is put in the payload bucket and a
   * pointer in AWS's extended-client format is published instead (see src/lib/payload-offloading).
   * @default false - such a message is refused with MessageTooLargeError
   */
  readonly offloadLargePayloads?: boolean;
}
