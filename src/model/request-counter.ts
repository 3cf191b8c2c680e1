/**
 * Requests sent to one account, counted where every worker sees the same sum (the store): Graph
 * allows an app 10,000 requests per mailbox in any 10 minutes, whichever worker sends them.
 * Counts go into time buckets of `bucketMs`.
 */
export interface RequestCounter {
  countRequests(account: string, requests: number, now: number, bucketMs: number): Promise<void>;
  /** Buckets starting at or after `since`, oldest first. */
  requestBuckets(account: string, since: number): Promise<Array<{ at: number; requests: number }>>;
}
