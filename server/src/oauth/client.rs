//! Client authentication (RFC 6749 §2.3.1): an API key is a confidential client, its name the
//! `client_id` and the key itself the `client_secret`.

use std::fmt;

use crate::apikeys::{ApiKey, ApiKeys};

/// The client authentication methods the token and introspection endpoints take, as the
/// metadata names them.
pub(crate) const CLIENT_AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// The credentials a request presents, by either method.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    /// The `client_id`.
    pub id: String,
    /// The `client_secret`.
    pub secret: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// The client these credentials authenticate: the key whose hash the secret has (every
    /// stored hash compared in constant time), and only if it is the one `id` names.
    pub(crate) fn client<'k>(&self, clients: &'k ApiKeys) -> Option<&'k ApiKey> {
        clients
            .find(&self.secret)
            .filter(|key| key.name() == self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_must_be_the_named_clients() {
        let key = |name: &str| ApiKey::from_plaintext(name, &format!("jwtk_{name}"), vec![]);
        let clients = ApiKeys::new(vec![key("a").unwrap(), key("b").unwrap()]).unwrap();
        let credentials = |id: &str, secret: &str| Credentials {
            id: id.to_owned(),
            secret: secret.to_owned(),
        };
        assert_eq!(
            credentials("a", "jwtk_a")
                .client(&clients)
                .map(ApiKey::name),
            Some("a")
        );
        assert_eq!(
            credentials("a", "jwtk_b").client(&clients),
            None,
            "b's secret"
        );
        assert_eq!(credentials("a", "jwtk_x").client(&clients), None);
        assert!(!format!("{:?}", credentials("a", "jwtk_a")).contains("jwtk_a"));
    }
}
