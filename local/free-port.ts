/** TCP port helpers for the local stack and its tests. */
import { createServer } from "node:net";

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === "object" && address !== null ? address.port : port;
      server.close(() => resolve(bound));
    });
  });
}

/** A TCP port that was free a moment ago (the OS picks it by binding port 0). */
export function freePort(): Promise<number> {
  return listenOnce(0);
}

/** True when nothing listens on `port` (all interfaces). */
export async function isPortFree(port: number): Promise<boolean> {
  try {
    await listenOnce(port);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") return false;
    throw error;
  }
}

/**
 * A free port for each server of a local stack (the `*Port` options of `startLocalStack`), for
 * stacks started side by side by the tests and the bench.
 */
export async function freeStackPorts(): Promise<{
  dynamodbPort: number;
  cognitoPort: number;
  apiPort: number;
  lambdaPort: number;
  eventsPort: number;
  webPort: number;
}> {
  const [dynamodbPort, cognitoPort, apiPort, lambdaPort, eventsPort, webPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ] as [number, number, number, number, number, number];
  return { dynamodbPort, cognitoPort, apiPort, lambdaPort, eventsPort, webPort };
}
