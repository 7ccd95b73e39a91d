// A frontend as bundlers build it: `import ... from "jwtkit"` (wasm/pkg/bundler), the
// WebAssembly module imported by the package itself. Decodes the token the page's address
// carries, judges its expiry at a given time, and keeps what a refusal says; the test reads
// `window.result`.
import { decodeUnverified, isExpired, secondsUntilExpiry, TokenSession } from 'jwtkit';

const token = new URL(location.href).searchParams.get('token');
const result = {};
try {
  const { header, claims } = decodeUnverified(token);
  result.alg = header.alg;
  result.sub = claims.sub;
  result.expiredBefore = isExpired(token, { now: claims.exp - 10 });
  result.expiredAfter = isExpired(token, { now: claims.exp + 10 });
  result.left = secondsUntilExpiry(token, { now: claims.exp - 10 });
  try {
    decodeUnverified('not a token');
  } catch (error) {
    result.refusal = error.code;
  }
  // The session's JavaScript (the package's own modules) came along.
  result.signIn = typeof TokenSession.signIn;
} catch (error) {
  result.error = `${error.code ?? ''} ${error.message}`;
}
window.result = result;
