import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
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
  it('should be a valid configuration', () => {
    const example = resolve(__dirname, '..', '..', 'gateway.example.yaml');
    const result = loadGatewayConfig({
      env: { GATEWAY_CONFIG: example, JWT_SECRET: 'e'.repeat(48) },
      cwd: resolve(__dirname),
      isTTY: false,
    });

    expect(result).toMatchObject({ ok: true, warnings: [] });
    expect(result.ok && result.config.routes.map((route) => route.name)).toEqual([
      'users',
      'billing',
    ]);
  });
});
