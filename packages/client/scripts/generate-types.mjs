#!/usr/bin/env node
// TypeScript declarations for the wire format, from the API's two documents:
// openapi-typescript for every REST body (docs/openapi.json) and
// json-schema-to-typescript for every WebSocket message (docs/events.schema.json).
//
//   node scripts/generate-types.mjs OPENAPI_JSON EVENTS_JSON
//
// prints {"openapi.d.ts": text, "events.d.ts": text} on stdout. scripts/gen_docs.py
// (`make docs`) writes them into generated/ and fails CI when they are stale, so a
// field renamed on the server breaks a front end's type check, not its users.

import { readFile } from 'node:fs/promises';

import { compile } from 'json-schema-to-typescript';
import openapiTS, { astToString } from 'openapi-typescript';

const BANNER = (source) =>
  `// Generated from ${source} by packages/client/scripts/generate-types.mjs (make docs); do not edit.\n\n`;

/**
 * pydantic titles every property ("Operationid"); json-schema-to-typescript
 * would make each a named alias. Only the models ($defs) keep their names.
 */
function withoutPropertyTitles(schema, keep = false) {
  if (Array.isArray(schema)) return schema.map((item) => withoutPropertyTitles(item));
  if (schema === null || typeof schema !== 'object') return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'title' && !keep) continue;
    if (key === '$defs' || key === 'properties') {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [name, withoutPropertyTitles(sub, key === '$defs')]),
      );
    } else {
      out[key] = withoutPropertyTitles(value);
    }
  }
  return out;
}

async function openapiTypes(path) {
  const document = JSON.parse(await readFile(path, 'utf8'));
  const ast = await openapiTS(document, {
    // Absent and null are different on this wire: `T | null` stays as the schema says.
    exportType: false,
    alphabetize: false,
  });
  return BANNER('docs/openapi.json') + astToString(ast);
}

async function eventTypes(path) {
  // The root's $id and title would name the root type; WebSocketMessage says what it is.
  const { $id, title, description, ...root } = JSON.parse(await readFile(path, 'utf8'));
  const schema = withoutPropertyTitles({
    ...root,
    description: `Any message on the WebSocket (${$id}: ${title}), either way.`,
  });
  const text = await compile(schema, 'WebSocketMessage', {
    bannerComment: '',
    additionalProperties: false,
    strictIndexSignatures: true,
    unreachableDefinitions: true,
    format: true,
    style: { singleQuote: true, printWidth: 100 },
  });
  return BANNER('docs/events.schema.json') + text;
}

const [openapiPath, eventsPath] = process.argv.slice(2);
if (!openapiPath || !eventsPath) {
  process.stderr.write('usage: generate-types.mjs OPENAPI_JSON EVENTS_JSON\n');
  process.exit(2);
}
const [openapi, events] = await Promise.all([openapiTypes(openapiPath), eventTypes(eventsPath)]);
process.stdout.write(JSON.stringify({ 'openapi.d.ts': openapi, 'events.d.ts': events }));
