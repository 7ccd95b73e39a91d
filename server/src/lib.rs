//! jwtkit-server: the HTTP API server and reusable warp filters that issue tokens and
//! verify them strictly, built on jwtkit-core. The `jwtkit` binary carries the command line.
