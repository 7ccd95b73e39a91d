//! DPoP proofs already seen (RFC 9449 §11.1): a proof is accepted once, at whichever instance
//! sees it first, for as long as its `iat` keeps it acceptable; then it is forgotten (a replay
//! after that is refused for its `iat`).

use jwtkit_core::UnixTime;

use super::{StoreFuture, TokenHash};

/// The proofs seen, by a hash of their key and `jti`.
pub trait ProofReplays: Send + Sync {
    /// Records `proof` at `now` until `until`: `true` the first time, `false` for a replay
    /// (a proof recorded before and not yet forgotten), decided atomically.
    fn first_use_of_proof(
        &self,
        proof: TokenHash,
        now: UnixTime,
        until: UnixTime,
    ) -> StoreFuture<'_, bool>;
}
