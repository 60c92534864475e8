/**
 * Schema of the declarative config file (`GATEWAY_CONFIG=gateway.yaml`, YAML or JSON).
 *
 * The settings' part is derived from the settings tables (./settings/): keys are grouped by area
 * and each description names its environment variable. The schema checks shape and types only and
 * is strict, so a typo such as `prot:` is an error instead of a silently ignored key. Meaning
 * (durations > 0, IPs, URLs, conflicts) is checked by the settings' parsers, the same way for file
 * and environment values.
 *
 * `schema/gateway-config.schema.json` is generated from this file (`write-json-schema.ts`).
 */
import { z } from 'zod';
import { GO_DURATION_PATTERN } from './duration';
import {
  RATE_LIMIT_KEYS,
  ROUTE_AUTH_METHODS,
  ROUTE_SECURITY_HEADER_KEYS,
} from './gateway-config.types';
import { SETTING_AREAS } from './settings';
import { algorithmSchema } from './settings/load-balancing';
import type { Setting } from './settings/setting';

/** A setting's file schema: optional, described, with its default as a user writes it. */
function fileSchemaOf(setting: Setting<unknown>): z.ZodType {
  const note = setting.schemaNote === undefined ? '' : ` ${setting.schemaNote}`;
  return setting.schema.optional().meta({
    description: `${setting.description}${note} Env: ${setting.env}.`,
    ...(setting.shownDefault === undefined ? {} : { default: setting.shownDefault }),
  });
}

/** Sections (`cache: {…}`) and top-level settings, in area order. */
function settingsShape(): Record<string, z.ZodType> {
  const shape: Record<string, z.ZodType> = {};
  for (const area of SETTING_AREAS) {
    const fields = Object.fromEntries(
      Object.values(area.settings).map((setting) => [setting.key, fileSchemaOf(setting)]),
    );
    if (area.section === undefined) {
      Object.assign(shape, fields);
    } else {
      shape[area.section] = z.strictObject(fields).optional();
    }
  }
  return shape;
}

/** HTTP statuses counted as upstream failures (a route's or an upstream's `failure_statuses`). */
const failureStatusList = z.array(
  z
    .int()
    .min(400, { error: 'expected an HTTP status 400-599' })
    .max(599, { error: 'expected an HTTP status 400-599' }),
);

