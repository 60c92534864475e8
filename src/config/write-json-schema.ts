/**
 * Generates `schema/gateway-config.schema.json` from the zod file schema, for editors
 * (`# yaml-language-server: $schema=./schema/gateway-config.schema.json`) and external validators.
 *
 * Run after changing a setting (src/config/settings/) or gateway-config.schema.ts:
 * `npm run schema:write` (which also writes docs/settings.md).
 * `write-json-schema.spec.ts` fails while the committed file is out of date.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { gatewayConfigFileSchema } from './gateway-config.schema';

/** Same relative location from src/config and dist/config. */
export const JSON_SCHEMA_PATH = resolve(
  __dirname,
  '..',
  '..',
  'schema',
  'gateway-config.schema.json',
);

export function renderJsonSchema(): string {
  // `input`: the schema describes what a file may contain, before any parsing.
  const schema = z.toJSONSchema(gatewayConfigFileSchema, { io: 'input' });
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(JSON_SCHEMA_PATH, renderJsonSchema());
  process.stdout.write(`wrote ${JSON_SCHEMA_PATH}\n`);
}
