#!/usr/bin/env node
// Validate an AsyncAPI document with the AsyncAPI parser (@asyncapi/parser),
// the same checks AsyncAPI's own tools run (spec schema, references, the
// payload schemas, and its recommended rules).
//
//   node scripts/validate-asyncapi.mjs docs/asyncapi.json
//
// prints {"errors": [...], "warnings": [...], "messages": N, "channels": N}
// and exits 1 when there is an error.

import { readFile } from 'node:fs/promises';

import { DiagnosticSeverity, Parser } from '@asyncapi/parser';

const path = process.argv[2];
if (!path) {
  process.stderr.write('usage: validate-asyncapi.mjs ASYNCAPI_JSON\n');
  process.exit(2);
}
const parser = new Parser();
const { document, diagnostics } = await parser.parse(await readFile(path, 'utf8'), { source: path });
const show = (d) => ({ code: d.code, message: d.message, path: d.path.join('.') });
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error).map(show);
const warnings = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Warning).map(show);
const report = {
  errors,
  warnings,
  version: document?.version() ?? null,
  channels: document ? document.channels().all().map((c) => c.id()) : [],
  messages: document ? document.components().messages().all().map((m) => m.id()) : [],
  operations: document ? document.operations().all().map((o) => o.id()) : [],
};
process.stdout.write(JSON.stringify(report, null, 2));
process.exit(errors.length || !document ? 1 : 0);
