// Starts the real `jwtkit serve --json` on 127.0.0.1 port 0 and reads its one JSON line:
// {"url", "demo_page", "development": {"api_keys": [{"name", "key", "roles"}]}}.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export async function startServer({ bin, webDir, args = [] }) {
  const child = spawn(bin, ['serve', '--json', '--bind', '127.0.0.1:0', '--web-dir', webDir, ...args], {
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
  const key = (name) => started.development.api_keys.find((k) => k.name === name).key;
  return {
    url: started.url,
    devKey: key('dev'),
    adminKey: key('dev-admin'),
    requestsTo: (path) => logs.filter((line) => line.includes(`path="${path}"`)).length,
    // Stop what we started, by its PID: SIGTERM, then wait for the graceful exit.
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
    }),
  };
}
