// Starts the real `jwtkit serve` on 127.0.0.1 port 0 and reads its banner.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export async function startServer({ bin, webDir, args = [] }) {
  const child = spawn(bin, ['serve', '--bind', '127.0.0.1:0', '--web-dir', webDir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = [];
  createInterface({ input: child.stderr }).on('line', (line) => logs.push(line));
  const lines = createInterface({ input: child.stdout });
  const banner = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner: ${banner.join('\n')} ${logs.join('\n')}`)), 30_000);
    child.on('exit', (code) => reject(new Error(`jwtkit serve exited with ${code}: ${logs.join('\n')}`)));
    lines.on('line', (line) => {
      banner.push(line);
      if (line.trim().startsWith("-d '")) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const text = banner.join('\n');
  const url = text.match(/listening on (http:\/\/\S+)/)[1];
  const key = (name) => text.match(new RegExp(`API key ${name}\\s+\\(roles: [^)]*\\): (\\S+)`))[1];
  return {
    url,
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
