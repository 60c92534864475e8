import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ConfigFileWriter } from './config-file-writer';

describe('ConfigFileWriter', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gw-writer-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('should replace keys in YAML, keeping comments, other keys and the file mode', async () => {
    const file = join(dir, 'gw.yaml');
    writeFileSync(
      file,
      '# ops: do not edit by hand\nserver:\n  port: 9777 # public\nroutes: []\n',
      {
        mode: 0o640,
      },
    );
    await new ConfigFileWriter(file).write([
      { path: ['routes'], value: [{ name: 'a', prefix: '/a', target_url: 'http://h:1' }] },
      { path: ['security', 'ip_blacklist'], value: ['10.0.0.0/8'] },
    ]);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# ops: do not edit by hand');
    expect(text).toContain('# public');
    expect(parse(text)).toEqual({
      server: { port: 9777 },
      routes: [{ name: 'a', prefix: '/a', target_url: 'http://h:1' }],
      security: { ip_blacklist: ['10.0.0.0/8'] },
    });
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(['gw.yaml']);
  });

  it('should rewrite JSON files as JSON', async () => {
    const file = join(dir, 'gw.json');
    writeFileSync(file, '{"server":{"port":1}}');
    await new ConfigFileWriter(file).write([{ path: ['routes'], value: [] }]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ server: { port: 1 }, routes: [] });
  });

  it('should take a value already serialised as JSON, and inspect the routes in the file', async () => {
    const file = join(dir, 'gw.yaml');
    writeFileSync(file, 'routes:\n  - name: old\n    prefix: /old\n  - prefix: /unnamed\n');
    const writer = new ConfigFileWriter(file);
    expect(await writer.inspectRoutes()).toEqual({ routes: 2, allNamed: false });
    await writer.write([
      { path: ['routes'], json: '[{"name":"a","prefix":"/a"},{"name":"b","prefix":"/b"}]' },
    ]);
    expect(parse(readFileSync(file, 'utf8'))).toEqual({
      routes: [
        { name: 'a', prefix: '/a' },
        { name: 'b', prefix: '/b' },
      ],
    });
    expect(await writer.inspectRoutes()).toEqual({ routes: 2, allNamed: true });
    const json = join(dir, 'gw.json');
    writeFileSync(json, '{"server":{}}');
    expect(await new ConfigFileWriter(json).inspectRoutes()).toEqual({
      routes: 0,
      allNamed: true,
    });
  });

  it.each(['gw.yaml', 'gw.json'])(
    'should change single route entries by name in %s, leaving the rest as it is',
    async (name) => {
      const file = join(dir, name);
      const routes = [
        { name: 'A', prefix: '/a', target_url: 'http://h:1' },
        { name: 'b', prefix: '/b', target_url: 'http://h:1' },
        { name: 'c', prefix: '/c', target_url: 'http://h:1' },
      ];
      writeFileSync(
        file,
        name.endsWith('.json')
          ? JSON.stringify({ server: { port: 1 }, routes })
          : `# keep me\nserver:\n  port: 1 # and me\n${stringify({ routes })}`,
      );
      const writer = new ConfigFileWriter(file);
      await writer.patchRoutes([
        { op: 'put', name: 'a', entry: { name: 'a', prefix: '/a2', target_url: 'http://h:2' } },
        { op: 'remove', name: 'b' },
        { op: 'put', name: 'd', entry: { name: 'd', prefix: '/d', target_url: 'http://h:1' } },
        { op: 'remove', name: 'missing' },
      ]);
      const text = readFileSync(file, 'utf8');
      expect(parse(text)).toEqual({
        server: { port: 1 },
        routes: [
          { name: 'a', prefix: '/a2', target_url: 'http://h:2' },
          routes[2],
          { name: 'd', prefix: '/d', target_url: 'http://h:1' },
        ],
      });
      if (name.endsWith('.yaml')) {
        expect(text).toContain('# keep me');
        expect(text).toContain('# and me');
      }
      expect(readdirSync(dir)).toEqual([name]);
    },
  );

  it('should apply quick successive writes in order, never interleaved', async () => {
    const file = join(dir, 'gw.yaml');
    writeFileSync(file, '');
    const writer = new ConfigFileWriter(file);
    await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        writer.write([{ path: ['security', 'ip_whitelist'], value: [`10.0.0.${n}`] }]),
      ),
    );
    expect(parse(readFileSync(file, 'utf8'))).toEqual({ security: { ip_whitelist: ['10.0.0.5'] } });
  });

  it('should leave the file untouched when it cannot be parsed', async () => {
    const file = join(dir, 'gw.json');
    writeFileSync(file, '{broken');
    await expect(
      new ConfigFileWriter(file).write([{ path: ['routes'], value: [] }]),
    ).rejects.toThrow();
    expect(readFileSync(file, 'utf8')).toBe('{broken');
    expect(readdirSync(dir)).toEqual(['gw.json']);
  });
});
