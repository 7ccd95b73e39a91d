// Shared by the package tests: tokens made by hand (no signature needed to decode).
import http from 'node:http';
export const EXP = 1_800_000_000;

export function b64url(text) {
  return Buffer.from(text).toString('base64url');
}

export function token(header, claims) {
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}.c2ln`;
}

export function rawToken(headerText, claimsText) {
  return `${b64url(headerText)}.${b64url(claimsText)}.c2ln`;
}

// A local HTTP server for one test, on a free loopback port: `handle(req, res, body)` answers
// each request (its body read whole). A failed assertion or any error inside it answers 500
// with its message and fails the test when it ends, so the client is never left waiting and
// the test never hangs. Closed when the test ends. Returns the server and its origin.
export async function serve(t, handle) {
  const failures = [];
  const server = http.createServer(async (req, res) => {
    try {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      await handle(req, res, Buffer.concat(chunks).toString());
    } catch (error) {
      failures.push(error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`the test server failed: ${error?.message ?? error}`);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.close();
    server.closeAllConnections?.();
    if (failures.length) throw failures[0];
  });
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}
