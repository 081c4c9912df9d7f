/**
 * Types of the parts of `amazon-cognito-identity-js` (AWS's Cognito SDK for browsers) that
 * `client/srp.ts` imports by path: the package's own `index.d.ts` declares its user and session
 * classes but not these helpers. Only the members the client calls; shapes from the package's
 * `lib/` sources (6.3.x: CommonJS, the class in `exports.default`). Callbacks are Node style and,
 * for these members, called synchronously.
 */
declare module "amazon-cognito-identity-js/lib/BigInteger.js" {
  /** jsbn's arbitrary-precision integer, as the SDK ships it. */
  class BigInteger {
    /** `value` in base `radix` (the SDK passes hex, radix 16). */
    constructor(value: string, radix: number);
    toString(radix?: number): string;
  }
  const module: { default: typeof BigInteger };
  export default module;
}

declare module "amazon-cognito-identity-js/lib/AuthenticationHelper.js" {
  import type bigIntegerModule from "amazon-cognito-identity-js/lib/BigInteger.js";

  type BigInteger = InstanceType<(typeof bigIntegerModule)["default"]>;

  /** The client's side of Cognito's SRP: the random `a`, `A = g^a mod N`, the password key. */
  class AuthenticationHelper {
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
  const module: { default: typeof AuthenticationHelper };
  export default module;
}

declare module "amazon-cognito-identity-js/lib/DateHelper.js" {
  class DateHelper {
    /** Now, as Cognito reads the claim's timestamp: `Tue Dec 2 13:05:09 UTC 2026` (UTC). */
    getNowString(): string;
  }
  const module: { default: typeof DateHelper };
  export default module;
}
