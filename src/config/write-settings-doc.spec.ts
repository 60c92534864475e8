import { readFileSync } from 'node:fs';
import { renderSettingsDoc, SETTINGS_DOC_PATH } from './write-settings-doc';

describe('docs/settings.md', () => {
  it('should match the settings tables', () => {
    const committed = readFileSync(SETTINGS_DOC_PATH, 'utf8');

    // On failure: npm run docs:settings
    expect(committed).toBe(renderSettingsDoc());
  });

  it('should have one table per area and one row per setting', () => {
    const doc = renderSettingsDoc();

    expect(doc).toContain('## Response cache and compression');
    expect(doc).toMatch(
      /^\| `CACHE_TTL` +\| `cache\.cache_ttl` +\| duration +\| `5m` +\| Setting it opts every caching route in/m,
    );
    expect(doc).toMatch(/^\| `DEMO_UPSTREAM` +\| `demo_upstream` +\|/m);
  });
});
