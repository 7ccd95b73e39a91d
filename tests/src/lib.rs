//! jwtkit-e2e: end-to-end and attack tests of jwtkit against the core and the real server.
//! This library holds their helpers:
//!
//! - [`forge`]: tokens built byte by byte, as an attacker does;
//! - [`server`]: an in-process server on a loopback socket with a hand-moved clock;
//! - [`http`]: a minimal HTTP/1.1 client that sends exactly the bytes a test asks for;
//! - [`signin`]: a person signing in at the OpenID provider.

pub mod forge;
pub mod http;
pub mod server;
pub mod signin;

pub use forge::{
    b64, forge, forge_bytes, resign, signature_of, signing_input, unb64, with_signature,
};
