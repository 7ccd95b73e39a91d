// Every shell and JavaScript snippet of the README runs as written, against the real
// `jwtkit` (JWTKIT_BIN, first on PATH) in a fresh directory — or, marked with
// `<!-- illustration: why -->` on the line before it, is checked for syntax (`bash -n`,
// `node --check`). A block marked `<!-- file: NAME -->` is written as NAME into the
// directory of the next shell snippet, which uses it. The one liberty taken: each port a
// snippet names (127.0.0.1:PORT, --port, -p) is moved to a free one — the default 3030
// through JWTKIT_BIND — and /metrics of a server the snippet does not place goes to port 0,
// so snippets never collide with each other or with anything else on the machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = process.env.JWTKIT_BIN;
const PACKAGE = path.join(ROOT, 'wasm', 'pkg', 'nodejs');
const RUN_LANGS = new Set(['sh', 'js', 'toml', 'console']);

/// The fenced blocks of `text`: { lang, body, line, marker } with the marker comment of the
/// line before the fence, if any.
export function blocks(text) {
  const lines = text.split('\n');
  const found = [];
  for (let i = 0; i < lines.length; i += 1) {
    const fence = /^```(\w*)\s*$/.exec(lines[i]);
    if (!fence) continue;
    const end = lines.findIndex((line, j) => j > i && line.startsWith('```'));
    assert.ok(end > i, `README line ${i + 1}: a fence that never closes`);
    const marker = /^<!-- (illustration|file): ?(.*?) -->$/.exec(lines[i - 1] ?? '');
    found.push({
      lang: fence[1],
      body: lines.slice(i + 1, end).join('\n') + '\n',
      line: i + 1,
      marker: marker ? { kind: marker[1], value: marker[2] } : null,
    });
    i = end;
  }
  return found;
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/// `texts` with every port they name moved to a free one (the same port to the same one),
/// and where each went.
async function movePorts(texts) {
  const ports = new Set();
  for (const text of texts) {
    for (const m of text.matchAll(/127\.0\.0\.1:(\d{2,5})\b|--port (\d+)\b|-p (\d+)\b/g)) {
      ports.add(m[1] ?? m[2] ?? m[3]);
    }
  }
  let moved = texts;
  const to = new Map();
  for (const port of ports) {
    const free = String(await freePort());
    to.set(port, free);
    moved = moved.map((text) => text.replace(new RegExp(`(?<![\\d.])${port}(?!\\d)`, 'g'), free));
  }
  return { moved, to };
}

/// Runs `command args` in `cwd`, in a process group of its own that is stopped (by its PID)
/// when it ends or times out; resolves { code, output }.
function run(command, args, { cwd, env, timeoutMs = 60_000, input } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const stopGroup = () => { try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ } };
    const timer = setTimeout(() => { output += `\n[timed out after ${timeoutMs} ms]`; stopGroup(); }, timeoutMs);
    // The snippet's end stops what it left running (whose output would hold the pipes open).
    child.on('exit', (code) => {
      clearTimeout(timer);
      stopGroup();
      child.on('close', () => resolve({ code, output }));
    });
    child.stdin.end(input ?? '');
  });
}

/// The snippet's environment: jwtkit first on PATH; a server the snippet does not place
/// listens where its default port, 3030, was moved, and serves /metrics on port 0.
function environment(dir, to) {
  return {
    PATH: `${path.dirname(BIN)}:${process.env.PATH}`,
    HOME: dir,
    JWTKIT_BIND: `127.0.0.1:${to.get('3030') ?? 0}`,
    JWTKIT_METRICS_BIND: '127.0.0.1:0',
  };
}

const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const all = blocks(readme);

test('the README has snippets, and each is run, checked or written as a file', () => {
  assert.ok(BIN, 'JWTKIT_BIN names the jwtkit binary (cargo xtask test sets it)');
  const covered = all.filter((b) => RUN_LANGS.has(b.lang));
  assert.ok(covered.filter((b) => b.lang === 'sh' && !b.marker).length >= 6, 'executed shell snippets');
  for (const b of covered) {
    if (b.lang === 'js' || b.lang === 'toml') {
      assert.ok(b.marker, `README line ${b.line}: a ${b.lang} block is a file for a snippet or an illustration; mark it`);
    }
  }
});

let pending = [];
for (const block of all.filter((b) => RUN_LANGS.has(b.lang))) {
  const where = `README line ${block.line}`;
  if (block.marker?.kind === 'file') {
    pending.push({ name: block.marker.value, body: block.body, where });
    if (block.lang === 'js') {
      test(`${where}: ${block.marker.value} parses`, async () => {
        const dir = mkdtempSync(path.join(tmpdir(), 'jwtkit-readme-'));
        try {
          writeFileSync(path.join(dir, 'check.mjs'), block.body);
          const { code, output } = await run('node', ['--check', 'check.mjs'], { cwd: dir });
          assert.equal(code, 0, output);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }
    continue;
  }
  if (block.marker?.kind === 'illustration' || block.lang === 'console') {
    test(`${where}: the illustration's syntax`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'jwtkit-readme-'));
      try {
        if (block.lang === 'js') {
          writeFileSync(path.join(dir, 'check.mjs'), block.body);
          const { code, output } = await run('node', ['--check', 'check.mjs'], { cwd: dir });
          assert.equal(code, 0, output);
        } else {
          const commands = block.lang === 'console'
            ? block.body.split('\n').filter((l) => l.startsWith('$ ')).map((l) => l.slice(2)).join('\n')
            : block.body;
          const { code, output } = await run('bash', ['-n'], { cwd: dir, input: commands });
          assert.equal(code, 0, output);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    continue;
  }
  if (block.lang !== 'sh') continue;
  const files = pending;
  pending = [];
  test(`${where}: the snippet runs as written`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtkit-readme-'));
    try {
      const { moved: [script, ...bodies], to } = await movePorts([block.body, ...files.map((f) => f.body)]);
      files.forEach((file, i) => writeFileSync(path.join(dir, file.name), bodies[i]));
      // What `npm install ./wasm/pkg/nodejs` makes: the package under node_modules.
      mkdirSync(path.join(dir, 'node_modules'));
      symlinkSync(PACKAGE, path.join(dir, 'node_modules', 'jwtkit'));
      const { code, output } = await run('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, env: environment(dir, to) });
      assert.equal(code, 0, `${where} failed (exit ${code}):\n${script}\n--- output ---\n${output}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