/** One route; also the element schema of `SERVICE_ROUTES` (after its keys are case-folded). */
export const routeFileSchema = z.strictObject({
  name: z.string().optional().meta({
    description:
      'Unique name used in logs and metrics; lower-cased. Derived from host and prefix when absent.',
  }),
  host: z.string().optional().meta({
    description:
      'Host to match: empty/absent any host, `api.example.com` exact, `*.example.com` subdomains.',
  }),
  prefix: z.string().optional().meta({
    description: 'Path prefix starting with `/`, matched on `/` boundaries.',
    default: '/',
  }),
  target_url: z.string().optional().meta({
    description:
      'First upstream, e.g. `http://10.0.0.5:8080`; `http://` is added when no scheme is given.',
  }),
  targets: z
    .array(
      z.union(
        [
          z.string(),
          z.strictObject({
            url: z.string().meta({ description: 'The upstream URL, as in `target_url`.' }),
            failure_statuses: failureStatusList.optional().meta({
              description:
                "Statuses counted as this upstream's failures, added to the route's and CIRCUIT_BREAKER_FAILURE_STATUSES.",
            }),
          }),
        ],
        { error: 'expected an upstream URL, or {url, failure_statuses}' },
      ),
    )
    .optional()
    .meta({
      description:
        'More upstreams, after `target_url`: URLs, or `{url, failure_statuses}` for an upstream that counts more statuses as failures.',
    }),
  strip_prefix: z.boolean().optional().meta({
    description:
      'Remove `prefix` before forwarding. Defaults to false here and in SERVICE_ROUTES, true for ROUTE_<NAME>_* routes.',
    default: false,
  }),
  require_auth: z
    .boolean()
    .optional()
    .meta({ description: 'Request must be authenticated.', default: false }),
  auth: z
    .array(z.enum(ROUTE_AUTH_METHODS, { error: `expected one of ${ROUTE_AUTH_METHODS.join('|')}` }))
    .optional()
    .meta({
      description:
        'Credentials a require_auth route accepts: `jwt` (Authorization: Bearer), `api_key` (X-API-Key). Default: both.',
    }),
  hide_credentials: z.boolean().optional().meta({
    description:
      "Remove the route's credential headers (a bearer Authorization, X-API-Key) before forwarding.",
    default: false,
  }),
  weight: z.int().min(0, { error: 'must be >= 0 (0 means 1)' }).optional().meta({
    description: 'Weight of every upstream without its own entry in `weights`; 0 means 1.',
    default: 1,
  }),
  weights: z
    .array(z.int().min(0, { error: 'must be >= 0 (0 means `weight`)' }))
    .optional()
    .meta({
      description: 'Per-upstream weights indexing [target_url, ...targets]; 0 means `weight`.',
    }),
  timeout_secs: z
    .int()
    .min(0, { error: 'must be >= 0 (0 means CONNECTION_TIMEOUT)' })
    .optional()
    .meta({
      description: 'Upstream answer timeout in seconds; 0 or absent means CONNECTION_TIMEOUT.',
    }),
  health_path: z.string().optional().meta({
    description: 'Active health-check path (GET, expects 2xx); TCP connect check when absent.',
  }),
  preserve_host: z.boolean().optional().meta({
    description: "Forward the client's Host header instead of the upstream's.",
    default: false,
  }),
  algorithm: algorithmSchema
    .optional()
    .meta({ description: 'Overrides load_balancing.algorithm for this route.' }),
  rate_limit: z
    .strictObject({
      rate: z.number().positive({ error: 'must be > 0' }).meta({
        description: 'Tokens refilled per second; may be fractional (0.5 = one request every 2 s).',
      }),
      burst: z.int().min(1, { error: 'must be >= 1' }).optional().meta({
        description:
          'Bucket capacity: requests allowed at once after an idle period. Default: rate rounded up.',
      }),
      key: z
        .enum(RATE_LIMIT_KEYS, { error: `expected one of ${RATE_LIMIT_KEYS.join('|')}` })
        .optional()
        .meta({
          description: 'What the bucket is keyed by: client IP, API key or JWT `sub`.',
          default: 'ip',
        }),
    })
    .optional()
    .meta({
      description:
        "The route's own token bucket, checked in addition to the per-IP MAX_REQUESTS_PER_SECOND bucket.",
    }),
  max_body_size: z
    .int()
    .min(0, { error: 'must be >= 0 (0 means no limit)' })
    .optional()
    .meta({ description: 'Overrides MAX_BODY_SIZE for this route (bytes; 0 means no limit).' }),
  cache: z
    .strictObject({
      enabled: z
        .boolean()
        .optional()
        .meta({ description: "Cache this route's responses.", default: true }),
      ttl: z
        .string()
        .regex(GO_DURATION_PATTERN, { error: 'invalid duration (e.g. `30s`, `5m`)' })
        .optional()
        .meta({
          description:
            'Opts this route in to storing responses that state no freshness, for this long (overrides CACHE_TTL). Go duration (`30s`, `5m`).',
        }),
      allow_set_cookie: z.boolean().optional().meta({
        description: 'Store responses that carry Set-Cookie (the cookie is replayed on hits).',
        default: false,
      }),
    })
    .optional()
    .meta({ description: 'Response cache settings of this route (ENABLE_CACHING still applies).' }),
  failure_statuses: failureStatusList.optional().meta({
    description:
      "Statuses counted as failures of this route's upstreams (breaker, ejection, upstream_errors_total), added to CIRCUIT_BREAKER_FAILURE_STATUSES, e.g. [500, 429]. Env: ROUTE_<NAME>_FAILURE_STATUSES.",
  }),
  security_headers: z
    .strictObject(
      Object.fromEntries(
        ROUTE_SECURITY_HEADER_KEYS.map((key) => [
          key,
          z
            .union([
              z.boolean(),
              z.string().regex(/^[\x21-\x7e](?:[\t\x20-\x7e]*[\x21-\x7e])?$/, {
                error: 'expected a header value: printable ASCII, no line breaks',
              }),
            ])
            .optional()
            .meta({
              description: `\`${key.replace(/_/g, '-')}\` on proxied answers (only where the upstream set none): a value, \`true\` for the gateway's strict value, \`false\` for none.`,
            }),
        ]),
      ),
    )
    .optional()
    .meta({
      description:
        'Security headers added to proxied answers that lack them. By default only X-Content-Type-Options, Referrer-Policy, X-XSS-Protection: 0 and HSTS over TLS (SECURITY_HEADERS); a route may set or disable each.',
    }),
});

export const gatewayConfigFileSchema = z
  .strictObject({
    $schema: z
      .string()
      .optional()
      .meta({ description: 'JSON Schema reference, for editors; ignored.' }),
    ...settingsShape(),
    routes: z.array(routeFileSchema).optional().meta({
      description:
        'Routes, registered before SERVICE_ROUTES and ROUTE_<NAME>_* routes from the environment.',
    }),
  })
  .meta({
    title: 'nest-edge-gateway configuration',
    description:
      'Declarative gateway config (GATEWAY_CONFIG). Environment variables override these settings; routes from the environment are added to `routes`.',
  });

export type RouteFileEntry = z.infer<typeof routeFileSchema>;
