// Starts the real `jwtkit serve --json` on 127.0.0.1 port 0, with its store in a fresh
// temporary directory, and reads its one JSON line:
// {"url", "metrics", "demo_page", "development": {"api_keys": [{"name", "key", "roles"}],
// "user": {"username", "password"}, "client": {"client_id", "redirect_uri"}}}.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export async function startServer({ bin, webDir, args = [] }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'jwtkit-e2e-'));
  const web = webDir ? ['--web-dir', webDir] : [];
  const child = spawn(bin, ['serve', '--json', '--bind', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', '--store', `sqlite:${path.join(dir, 'jwtkit.sqlite3')}`, ...web, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = [];
  createInterface({ input: child.stderr }).on('line', (line) => logs.push(line));
  const lines = createInterface({ input: child.stdout });
  const started = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`jwtkit serve said nothing: ${logs.join('\n')}`)), 30_000);
    child.on('exit', (code) => reject(new Error(`jwtkit serve exited with ${code}: ${logs.join('\n')}`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line));
    });
  });
  // A resource server (--trust-issuer) has no development setup.
  const key = (name) => started.development?.api_keys.find((k) => k.name === name).key;
  return {
    url: started.url,
    demoPage: started.demo_page,
    devKey: key('dev'),
    adminKey: key('dev-admin'),
    // The development setup's person and the demo page's client: {user, client}.
    development: started.development,
    logs,
    requestsTo: (route) => logs.filter((line) => line.includes(`path="${route}"`)).length,
    responses: (route, status) => logs.filter((line) => line.includes(`path="${route}"`) && line.includes(` status=${status} `)).length,
    // Stop what we started, by its PID: SIGTERM, then wait for the graceful exit.
    stop: () => new Promise((resolve) => {
      const done = () => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      };
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', done);
      child.kill('SIGTERM');
    }),
  };
}
