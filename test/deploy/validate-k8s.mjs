// Validates Kubernetes objects against the Kubernetes OpenAPI schemas compiled into the
// `kubernetes-models` package (ajv; no network). ESM-only package, hence a child process:
// reads [{ source, object }] as JSON on stdin, prints [{ source, kind, errors }] on stdout.
const input = JSON.parse(
  await new Promise((resolve) => {
    let data = '';
    process.stdin.on('data', (chunk) => (data += chunk));
    process.stdin.on('end', () => resolve(data));
  }),
);

const results = [];
for (const { source, object } of input) {
  const apiVersion = String(object?.apiVersion ?? '');
  const kind = String(object?.kind ?? '');
  let errors = [];
  try {
    const models = await import(`kubernetes-models/${apiVersion}`);
    const Model = models[kind];
    if (typeof Model !== 'function') {
      errors = [`unknown kind ${kind} in ${apiVersion}`];
    } else {
      new Model(object).validate();
    }
  } catch (error) {
    errors = [error instanceof Error ? error.message : String(error)];
  }
  results.push({ source, kind, errors });
}
process.stdout.write(JSON.stringify(results));
