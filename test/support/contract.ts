/**
 * The contract check of the end-to-end and reliability suites: every answer of the local HTTP
 * API, whoever sent the request (`callApi`, a raw `fetch`, a browser), is checked against the
 * OpenAPI document generated from the code (`shared/openapi.ts`), with ajv (JSON Schema 2020-12,
 * the dialect of OpenAPI 3.1). `startTestStack` installs {@link recordAnswer} as the emulator's
 * `onAnswer`, which runs before the answer is written; `test/support/contract-setup.ts` (a
 * setup file of both tiers) fails the test during which a violation was recorded.
 *
 * A violation is: a status the operation does not list; a body the status's schema refuses (a
 * field the document lacks, a missing one, a wrong type, an error code not listed for that
 * status); a body where none is documented, or none where one is; a documented header that is
 * required and absent, or present with a value its schema refuses; a route, preflight or
 * unrouted answer the document does not describe.
 */
import { isDeepStrictEqual } from "node:util";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020";
import type { AnsweredRequest } from "../../local/http-api";
import {
  API_DOCUMENT_PATHS,
  buildAsyncApiDocument,
  buildOpenApiDocument,
  UNROUTED_RESPONSES_KEY,
} from "../../shared/openapi";

/** The id the document is registered under in ajv, so that a JSON pointer into it is a `$ref`. */
const DOCUMENT_ID = "urn:cruddur-messages:openapi";

interface ResponseObject {
  description: string;
  headers?: Record<string, { required?: boolean; schema: unknown }>;
  content?: Record<string, { schema: unknown }>;
}
type Responses = Record<string, ResponseObject>;

/** A JSON pointer of `segments`, as a URI fragment. */
const pointer = (segments: readonly string[]): string =>
  `#/${segments.map((s) => encodeURIComponent(s.replaceAll("~", "~0").replaceAll("/", "~1"))).join("/")}`;

/** ajv's errors as one line, each with where it is and, for an unknown field, its name. */
function errorsText(errors: ErrorObject[] | null | undefined, root: string): string {
  return (errors ?? [])
    .map((e) => {
      const field = (e.params as { additionalProperty?: string }).additionalProperty;
      return `${root}${e.instancePath} ${e.message ?? e.keyword}${field === undefined ? "" : ` (${field})`}`;
    })
    .join("; ");
}

const headerValue = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value.join(", ") : value;

