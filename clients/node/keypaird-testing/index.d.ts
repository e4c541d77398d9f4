// Types for keypaird-testing: start keypaird, a local Tencent Cloud key-pair API, from a
// test suite.

/** Options of {@link startKeypaird}. */
export interface StartOptions {
  /** The keypaird binary; default $KEYPAIRD_BIN, then the PATH, then a clone's target/release. */
  binary?: string;
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
}

/** Starts keypaird on a free loopback port; rejects if it cannot start. */
export function startKeypaird(opts?: StartOptions): Promise<Keypaird>;

/**
 * The keypaird binary that {@link startKeypaird} would run: `explicit`, else
 * $KEYPAIRD_BIN, else the PATH, else target/release/keypaird of the clone the current
 * directory is in. Throws, naming all three, when there is none.
 */
export function findKeypaird(explicit?: string): string;
