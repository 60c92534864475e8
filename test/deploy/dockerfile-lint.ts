/**
 * A small hadolint-style linter for the project's Dockerfile (no Docker engine or hadolint
 * binary here). Each rule names the hadolint rule it mirrors where one exists.
 */
export interface Instruction {
  line: number;
  keyword: string;
  args: string;
}

export interface LintFinding {
  rule: string;
  line: number;
  message: string;
}

/** Joins `\` continuations, drops comments and blank lines. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let current = lines[i] ?? '';
    if (/^\s*(#|$)/.test(current)) {
      continue;
    }
    while (/\\\s*$/.test(current) && i + 1 < lines.length) {
      i++;
      const next = lines[i] ?? '';
      if (/^\s*#/.test(next)) {
        continue;
      }
      current = current.replace(/\\\s*$/, ' ') + next.trim();
    }
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(current);
    if (match) {
      out.push({ line: start + 1, keyword: (match[1] ?? '').toUpperCase(), args: match[2] ?? '' });
    }
  }
  return out;
}

const SECRET_NAME = /(SECRET|TOKEN|PASSWORD|PASSWD|API_KEY|PRIVATE_KEY)/i;

function isExecForm(args: string): boolean {
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((a) => typeof a === 'string');
  } catch {
    return false;
  }
}

export function lintDockerfile(text: string): LintFinding[] {
  const findings: LintFinding[] = [];
  const add = (rule: string, line: number, message: string): void => {
    findings.push({ rule, line, message });
  };
  const instructions = parseDockerfile(text);
  const froms = instructions.filter((i) => i.keyword === 'FROM');
  const stageNames = new Set(
    froms.map((f) => /\sAS\s+(\S+)/i.exec(f.args)?.[1]?.toLowerCase()).filter(Boolean),
  );

  if (froms.length < 2) {
    add('multi-stage', 1, 'use a multi-stage build: compile in one stage, run in a slim one');
  }
  for (const from of froms) {
    const image = from.args.replace(/--platform=\S+\s+/, '').split(/\s+/)[0] ?? '';
    if (stageNames.has(image.toLowerCase()) || image.toLowerCase() === 'scratch') {
      continue;
    }
    if (!image.includes(':') && !image.includes('@')) {
      add('DL3006', from.line, `pin the base image tag: ${image}`);
    } else if (/:latest$/i.test(image)) {
      add('DL3007', from.line, `do not use :latest: ${image}`);
    }
  }

  const lastFrom = froms.at(-1);
  const finalStage = instructions.filter((i) => lastFrom !== undefined && i.line >= lastFrom.line);
  const users = finalStage.filter((i) => i.keyword === 'USER');
  const lastUser = users.at(-1);
  if (lastUser === undefined || /^(root|0)(:|$)/.test(lastUser.args.trim())) {
    add(
      'DL3002',
      lastUser?.line ?? lastFrom?.line ?? 1,
      'the final stage must switch to a non-root USER',
    );
  }
  const runtimeEntry = finalStage.filter((i) => i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT');
  if (runtimeEntry.length === 0) {
    add('cmd', lastFrom?.line ?? 1, 'the final stage needs a CMD or ENTRYPOINT');
  }
  for (const entry of runtimeEntry) {
    if (!isExecForm(entry.args)) {
      add(
        'DL3025',
        entry.line,
        `${entry.keyword} must use the JSON exec form so signals reach the process`,
      );
    }
    if (lastUser === undefined || lastUser.line > entry.line) {
      add('user-before-cmd', entry.line, `USER must come before ${entry.keyword}`);
    }
  }
  if (!finalStage.some((i) => i.keyword === 'HEALTHCHECK' && !/^NONE\b/i.test(i.args))) {
    add('healthcheck', lastFrom?.line ?? 1, 'the final stage needs a HEALTHCHECK');
  }
  if (finalStage.some((i) => i.keyword === 'EXPOSE') === false) {
    add('expose', lastFrom?.line ?? 1, 'EXPOSE the listen port');
  }

  for (const instruction of instructions) {
    const { keyword, args, line } = instruction;
    if (keyword === 'RUN') {
      if (/\bnpm\s+(install|i)\b/.test(args)) {
        add('npm-ci', line, 'use `npm ci` (the lockfile), not `npm install`');
      }
      if (/\bsudo\b/.test(args)) {
        add('DL3004', line, 'do not use sudo');
      }
      if (/\bapt-get\s+install\b/.test(args)) {
        if (!/--no-install-recommends/.test(args)) {
          add('DL3015', line, 'apt-get install needs --no-install-recommends');
        }
        if (!/rm\s+-rf\s+\/var\/lib\/apt\/lists/.test(args)) {
          add('DL3009', line, 'delete the apt lists in the same RUN (rm -rf /var/lib/apt/lists/*)');
        }
      }
      if (/\bapk\s+add\b/.test(args) && !/--no-cache/.test(args)) {
        add('DL3019', line, 'apk add needs --no-cache');
      }
      if (/\b(curl|wget)\b[^|]*\|\s*(sh|bash)\b/.test(args)) {
        add('DL4006', line, 'do not pipe downloads into a shell');
      }
    }
    if (keyword === 'ENV' || keyword === 'ARG') {
      for (const name of args.match(/[A-Za-z_][A-Za-z0-9_]*(?==)|^[A-Za-z_][A-Za-z0-9_]*$/g) ??
        []) {
        if (SECRET_NAME.test(name)) {
          add('secrets', line, `${keyword} ${name}: secrets must not be baked into the image`);
        }
      }
    }
    if (keyword === 'ADD' && !/^https?:/.test(args.split(/\s+/).at(-2) ?? '')) {
      add('DL3020', line, 'use COPY instead of ADD for files');
    }
    if (keyword === 'WORKDIR' && !args.trim().startsWith('/') && !args.trim().startsWith('$')) {
      add('DL3000', line, 'use an absolute WORKDIR');
    }
    if (
      keyword === 'COPY' &&
      lastFrom !== undefined &&
      line > lastFrom.line &&
      !/--chown=\S+/.test(args)
    ) {
      add('copy-chown', line, 'COPY into the final stage must state the owner (--chown=...)');
    }
  }
  return findings;
}
