// `npm test` (pretest): the programs the test suites run that npm cannot install. Without this a
// fresh machine fails minutes later deep inside one suite; here it stops at once with one message
// naming what is missing and the one command that installs it.
//
//   node scripts/check-test-programs.js                 check; exit 1 with the message if missing
//   node scripts/check-test-programs.js --apt-packages  print the Debian packages still needed
//                                                       (one per line; .ci/run installs them)
'use strict';
const { accessSync, constants } = require('node:fs');
const { delimiter, isAbsolute, join } = require('node:path');

/** Each program, the suites that need it, and the Debian package that provides it. */
const PROGRAMS = [
  { name: 'redis-server', pkg: 'redis-server', why: 'Redis suites start their own redis-server' },
  { name: 'redis-cli', pkg: 'redis-tools', why: 'redis-topology-cluster joins nodes with it' },
  { name: 'promtool', pkg: 'prometheus', why: 'metrics checks /metrics with promtool' },
  { name: 'prometheus', pkg: 'prometheus', why: 'metrics scrapes the gateway with Prometheus' },
  // playwright-core drives Debian's Chromium at this exact path (monitor, docs).
  { name: '/usr/bin/chromium', pkg: 'chromium', why: 'monitor and docs render pages in it' },
  { name: 'tmux', pkg: 'tmux', why: 'dashboard runs the gateway in a tmux session' },
  { name: 'openssl', pkg: 'openssl', why: 'redis-topology makes a TLS certificate' },
  { name: 'python3', pkg: 'python3', why: 'hostile-headers runs a CGI-style upstream on wsgiref' },
  { name: 'nginx', pkg: 'nginx', why: 'ingress-forwarding puts a real nginx in front' },
];

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function found(name, env = process.env) {
  if (isAbsolute(name)) {
    return isExecutable(name);
  }
  return (env.PATH || '')
    .split(delimiter)
    .some((dir) => dir !== '' && isExecutable(join(dir, name)));
}

function missing(env = process.env) {
  return PROGRAMS.filter((p) => !found(p.name, env));
}

function main() {
  const absent = missing();
  const packages = [...new Set(absent.map((p) => p.pkg))];
  if (process.argv.includes('--apt-packages')) {
    process.stdout.write(packages.map((p) => `${p}\n`).join(''));
    return;
  }
  if (absent.length === 0) {
    return;
  }
  process.stderr.write(
    `npm test: ${absent.length === 1 ? 'a program' : 'programs'} the test suites need ` +
      `${absent.length === 1 ? 'is' : 'are'} missing (npm cannot install ` +
      `${absent.length === 1 ? 'it' : 'them'}): ${absent.map((p) => p.name).join(', ')}\n` +
      absent.map((p) => `  ${p.name}: ${p.why}\n`).join('') +
      `Install ${absent.length === 1 ? 'it' : 'them'} (Debian/Ubuntu):\n` +
      `  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${packages.join(' ')}\n` +
      'or run the whole CI on a clean clone: bash .ci/run\n',
  );
  process.exit(1);
}

if (require.main === module) {
  main();
}

module.exports = { PROGRAMS, missing };