/** Checks answers against one OpenAPI document (by default, the one the code generates now). */
export class ContractCheck {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: true, validateFormats: false });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly served: Readonly<Record<string, unknown>>;

  constructor(private readonly document: Record<string, unknown> = buildOpenApiDocument()) {
    // The document is registered whole, so that a JSON pointer into it is a `$ref` and its own
    // `$ref`s resolve; its top-level fields are not schema keywords (ajv's strict mode would refuse
    // them), and ajv descends only into the schemas the check compiles.
    for (const key of Object.keys(document)) this.ajv.addKeyword(key);
    this.ajv.addSchema({ ...document, $id: DOCUMENT_ID });
    this.served = { [API_DOCUMENT_PATHS.openapi]: document, [API_DOCUMENT_PATHS.asyncapi]: buildAsyncApiDocument() };
  }

  /** The compiled schema at `segments` of the document. */
  private validator(segments: readonly string[]): ValidateFunction {
    const ref = `${DOCUMENT_ID}${pointer(segments)}`;
    let validate = this.validators.get(ref);
    if (validate === undefined) {
      validate = this.ajv.compile({ $ref: ref });
      this.validators.set(ref, validate);
    }
    return validate;
  }

  /** Where in the document the answers of `answer`'s request are described, and their label. */
  private responsesOf(answer: AnsweredRequest): { at: string[]; responses: Responses } | string {
    if (answer.routeKey === undefined) {
      const kind = answer.method === "OPTIONS" ? "OPTIONS" : "default";
      const unrouted = this.document[UNROUTED_RESPONSES_KEY] as Record<string, Responses>;
      return { at: [UNROUTED_RESPONSES_KEY, kind], responses: unrouted[kind] as Responses };
    }
    const space = answer.routeKey.indexOf(" ");
    const method = answer.routeKey.slice(0, space).toLowerCase();
    const path = answer.routeKey.slice(space + 1);
    const paths = this.document.paths as Record<string, Record<string, { responses: Responses }>>;
    const operation = paths[path]?.[method];
    if (operation === undefined) return `route ${answer.routeKey} is not in the document`;
    return { at: ["paths", path, method, "responses"], responses: operation.responses };
  }

  /**
   * What is wrong with one answer of the local API, by the document: empty when nothing is.
   * Each problem names the request, the status and what is wrong.
   */
  problems(answer: AnsweredRequest): string[] {
    const query = answer.rawQueryString === "" ? "" : `?${answer.rawQueryString}`;
    const label = `${answer.method} ${answer.rawPath}${query} -> ${answer.statusCode}`.slice(0, 300);
    const text = answer.body.toString("utf8");
    const shown = text.length > 300 ? `${text.slice(0, 300)}...` : text;

    // The documents themselves (not operations of the API): exactly what the code generates.
    const served = answer.method === "GET" && answer.routeKey === undefined ? this.served[answer.rawPath] : undefined;
    if (served !== undefined) {
      const ok = answer.statusCode === 200 && isDeepStrictEqual(JSON.parse(text), served);
      return ok ? [] : [`${label}: not the generated document`];
    }

    const found = this.responsesOf(answer);
    if (typeof found === "string") return [`${label}: ${found}`];
    const { at, responses } = found;
    const status = String(answer.statusCode);
    const response = responses[status];
    if (response === undefined) {
      return [
        `${label}: status ${status} is not in the document (it lists ${Object.keys(responses).join(", ")}); body ${shown}`,
      ];
    }
    const problems: string[] = [];

    for (const [name, header] of Object.entries(response.headers ?? {})) {
      // Header names are case-insensitive; the emulator writes them in lower case.
      const value = headerValue(answer.headers[name.toLowerCase()]);
      if (value === undefined) {
        if (header.required === true) problems.push(`${label}: header ${name} is required and absent`);
        continue;
      }
      const validate = this.validator([...at, status, "headers", name, "schema"]);
      if (!validate(value))
        problems.push(`${label}: header ${name}: ${JSON.stringify(value)}: ${errorsText(validate.errors, name)}`);
    }

    const media = Object.keys(response.content ?? {});
    if (media.length === 0) {
      if (answer.body.length > 0) problems.push(`${label}: a body where the document has none: ${shown}`);
      return problems;
    }
    const contentType = headerValue(answer.headers["content-type"]) ?? "";
    const type = media.find((m) => contentType.split(";")[0]?.trim() === m);
    if (type === undefined) {
      problems.push(`${label}: content-type ${JSON.stringify(contentType)}, the document has ${media.join(", ")}`);
      return problems;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      problems.push(`${label}: the body is not JSON: ${shown}`);
      return problems;
    }
    const validate = this.validator([...at, status, "content", type, "schema"]);
    if (!validate(body)) {
      problems.push(`${label}: ${errorsText(validate.errors, "body")}: ${shown}`);
    }
    return problems;
  }
}

let check: ContractCheck | undefined;
const violations: string[] = [];
/** Answers checked in this test file, by `<route key or method (no route)> <status>`. */
const checked = new Map<string, number>();

/**
 * Checks one answer of a test stack's API against the generated document and records what is
 * wrong ({@link takeContractViolations}). Never throws: the emulator must answer regardless.
 */
export function recordAnswer(answer: AnsweredRequest): void {
  const key = `${answer.routeKey ?? `${answer.method} (no route)`} ${answer.statusCode}`;
  checked.set(key, (checked.get(key) ?? 0) + 1);
  try {
    check ??= new ContractCheck();
    violations.push(...check.problems(answer));
  } catch (error) {
    violations.push(`contract check failed on ${answer.method} ${answer.rawPath}: ${String(error)}`);
  }
}

/** The violations recorded since the last call, oldest first (and forgets them). */
export function takeContractViolations(): string[] {
  return violations.splice(0);
}

/** How many answers {@link recordAnswer} has checked in this test file, by route (or method) and status. */
export const checkedAnswers = (): ReadonlyMap<string, number> => checked;
