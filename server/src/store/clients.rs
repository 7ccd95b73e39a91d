//! The OpenID clients registered in the store (`jwtkit clients add`), shared by every
//! instance that uses it: each a registration in the JSON the configuration uses, found by
//! its `client_id`. The store keeps the text; `crate::clients` judges it.

use super::StoreFuture;

/// Registrations of OpenID clients.
pub trait ClientRecords: Send + Sync {
    /// Registers `registration` as `client_id`; `false` when that `client_id` is taken.
    fn add_client(&self, client_id: String, registration: String) -> StoreFuture<'_, bool>;

    /// The registration of `client_id`.
    fn client(&self, client_id: String) -> StoreFuture<'_, Option<String>>;

    /// Every registration, by `client_id`.
    fn clients(&self) -> StoreFuture<'_, Vec<String>>;

    /// Removes the registration of `client_id`; `false` when there was none.
    fn remove_client(&self, client_id: String) -> StoreFuture<'_, bool>;
}
