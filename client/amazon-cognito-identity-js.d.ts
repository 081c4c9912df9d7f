/**
 * Types of the parts of `amazon-cognito-identity-js` (AWS's Cognito SDK for browsers) that
 * `client/srp.ts` imports by path: the package's own `index.d.ts` declares its user and session
 * classes but not these helpers. Only the members the client calls; shapes from the package's
 * `es/` sources (6.3.x). Callbacks are Node style and, for these members, called synchronously.
 */
declare module "amazon-cognito-identity-js/es/BigInteger" {
  /** jsbn's arbitrary-precision integer, as the SDK ships it. */
  export default class BigInteger {
    /** `value` in base `radix` (the SDK passes hex, radix 16). */
    constructor(value: string, radix: number);
    toString(radix?: number): string;
  }
}

declare module "amazon-cognito-identity-js/es/AuthenticationHelper" {
  import type BigInteger from "amazon-cognito-identity-js/es/BigInteger";

  /** The client's side of Cognito's SRP: the random `a`, `A = g^a mod N`, the password key. */
  export default class AuthenticationHelper {
    /** `poolName`: the part of the user pool id after the `_`. Draws `a` and computes `A`. */
    constructor(poolName: string);
    getLargeAValue(callback: (error: Error | null, largeA: BigInteger) => void): void;
    /**
     * The 16-byte key (HKDF of the shared secret) for the `PASSWORD_VERIFIER` claim.
     * @throws Error when `B mod N` or `u` is 0.
     */
    getPasswordAuthenticationKey(
      username: string,
      password: string,
      serverB: BigInteger,
      salt: BigInteger,
      callback: (error: Error | null, key: Uint8Array) => void,
    ): void;
  }
}

declare module "amazon-cognito-identity-js/es/DateHelper" {
  export default class DateHelper {
    /** Now, as Cognito reads the claim's timestamp: `Tue Dec 2 13:05:09 UTC 2026` (UTC). */
    getNowString(): string;
  }
}
