/** Reading a request body on the local servers (the Lambda Invoke endpoint, the events emulator). */
import type { IncomingMessage } from "node:http";

/**
 * The body of `request`, at most `maxBytes` bytes. A longer body is read to its end (so the
 * connection can answer) and discarded: `"too_large"` is returned.
 */
export async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer | "too_large"> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= maxBytes) chunks.push(chunk as Buffer);
  }
  return size > maxBytes ? "too_large" : Buffer.concat(chunks);
}
