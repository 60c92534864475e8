/**
 * Generates `docs/settings.md`, the reference of every setting, from the settings tables
 * (src/config/settings/): one table per area.
 *
 * Run after changing a setting: `npm run docs:settings` (or `npm run schema:write`, which writes
 * the JSON Schema too). `write-settings-doc.spec.ts` fails while the committed file is out of date.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SETTING_AREAS } from './settings';
import type { Setting } from './settings/setting';

/** Same relative location from src/config and dist/config. */
export const SETTINGS_DOC_PATH = resolve(__dirname, '..', '..', 'docs', 'settings.md');

const INTRO = `# Settings reference

<!-- Generated from src/config/settings/ by \`npm run docs:settings\`; edit those files, not this one. -->

Every setting can be given as an environment variable or in the config file named by
\`GATEWAY_CONFIG\` (YAML or JSON, checked against
[\`schema/gateway-config.schema.json\`](../schema/gateway-config.schema.json)). Precedence:
environment > \`.env\` > config file > default. The whole configuration is validated at start;
every problem is reported on its own line, naming the variable or the file key.

Durations use Go syntax (\`500ms\`, \`10s\`, \`1h30m\`). Booleans accept Go's spellings
(\`1 t T TRUE true True 0 f F FALSE false False\`). Lists are comma or space separated in the
environment and arrays in the file. Routes (\`routes\` in the file, \`SERVICE_ROUTES\`,
\`ROUTE_<NAME>_<SUFFIX>\`) are described in the README.
`;

const HEADER = ['Variable', 'File key', 'Type', 'Default', 'Description'];

export function renderSettingsDoc(): string {
  const sections = SETTING_AREAS.map((area) => {
    const rows = Object.values(area.settings).map((setting) => [
      code(setting.env),
      code(area.section === undefined ? setting.key : `${area.section}.${setting.key}`),
      escape(setting.type),
      defaultCell(setting),
      escape(setting.description),
    ]);
    return `## ${area.title}\n\n${table([HEADER, ...rows])}`;
  });
  return `${INTRO}\n${sections.join('\n')}`;
}

function defaultCell(setting: Setting<unknown>): string {
  const shown = setting.shownDefault;
  if (shown === undefined) {
    return escape(setting.defaultNote ?? 'unset');
  }
  if (Array.isArray(shown)) {
    return shown.length === 0 ? 'none' : code(shown.join(','));
  }
  return code(String(shown));
}

function code(text: string): string {
  return `\`${text.replace(/\|/g, '\\|')}\``;
}

function escape(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** A Markdown table with padded columns, so the raw file reads as a table too. */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) =>
    Math.max(3, ...rows.map((row) => [...row[column]].length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell + ' '.repeat(widths[column] - [...cell].length)).join(' | ')} |`;
  const rule = `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`;
  return `${[line(rows[0]), rule, ...rows.slice(1).map(line)].join('\n')}\n`;
}

if (require.main === module) {
  writeFileSync(SETTINGS_DOC_PATH, renderSettingsDoc());
  process.stdout.write(`wrote ${SETTINGS_DOC_PATH}\n`);
}
