// Vite builds the app; the package imports its .wasm as an ES module (vite-plugin-wasm).
import path from 'node:path';
import wasm from 'vite-plugin-wasm';

export default {
  root: import.meta.dirname,
  logLevel: 'warn',
  plugins: [wasm()],
  resolve: { alias: { jwtkit: path.resolve(process.env.JWTKIT_BUNDLER_PKG) } },
  build: { outDir: process.env.JWTKIT_BUNDLE_OUT, emptyOutDir: true, target: 'esnext' },
};
