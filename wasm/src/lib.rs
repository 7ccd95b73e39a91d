//! jwtkit-wasm: the npm package `jwtkit`, a thin wasm-bindgen layer over jwtkit-core so that
//! a browser judges tokens with exactly the rules the server uses.
