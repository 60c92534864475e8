import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ts from 'typescript';
import { loadGatewayConfig } from '../load-config';
import { Report } from '../loader/report';
import { ADMIN } from './admin';
import { AUTH } from './auth';
import { CACHE } from './cache';
import { GENERAL } from './general';
import { ALL_SETTINGS, FILE_SETTING_ENV_NAMES, SETTING_AREAS } from './index';
import { LOAD_BALANCING } from './load-balancing';
import { LOG } from './log';
import { OBSERVABILITY } from './observability';
import { PROXY } from './proxy';
import { REDIS } from './redis';
import { RESILIENCE } from './resilience';
import { SECURITY } from './security';
import { SERVER } from './server';
import type { Setting } from './setting';

describe('settings tables', () => {
  it('should give every setting its own variable and its own file key', () => {
    const envs = ALL_SETTINGS.map(({ setting }) => setting.env);
    const paths = ALL_SETTINGS.map(({ path }) => path.join('.'));

    const sections = SETTING_AREAS.flatMap((area) => area.section ?? []);

    expect(new Set(envs).size).toBe(envs.length);
    expect(new Set(paths).size).toBe(paths.length);
    expect(new Set(sections).size).toBe(sections.length);
    expect(FILE_SETTING_ENV_NAMES['cache.cache_ttl']).toBe('CACHE_TTL');
    expect(FILE_SETTING_ENV_NAMES.demo_upstream).toBe('DEMO_UPSTREAM');
  });

  it.each(ALL_SETTINGS.map(({ setting }) => [setting.env, setting] as const))(
    '%s: the default as written parses to the default the loader uses',
    (_env, setting) => {
      const shown = setting.shownDefault;
      const text = shown === undefined ? undefined : setting.fileText(shown);
      const context = { cwd: __dirname, report: new Report(), label: setting.env };

      if (text === undefined || text.trim() === '') {
        // Written as "nothing" (an empty list, no_dashboard: false): the setting counts as unset.
        expect([[], false, undefined]).toContainEqual(setting.default);
      } else {
        expect(setting.parse(text, context)).toEqual(setting.default);
        expect(context.report.problems).toEqual([]);
      }
    },
  );

  it('should give the same value from the environment and from the file', () => {
    // One non-default value per kind of setting, given once through each source.
    const cases: [Setting<unknown>, string, unknown][] = [
      [CACHE.settings.ttlMs, '90s', '90s'],
      [SECURITY.settings.maxBurstSize, '7', 7],
      [SECURITY.settings.corsAllowedOrigins, '["https://a.example"]', ['https://a.example']],
      [SECURITY.settings.corsAllowedMethods, 'get,post', ['get', 'post']],
      [SERVER.settings.listen, '127.0.0.1:9000', '127.0.0.1:9000'],
      [GENERAL.settings.demoUpstream, 'false', false],
      [GENERAL.settings.noDashboard, '1', true],
    ];
    const dir = mkdtempSync(join(tmpdir(), 'settings-spec-'));
    try {
      for (const [setting, envText, fileValue] of cases) {
        const { path } = ALL_SETTINGS.find((entry) => entry.setting === setting)!;
        const document =
          path.length === 1 ? { [path[0]]: fileValue } : { [path[0]]: { [path[1]]: fileValue } };
        writeFileSync(join(dir, 'gw.json'), JSON.stringify(document));
        const fromEnv = loadGatewayConfig({
          env: { [setting.env]: envText },
          cwd: dir,
          isTTY: false,
        });
        const fromFile = loadGatewayConfig({
          env: { GATEWAY_CONFIG: 'gw.json' },
          cwd: dir,
          isTTY: false,
        });

        expect(fromEnv.ok && fromFile.ok).toBe(true);
        const { configFile, ...fileConfig } = fromFile.ok ? fromFile.config : { configFile: '' };
        expect(configFile).toBe(join(dir, 'gw.json'));
        expect(fileConfig).toEqual(fromEnv.ok ? fromEnv.config : undefined);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Interfaces of gateway-config.types.ts whose fields are filled from a settings area. */
const AREA_OF_INTERFACE: Record<string, { settings: Record<string, Setting<unknown>> }> = {
  ServerConfig: SERVER,
  ProxyConfig: PROXY,
  LoadBalancingConfig: LOAD_BALANCING,
  ResilienceConfig: RESILIENCE,
  SecurityConfig: SECURITY,
  AuthConfig: AUTH,
  CacheConfig: CACHE,
  RedisConfig: REDIS,
  LogConfig: LOG,
  TracingConfig: OBSERVABILITY,
  ObservabilityConfig: OBSERVABILITY,
  AdminConfig: ADMIN,
  GatewayConfig: GENERAL,
};

describe('gateway-config.types.ts', () => {
  const path = resolve(__dirname, '..', 'gateway-config.types.ts');
  const source = ts.createSourceFile(
    path,
    readFileSync(path, 'utf8'),
    ts.ScriptTarget.Latest,
    true,
  );
  const documented: { field: string; setting: Setting<unknown> | undefined; text: string }[] = [];
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node)) {
      return;
    }
    const area = AREA_OF_INTERFACE[node.name.text];
    for (const member of node.members) {
      const tag = ts.getJSDocTags(member).find((t) => t.tagName.text === 'default');
      if (area === undefined || tag === undefined || member.name === undefined) {
        continue;
      }
      const field = (member.name as ts.Identifier).text;
      documented.push({
        field: `${node.name.text}.${field}`,
        setting: area.settings[field],
        text: ts.getTextOfJSDocComment(tag.comment)?.trim() ?? '',
      });
    }
  });

  it('should document defaults, if at all, as the settings tables declare them', () => {
    // A documented default on a field no setting fills cannot be checked: leave it out there.
    const wrong = documented
      .filter(
        ({ setting, text }) => setting === undefined || text !== JSON.stringify(setting.default),
      )
      .map(({ field, setting, text }) => ({
        field,
        documented: text,
        declared: setting === undefined ? 'no setting' : JSON.stringify(setting.default),
      }));

    expect(documented.length).toBeGreaterThan(40);
    expect(wrong).toEqual([]);
  });
});
