/**
 * The shared pause of a provider account. Providers throttle the account, not the protocol or
 * the folder, so every worker honours one pause per account, for reading and for sending alike.
 * The throttle floor owns the rules (throttle/account-pause.ts); the store keeps the records;
 * a destination sees only the AccountPause port.
 */

export interface ThrottleState {
  account: string;
  until: number;
  reason: string;
  since: number;
  /** Throttles in a row, for exponential backoff. */
  consecutive: number;
}

/** Where pauses are kept (the store), as the throttle floor needs it. */
export interface ThrottleRecords {
  getThrottle(account: string): Promise<ThrottleState | undefined>;
  setThrottle(state: ThrottleState): Promise<void>;
  clearThrottle(account: string): Promise<void>;
}

export interface AccountPause {
  /** The account's last record, whether or not its wait is over (it carries the throttles-in-a-row count). */
  record(account: string): Promise<ThrottleState | undefined>;
  /** The pause in force now, if any. */
  current(account: string): Promise<ThrottleState | undefined>;
  /** Pauses the account for waitMs: every worker stops reading it and sending through it. */
  pause(account: string, waitMs: number, reason: string): Promise<ThrottleState>;
  /** Ends the pause after a success; resolves to the record it ended, if any. */
  resume(account: string): Promise<ThrottleState | undefined>;
}
