//! jwtkit-e2e: end-to-end tests of jwtkit against real processes, sockets and browsers.
