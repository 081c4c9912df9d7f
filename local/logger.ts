/**
 * Structured JSON logging of the local stack (one JSON line per event on stdout), with the same
 * Powertools logger the functions use, so a terminal shows one log format.
 */
import { Logger } from "@aws-lambda-powertools/logger";

/**
 * What the local stack logs through: a message and attributes (merged into the line, an Error
 * value serialized with its name, message and stack), one JSON line per call.
 */
export interface LocalLogger {
  debug(message: string, ...attributes: Record<string, unknown>[]): void;
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
}

/** The default logger (service `local-stack`); `quiet` silences it. */
export function createLocalLogger(options: { quiet?: boolean } = {}): LocalLogger {
  return new Logger({ serviceName: "local-stack", ...(options.quiet === true ? { logLevel: "SILENT" } : {}) });
}
