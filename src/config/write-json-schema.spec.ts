import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { runConfigCheck } from './config-check';
import { loadGatewayConfig } from './load-config';
import { JSON_SCHEMA_PATH, renderJsonSchema } from './write-json-schema';

describe('JSON Schema', () => {
  it('should match the committed schema/gateway-config.schema.json', () => {
    const committed = readFileSync(JSON_SCHEMA_PATH, 'utf8');

    // On failure: npm run build && node dist/config/write-json-schema.js
    expect(committed).toBe(renderJsonSchema());
  });

  it('should forbid unknown keys in every object', () => {
    const schema = JSON.parse(renderJsonSchema()) as {
      additionalProperties: boolean;
      properties: Record<string, { additionalProperties?: boolean; items?: object }>;
    };

    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.server.additionalProperties).toBe(false);
    expect(schema.properties.routes.items).toMatchObject({ additionalProperties: false });
  });
});

describe('gateway.example.yaml', () => {
  const root = resolve(__dirname, '..', '..');

  it('should pass `npm run config:check -- gateway.example.yaml` as shipped, without warnings', () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = runConfigCheck(['gateway.example.yaml'], {
      // Nothing from the environment: the file alone must be a working configuration.
      env: {},
      cwd: root,
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
    });

    expect({ code, stderr: err.join('') }).toEqual({ code: 0, stderr: '' });
    expect(out.join('')).toBe('OK: 2 routes\n');
  });

  it('should load its routes as written', () => {
    const result = loadGatewayConfig({
      env: { GATEWAY_CONFIG: resolve(root, 'gateway.example.yaml') },
      cwd: root,
      isTTY: false,
    });

    expect(result.ok && result.config.routes.map((route) => route.name)).toEqual([
      'users',
      'billing',
    ]);
  });
});
