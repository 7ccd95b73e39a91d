//! What the OpenID provider keeps in the store: authorization codes (single use, found by
//! their hash), people's sign-ins at the provider (the browser session its cookie names,
//! found by the cookie's hash), and the consents people gave to clients. Codes and sign-ins
//! carry a document of the provider's own; the store judges only time and single use.

use jwtkit_core::UnixTime;

use super::{StoreFuture, TokenHash};

/// How long a redeemed code is remembered after its lifetime, so that a replay is recognised
/// as one (and revokes what the code issued) rather than taken for an unknown code.
pub const REMEMBER_REDEEMED_SECONDS: f64 = 600.0;

/// What became of a code's redemption, decided atomically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// The first redemption, within the lifetime: the code's document.
    Fresh(String),
    /// Redeemed before: the session it issued, if it issued one.
    Replayed {
        /// The session the first redemption started.
        sid: Option<String>,
    },
    /// No such code, or its lifetime is over.
    Unknown,
}

/// Authorization codes and sign-ins at the provider.
pub trait ProviderRecords: Send + Sync {
    /// Keeps a code's document for `lifetime_seconds` from `now`.
    fn put_code(
        &self,
        code: TokenHash,
        grant: String,
        now: UnixTime,
        lifetime_seconds: f64,
    ) -> StoreFuture<'_, ()>;

    /// Redeems a code at `now`: once only (see [`Redeemed`]).
    fn redeem_code(&self, code: TokenHash, now: UnixTime) -> StoreFuture<'_, Redeemed>;

    /// Keeps a sign-in's document for `lifetime_seconds` from `now`.
    fn put_login(
        &self,
        login: TokenHash,
        record: String,
        now: UnixTime,
        lifetime_seconds: f64,
    ) -> StoreFuture<'_, ()>;

    /// A sign-in's document, while it lasts.
    fn login(&self, login: TokenHash, now: UnixTime) -> StoreFuture<'_, Option<String>>;

    /// Ends a sign-in; `false` when there was none.
    fn end_login(&self, login: TokenHash) -> StoreFuture<'_, bool>;

    /// The scopes (space-separated) the subject `sub` consented to for `client` (a client's
    /// registration, as the provider names it), if it did.
    fn consent(&self, sub: String, client: String) -> StoreFuture<'_, Option<String>>;

    /// Remembers that `sub` consented to `scopes` for `client`, replacing what it had.
    fn put_consent(&self, sub: String, client: String, scopes: String) -> StoreFuture<'_, ()>;
}
