/**
 * The functions' structured JSON logger (Powertools for AWS Lambda). Level from
 * `POWERTOOLS_LOG_LEVEL` (default INFO); service name from `POWERTOOLS_SERVICE_NAME`. An error
 * logged (`{ error }`, or an error argument) is formatted by Powertools from a copy whose stack is
 * mapped to our sources (shared/source-maps.ts): the functions run without
 * `--enable-source-maps`, so the map is read only when an error is logged.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { SERVICE_NAME } from "./config";
import { withSourceMappedStack } from "./source-maps";

export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
  // Called before Powertools' own rules (which format an Error) for each value it serialises.
  jsonReplacerFn: (_key, value) => (value instanceof Error ? withSourceMappedStack(value) : value),
});
