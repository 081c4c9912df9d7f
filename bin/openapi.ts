/**
 * `npm run openapi`: writes the API documents generated from the code (`shared/openapi.ts`) to
 * docs/openapi.json (OpenAPI 3.1, the HTTP API) and docs/asyncapi.json (AsyncAPI 3.0, the
 * real-time events). `npm run openapi -- --check` writes nothing and exits 1 when a committed
 * copy differs from what the code generates (CI runs it), naming the file and what to run.
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { API_DOCUMENT_FILES, buildAsyncApiDocument, buildOpenApiDocument, documentText } from "../shared/openapi";

const root = fileURLToPath(new URL("..", import.meta.url));
const check = process.argv.slice(2).includes("--check");
const documents = [
  { file: API_DOCUMENT_FILES.openapi, text: documentText(buildOpenApiDocument()) },
  { file: API_DOCUMENT_FILES.asyncapi, text: documentText(buildAsyncApiDocument()) },
];

let stale = 0;
for (const { file, text } of documents) {
  const path = `${root}${file}`;
  if (check) {
    const committed = await readFile(path, "utf8").catch(() => undefined);
    if (committed !== text) {
      stale += 1;
      console.error(`${file} is stale: it is not what the code generates. Run \`npm run openapi\` and commit it.`);
    }
  } else {
    await writeFile(path, text);
    console.log(`wrote ${file} (${Buffer.byteLength(text)} bytes)`);
  }
}
if (stale > 0) process.exit(1);
if (check) console.log(`${documents.map((d) => d.file).join(", ")}: up to date`);
