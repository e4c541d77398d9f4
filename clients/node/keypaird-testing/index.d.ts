// Types for keypaird-testing: start keypaird, a local Tencent Cloud key-pair API, from a
// test suite.

/** Options of {@link startKeypaird}. */
export interface StartOptions {
  /** The keypaird binary; default $KEYPAIRD_BIN, then the PATH, then a clone's target/release. */
  binary?: string;
  /** The deterministic mode's seed (default 0); `"random"` for random ids and keys. */
  seed?: number | "random";
  /** Where seeded keys are kept between runs (default ~/.cache/keypaird/keys); `"none"` for none. */
  keyCache?: string;
  /** Keep the documented per-action rate limits (default: off; inject `RequestLimitExceeded` with `failNext`). */
  rateLimits?: boolean;
}

/** Which calls a fault rule takes: the next `times` (default 1) of one product, or after they ran. */
export interface FaultOptions {
  times?: number;
  product?: "cvm" | "lighthouse";
  /** Once the call ran (its write stored), instead of its answer. */
  after?: boolean;
  /** An injected error's English message. */
  message?: string;
}

/** The journal being recorded. */
export interface JournalRecording {
  /** Stops recording; resolves to the entries (Time, Product, Action, Account, SecretId, Params, Code, RequestId, Answer). */
  stop(): Promise<any[]>;
}

/** A running keypaird in ephemeral, test-credentials mode with the admin API on. */
export interface Keypaird {
  /** `host:port` on loopback, for an SDK profile's `endpoint` (protocol `http://`). */
  readonly endpoint: string;
  /** The SecretId to sign with (test-credentials mode: `AKIDtest`). */
  readonly secretId: string;
  /** Its SecretKey (the SecretId itself). */
  readonly secretKey: string;
  /** The account id that SecretId acts for. */
  readonly account: string;
  /** The region the clients use (`ap-guangzhou`; regions are accepted and ignored). */
  readonly region: string;
  /**
   * A client of the official SDK (tencentcloud-sdk-nodejs-cvm, or the full
   * tencentcloud-sdk-nodejs); another `secretId` is another account.
   */
  cvmClient(secretId?: string): any;
  /** A Lighthouse client of the full tencentcloud-sdk-nodejs. */
  lighthouseClient(secretId?: string): any;
  /** Removes every key pair, or one account's; resolves to how many were removed. */
  reset(account?: string): Promise<number>;
  /** Whether the server can serve requests now (the admin readiness check). */
  ready(): Promise<boolean>;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Adds a fault rule in the admin API's names; resolves to its id. */
  fault(rule: Record<string, unknown>): Promise<number>;
  /** The next calls of `action` answer `code`, which the product must define. */
  failNext(action: string, code: string, opts?: FaultOptions): Promise<number>;
  /** The next calls of `action` wait `seconds` first (at most 60). */
  delayNext(action: string, seconds: number, opts?: FaultOptions): Promise<number>;
  /** The next calls of `action` get their connection closed without an answer. */
  dropNext(action: string, opts?: FaultOptions): Promise<number>;
  /** The rules in force. */
  faults(): Promise<any[]>;
  /** Removes every rule (a reset does too); resolves to how many there were. */
  clearFaults(): Promise<number>;
  /** Starts ids, RequestIds and keys over from seed `n`, and the clock at 2026-01-01T00:00:00Z. */
  seed(n: number): Promise<unknown>;
  /** Sets (`SetMs`, `AdvanceMs`, `Follow`, `PinSignatures`) or, without a change, reads the clock. */
  clock(change?: Record<string, unknown>): Promise<any>;
  /** Starts recording every call and its answer. */
  journal(): Promise<JournalRecording>;
}

/** Starts keypaird on a free loopback port; rejects if it cannot start. */
export function startKeypaird(opts?: StartOptions): Promise<Keypaird>;

/**
 * The keypaird binary that {@link startKeypaird} would run: `explicit`, else
 * $KEYPAIRD_BIN, else the PATH, else target/release/keypaird of the clone the current
 * directory is in. Throws, naming all three, when there is none.
 */
export function findKeypaird(explicit?: string): string;
