// A small W3C WebDriver client for headless Firefox: geckodriver started on a free loopback
// port (and stopped by its PID), one session, its tabs, and scripts run in the current tab.
// (playwright-core drives only its own Firefox builds; Debian's firefox-esr speaks WebDriver.)
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const FIREFOX = process.env.JWTKIT_FIREFOX ?? '/usr/bin/firefox-esr';

export async function startFirefox() {
  const child = spawn('geckodriver', ['--port', '0', '--host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = [];
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`geckodriver said nothing: ${logs.join('\n')}`)), 30_000);
    child.on('error', (e) => reject(new Error(`geckodriver cannot start (cargo xtask test installs it): ${e.message}`)));
    child.on('exit', (code) => reject(new Error(`geckodriver exited with ${code}: ${logs.join('\n')}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      logs.push(line);
      const found = /Listening on (127\.0\.0\.1:\d+)/.exec(line);
      if (found) {
        clearTimeout(timer);
        resolve(`http://${found[1]}`);
      }
    });
    createInterface({ input: child.stderr }).on('line', (line) => logs.push(line));
  });
  const call = async (method, path, body) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const { value } = await response.json();
    if (!response.ok) throw new Error(`WebDriver ${method} ${path}: ${value?.error}: ${value?.message}`);
    return value;
  };
  const { sessionId } = await call('POST', '/session', {
    capabilities: { alwaysMatch: { browserName: 'firefox', 'moz:firefoxOptions': { binary: FIREFOX, args: ['-headless'] } } },
  });
  const session = (path) => `/session/${sessionId}${path}`;
  const firefox = {
    /// Runs `script` (a function body; `arguments` are `args`) in the current tab.
    js: (script, ...args) => call('POST', session('/execute/sync'), { script, args }),
    go: (url) => call('POST', session('/url'), { url }),
    tab: () => call('GET', session('/window')),
    newTab: async () => (await call('POST', session('/window/new'), { type: 'tab' })).handle,
    switchTo: (handle) => call('POST', session('/window'), { handle }),
    /// Closes the current tab (then switch to another).
    close: () => call('DELETE', session('/window')),
    /// Polls `script` in the current tab until it returns something truthy. A script that
    /// throws is polled again (the tab may be between two pages); at the timeout, its last
    /// error is told.
    waitFor: async (script, timeoutMs = 30_000, ...args) => {
      const until = Date.now() + timeoutMs;
      let last = null;
      for (;;) {
        try {
          const value = await firefox.js(script, ...args);
          if (value) return value;
        } catch (error) {
          last = error;
        }
        if (Date.now() > until) throw new Error(`timed out waiting for: ${script}${last ? ` (last: ${last.message})` : ''}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    /// Ends the session, then stops geckodriver (ours, by PID).
    stop: async () => {
      await call('DELETE', session('')).catch(() => {});
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      });
    },
  };
  return firefox;
}
