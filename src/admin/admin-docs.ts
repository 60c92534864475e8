import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { GATEWAY_VERSION } from '../common/version';
import { ADMIN_API_KEY_SCHEME, ADMIN_BEARER_SCHEME } from './admin.constants';

/**
 * Swagger UI on `/docs` (assets from swagger-ui-dist in node_modules: no CDN, no external
 * validator) and the OpenAPI 3 document on `/docs-json`. The proxy's catch-all is excluded with
 * `@ApiExcludeController`, so the document lists only what the gateway itself answers.
 */
export function setupAdminDocs(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('nest-edge-gateway admin API')
    .setDescription(
      'Management API of the gateway: IP lists, blocks, routes (hot reload), upstreams, API keys, configuration. ' +
        'Authenticate with `Authorization: Bearer <ADMIN_TOKEN>` or an `X-API-Key` that has the admin scope. ' +
        'Every change is written to the audit log.',
    )
    .setVersion(GATEWAY_VERSION)
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN (at least 32 characters)' },
      ADMIN_BEARER_SCHEME,
    )
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'X-API-Key',
        description: 'An API key with the admin scope',
      },
      ADMIN_API_KEY_SCHEME,
    )
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // Swagger's own asset serving goes through @fastify/static (and its ESM-only dependencies);
  // the five files Swagger UI loads are served from memory instead.
  const withOwnAssets = new Proxy(app, {
    get(target, property, receiver: NestFastifyApplication): unknown {
      if (property === 'useStaticAssets') {
        return (options: { prefix?: string }): NestFastifyApplication => {
          serveSwaggerAssets(app, options.prefix ?? '/docs');
          return receiver;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return value;
    },
  });
  SwaggerModule.setup('docs', withOwnAssets, document, {
    jsonDocumentUrl: 'docs-json',
    raw: ['json'],
    customSiteTitle: 'nest-edge-gateway admin API',
    swaggerOptions: {
      // null turns off the badge that would send the document to validator.swagger.io.
      validatorUrl: null,
      persistAuthorization: false,
      tryItOutEnabled: true,
      displayRequestDuration: true,
    },
  });
  return document;
}

/** The files the Swagger UI page loads, with their types; nothing else is served. */
const SWAGGER_ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

/** Reads the swagger-ui-dist assets once at boot and serves them under `prefix`. */
function serveSwaggerAssets(app: NestFastifyApplication, prefix: string): void {
  const root = dirname(require.resolve('swagger-ui-dist/package.json'));
  const fastify = app.getHttpAdapter().getInstance();
  for (const [file, type] of Object.entries(SWAGGER_ASSETS)) {
    const body = readFileSync(join(root, file));
    fastify.get(`${prefix}/${file}`, (_req, reply) => {
      void reply
        .header('content-type', type)
        .header('cache-control', 'public, max-age=3600')
        .send(body);
    });
  }
}
