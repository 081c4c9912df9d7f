/**
 * Network helpers of the tests that check where the local servers listen: this machine's
 * non-loopback addresses, and whether a TCP port accepts a connection on an address.
 */
import { connect } from "node:net";
import { networkInterfaces } from "node:os";

/**
 * An IPv4 address of this machine that is not loopback (`internal: false` in
 * `os.networkInterfaces()`), or `undefined` when it has none (a sandbox with loopback only).
 */
export function nonLoopbackAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (!address.internal && address.family === "IPv4") return address.address;
    }
  }
  return undefined;
}

/**
 * Whether `host:port` accepts a TCP connection: `"accepted"`, or the error code of the attempt
 * (`ECONNREFUSED` when nothing listens there), or `"timeout"` after `timeoutMs` (default 2,000).
 */
export function probeTcp(host: string, port: number, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (outcome: string) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(timeoutMs, () => done("timeout"));
    socket.once("connect", () => done("accepted"));
    socket.once("error", (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}
