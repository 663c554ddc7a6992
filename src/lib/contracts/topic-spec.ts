import type { AnyContract } from "./contract.ts";

/** A topic as the library sees it: its name and the contracts on it. */
export interface TopicSpec {
  readonly name: string;
  readonly description: string;
  /** The contract producers publish now. */
  readonly current: AnyContract;
  /** Every contract consumers accept (current included): old and new versions during a migration. */
  readonly accepts: readonly AnyContract[];
}
