// webpack 5 builds the app; the package imports its .wasm as an ES module (asyncWebAssembly).
import path from 'node:path';

export default {
  mode: 'production',
  context: import.meta.dirname,
  entry: './main.js',
  experiments: { asyncWebAssembly: true },
  resolve: { alias: { jwtkit: path.resolve(process.env.JWTKIT_BUNDLER_PKG) } },
  output: { path: process.env.JWTKIT_BUNDLE_OUT, filename: 'main.js', clean: true },
  performance: { hints: false },
};
