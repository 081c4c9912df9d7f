/**
 * The functions' structured JSON logger (Powertools for AWS Lambda). Level from
 * `POWERTOOLS_LOG_LEVEL` (default INFO); service name from `POWERTOOLS_SERVICE_NAME`.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { SERVICE_NAME } from "./config";

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME });
