import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { loadGatewayConfig } from '../../src/config/load-config';

const ROOT = join(__dirname, '..', '..');
const K8S = join(ROOT, 'k8s');

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument -- manifests are free-form YAML, walked by path */
type Obj = Record<string, any>;

interface Manifest {
  source: string;
  object: Obj;
}

const files = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');

function loadManifests(): Manifest[] {
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(join(K8S, file), 'utf8'))
      .map((doc) => doc.toJS() as Obj | null)
      .filter((object): object is Obj => object !== null)
      .map((object) => ({ source: file, object })),
  );
}

/** Schema validation in a child process (kubernetes-models is ESM-only); no network. */
function validate(manifests: Manifest[]): { source: string; kind: string; errors: string[] }[] {
  const out = execFileSync(process.execPath, [join(__dirname, 'validate-k8s.mjs')], {
    input: JSON.stringify(manifests),
    encoding: 'utf8',
  });
  return JSON.parse(out) as { source: string; kind: string; errors: string[] }[];
}

const manifests = loadManifests();
const find = (kind: string, name?: string): Obj => {
  const found = manifests.find(
    (m) => m.object.kind === kind && (name === undefined || m.object.metadata?.name === name),
  );
  if (found === undefined) {
    throw new Error(`no ${kind} ${name ?? ''} in k8s/`);
  }
  return found.object;
};

const deployment = find('Deployment', 'gateway');
const podSpec = deployment.spec.template.spec as Obj;
const container = (podSpec.containers as Obj[]).find((c) => c.name === 'gateway') as Obj;
const configMap = find('ConfigMap', 'gateway-config');
const secret = find('Secret', 'gateway-secrets');
const service = find('Service', 'gateway');

function containerPort(name: string): number {
  const port = (container.ports as Obj[]).find((p) => p.name === name);
  if (port === undefined) {
    throw new Error(`container has no port named ${name}`);
  }
  return port.containerPort as number;
}

/** A probe/service port is a number or the name of a container port. */
function resolvePort(port: number | string): number {
  return typeof port === 'number' ? port : containerPort(port);
}

function loadConfigMap(extra: Record<string, string> = {}) {
  return loadGatewayConfig({
    env: { ...(configMap.data as Record<string, string>), ...extra },
    cwd: K8S, // no .env there: only the ConfigMap counts
  });
}

describe('k8s/ manifests', () => {
  it('should hold every expected kind', () => {
    const kinds = manifests.map((m) => m.object.kind as string).sort();
    expect(kinds).toEqual(
      [
        'ConfigMap',
        'Deployment',
        'HorizontalPodAutoscaler',
        'Ingress',
        'Namespace',
        'PodDisruptionBudget',
        'Secret',
        'Service',
        'Service',
        'StatefulSet',
      ].sort(),
    );
  });

  it('should validate against the Kubernetes JSON schemas', () => {
    const results = validate(manifests);
    expect(results).toHaveLength(manifests.length);
    expect(results.filter((r) => r.errors.length > 0)).toEqual([]);
  });

  it('should have a validator that rejects broken objects', () => {
    // Proves the check above is not vacuous: wrong types, unknown kinds and versions fail.
    const broken = structuredClone(deployment);
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    broken.spec.replicas = 'three';
    const results = validate([
      { source: 'broken', object: broken },
      { source: 'kind', object: { apiVersion: 'apps/v1', kind: 'Deployments', metadata: {} } },
      { source: 'version', object: { apiVersion: 'autoscaling/v9', kind: 'HPA', metadata: {} } },
    ]);
    expect(results.map((r) => r.errors.length > 0)).toEqual([true, true, true]);
    expect(results[0]?.errors.join(' ')).toMatch(/containerPort must be integer/);
  });

  it('should list every manifest in kustomization.yaml, with the namespace of namespace.yaml', () => {
    const kustomization = parseYaml(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8')) as Obj;
    expect([...(kustomization.resources as string[])].sort()).toEqual([...files].sort());
    expect(kustomization.namespace).toBe(find('Namespace').metadata.name);
    // The image the kustomization retags is the Deployment's, pinned (never :latest).
    const image = container.image as string;
    expect(image).toMatch(/^[^:]+:[0-9][\w.-]*$/);
    expect((kustomization.images as Obj[])[0]?.name).toBe(image.split(':')[0]);
  });

  it('should load the ConfigMap with the gateway config loader, without problems', () => {
    const loaded = loadConfigMap();
    if (!loaded.ok) {
      throw new Error(loaded.problems.join('\n'));
    }
    expect(loaded.config.routes.length).toBeGreaterThan(0); // the Go manifests had no routes
    expect(loaded.config.redis.url).toBe('redis://redis:6379');
    // A shipped example passes config:check cleanly: no warning (a flood threshold below the
    // rate limit, a misspelt variable, a route shadowed by the gateway's own paths...).
    expect(loaded.warnings).toEqual([]);
    // With the Secret's keys added (real values are long enough), it still loads.
    const withSecrets = loadConfigMap({
      ADMIN_TOKEN: 'a'.repeat(40),
      JWT_SECRET: 'j'.repeat(40),
      REDIS_PASSWORD: 'r'.repeat(24),
    });
    expect(withSecrets.ok).toBe(true);
  });

  it('should point the probes at the health endpoints the app serves, on the listen port', () => {
    const controller = readFileSync(join(ROOT, 'src', 'health', 'health.controller.ts'), 'utf8');
    const base = /@Controller\('([^']+)'\)/.exec(controller)?.[1];
    const paths = [...controller.matchAll(/@Get\('([^']*)'\)/g)].map((m) => `/${base}/${m[1]}`);
    expect(paths).toEqual(expect.arrayContaining(['/health/live', '/health/ready']));

    const loaded = loadConfigMap();
    if (!loaded.ok) {
      throw new Error(loaded.problems.join('\n'));
    }
    const port = loaded.config.server.port;
    expect(containerPort('http')).toBe(port);
    expect(container.livenessProbe.httpGet.path).toBe('/health/live');
    expect(container.startupProbe.httpGet.path).toBe('/health/live');
    expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      expect(paths).toContain(container[probe].httpGet.path);
      expect(resolvePort(container[probe].httpGet.port as number | string)).toBe(port);
    }
    // The Service sends to the listen port; the Ingress to that Service port.
    const servicePort = (service.spec.ports as Obj[])[0];
    expect(resolvePort(servicePort.targetPort as number | string)).toBe(port);
    const backend = find('Ingress').spec.rules[0].http.paths[0].backend.service as Obj;
    expect(backend.name).toBe(service.metadata.name);
    expect(backend.port.name ?? backend.port.number).toBe(
      backend.port.name === undefined ? servicePort.port : servicePort.name,
    );
    // /metrics on the admin listener, which Prometheus scrapes and the Service does not expose.
    expect(loaded.config.admin.listen?.port).toBe(containerPort('admin'));
    const annotations = deployment.spec.template.metadata.annotations as Obj;
    expect(Number(annotations['prometheus.io/port'])).toBe(containerPort('admin'));
    expect((service.spec.ports as Obj[]).map((p) => resolvePort(p.targetPort))).not.toContain(
      containerPort('admin'),
    );
  });

  it('should keep secrets out of the ConfigMap and take them from the Secret', () => {
    const keys = Object.keys(configMap.data as Obj);
    for (const secretKey of ['JWT_SECRET', 'ADMIN_TOKEN', 'REDIS_PASSWORD']) {
      expect(keys).not.toContain(secretKey);
      expect(Object.keys(secret.stringData as Obj)).toContain(secretKey);
    }
    expect(String(configMap.data.REDIS_URL)).not.toMatch(/\/\/[^@/]*@/); // no password in the URL
    expect(container.envFrom).toEqual([
      { configMapRef: { name: configMap.metadata.name } },
      { secretRef: { name: secret.metadata.name } },
    ]);
    // The placeholders cannot start a gateway by accident: ADMIN_TOKEN is too short.
    const unedited = loadConfigMap({ ADMIN_TOKEN: secret.stringData.ADMIN_TOKEN as string });
    expect(unedited.ok).toBe(false);
    // Redis takes its password from the same Secret.
    const redis = find('StatefulSet', 'redis');
    const env = redis.spec.template.spec.containers[0].env as Obj[];
    expect(env.find((e) => e.name === 'REDIS_PASSWORD')?.valueFrom.secretKeyRef).toEqual({
      name: secret.metadata.name,
      key: 'REDIS_PASSWORD',
    });
  });

  it('should let the drain finish before the kubelet kills the pod', () => {
    const loaded = loadConfigMap();
    if (!loaded.ok) {
      throw new Error(loaded.problems.join('\n'));
    }
    const { shutdownDelayMs, shutdownTimeoutMs } = loaded.config.server;
    // SHUTDOWN_DELAY keeps serving while the endpoint removal propagates; no preStop sleep adds
    // a second wait on top of it.
    expect(shutdownDelayMs).toBeGreaterThanOrEqual(3_000);
    expect(container.lifecycle?.preStop).toBeUndefined();
    const grace = podSpec.terminationGracePeriodSeconds as number;
    expect(grace * 1000).toBeGreaterThan(shutdownDelayMs + shutdownTimeoutMs);
  });

  it('should not opt every route in to caching responses that state no freshness', () => {
    const loaded = loadConfigMap();
    expect(loaded.ok && loaded.config.cache).toMatchObject({ enabled: true, ttlExplicit: false });
  });

  it('should run non-root with a read-only root filesystem and a writable /tmp', () => {
    expect(podSpec.securityContext.runAsNonRoot).toBe(true);
    expect(podSpec.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    const tmp = (container.volumeMounts as Obj[]).find((v) => v.mountPath === '/tmp');
    expect((podSpec.volumes as Obj[]).find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    expect(container.resources.requests.cpu).toBeDefined(); // the HPA's CPU target needs it
    expect(container.resources.limits.memory).toBeDefined();
  });

  it('should scale 3-10 on CPU, keep 2 pods through disruptions, and select the gateway pods', () => {
    const labels = deployment.spec.template.metadata.labels as Obj;
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.selector.matchLabels).toEqual(labels);
    const hpa = find('HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 10 });
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'gateway' });
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
    const pdb = find('PodDisruptionBudget');
    expect(pdb.spec.minAvailable).toBe(2);
    expect(pdb.spec.selector.matchLabels).toEqual(labels);
    expect(service.spec.selector).toEqual(labels);
  });

  it('should run Redis as a StatefulSet with a volume claim, behind the Service REDIS_URL names', () => {
    const redis = find('StatefulSet', 'redis');
    expect(redis.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBeDefined();
    const mount = redis.spec.template.spec.containers[0].volumeMounts[0] as Obj;
    expect(mount).toEqual({
      name: redis.spec.volumeClaimTemplates[0].metadata.name,
      mountPath: '/data',
    });
    const redisService = find('Service', 'redis');
    expect(redisService.spec.selector).toEqual(redis.spec.template.metadata.labels);
    const url = new URL(configMap.data.REDIS_URL as string);
    expect(url.hostname).toBe(redisService.metadata.name);
    expect(Number(url.port)).toBe(redisService.spec.ports[0].port);
  });
});
