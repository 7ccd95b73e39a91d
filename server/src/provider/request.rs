//! The authorization request (RFC 6749 §4.1.1, RFC 7636, OpenID Connect Core §3.1.2.1),
//! checked in the order that decides where a refusal may go: until the client and its
//! redirect URI are known to match a registration, a refusal is the provider's own page and
//! never a redirect (RFC 6749 §4.1.2.1: no open redirector); after, it is redirected to the
//! client with `error`, `state` and `iss` (RFC 9207).

use std::fmt;

use crate::clients::Client;

/// The parameters the request names (those it ignores included, so none is taken twice).
const PARAMETERS: [&str; 16] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "login_hint",
    "id_token_hint",
    "ui_locales",
    "request",
    "request_uri",
];

/// The most characters of `state` and `nonce`.
const MAX_ECHOED_CHARS: usize = 1024;

/// What the person is asked for (`prompt`, OpenID Connect Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Prompt {
    /// `none`: answer without any page, or with `login_required` / `consent_required`.
    pub none: bool,
    /// `login`: sign in again even with a sign-in at the provider.
    pub login: bool,
    /// `consent`: ask for consent even of a first-party client.
    pub consent: bool,
}

/// An authorization request that may be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authorization {
    /// The client.
    pub client: Client,
    /// Its registered redirect URI the request named.
    pub redirect_uri: String,
    /// The scopes asked for, each one the client may have.
    pub scope: Vec<String>,
    /// Echoed to the client.
    pub state: Option<String>,
    /// Echoed in the ID token.
    pub nonce: Option<String>,
    /// The PKCE challenge (S256).
    pub code_challenge: String,
    /// What the person is asked for.
    pub prompt: Prompt,
    /// The most seconds since the person signed in (`max_age`).
    pub max_age: Option<u64>,
    /// A username to fill in.
    pub login_hint: Option<String>,
}

/// Why a request cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Answered by the provider's own page (400): the client or the redirect URI is not known
    /// to be right.
    Page(PageError),
    /// Redirected to the client's registered URI.
    Redirect(Redirected),
}

/// A refusal on the provider's own page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageError {
    /// No `client_id`.
    ClientIdMissing,
    /// No such client.
    UnknownClient,
    /// No `redirect_uri`.
    RedirectUriMissing,
    /// A `redirect_uri` that is not registered, exactly, for the client.
    RedirectUriNotRegistered,
    /// `client_id` or `redirect_uri` given twice.
    Repeated,
}

impl PageError {
    /// The stable code shown on the page.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::ClientIdMissing => "ERR_AUTHORIZE_CLIENT_ID_MISSING",
            Self::UnknownClient => "ERR_AUTHORIZE_UNKNOWN_CLIENT",
            Self::RedirectUriMissing => "ERR_AUTHORIZE_REDIRECT_URI_MISSING",
            Self::RedirectUriNotRegistered => "ERR_AUTHORIZE_REDIRECT_URI_NOT_REGISTERED",
            Self::Repeated => "ERR_AUTHORIZE_PARAMETER_REPEATED",
        }
    }
}

impl fmt::Display for PageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ClientIdMissing => "The sign-in link has no client_id: the application that sent you here is misconfigured.",
            Self::UnknownClient => "The application that sent you here is not registered with this provider.",
            Self::RedirectUriMissing => "The sign-in link has no redirect_uri: the application that sent you here is misconfigured.",
            Self::RedirectUriNotRegistered => "The sign-in link would send you back to an address the application did not register. For your safety, you were not sent there.",
            Self::Repeated => "The sign-in link names client_id or redirect_uri twice.",
        })
    }
}

/// A refusal redirected to the client (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Redirected {
    /// Where.
    pub redirect_uri: String,
    /// `error`.
    pub error: &'static str,
    /// `error_description`.
    pub description: String,
    /// `state`, echoed.
    pub state: Option<String>,
}

/// The `client_id` a request's `params` name (its first, when they name several: [`check`]
/// refuses those), to look the client up by.
pub(crate) fn client_id(params: &[(String, String)]) -> Option<&str> {
    params
        .iter()
        .find(|(n, v)| n == "client_id" && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

/// Checks the request `params` against `client`, the registered client its `client_id`
/// names (`None` when none is registered).
pub(crate) fn check(
    params: &[(String, String)],
    client: Option<&Client>,
) -> Result<Authorization, Refusal> {
    let count = |name: &str| params.iter().filter(|(n, _)| n == name).count();
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    if count("client_id") > 1 || count("redirect_uri") > 1 {
        return Err(Refusal::Page(PageError::Repeated));
    }
    let client_id = get("client_id").ok_or(Refusal::Page(PageError::ClientIdMissing))?;
    let client = client
        .filter(|client| client.id == client_id)
        .cloned()
        .ok_or(Refusal::Page(PageError::UnknownClient))?;
    let redirect_uri = get("redirect_uri").ok_or(Refusal::Page(PageError::RedirectUriMissing))?;
    if !client.redirects_to(&redirect_uri) {
        return Err(Refusal::Page(PageError::RedirectUriNotRegistered));
    }

    // From here on the client is known and the URI is its own: refusals go back to it.
    let state = get("state").filter(|s| s.chars().count() <= MAX_ECHOED_CHARS);
    let refuse = |error: &'static str, description: String| {
        Refusal::Redirect(Redirected {
            redirect_uri: redirect_uri.clone(),
            error,
            description,
            state: state.clone(),
        })
    };
    if let Some(name) = PARAMETERS.iter().find(|name| count(name) > 1) {
        return Err(refuse(
            "invalid_request",
            format!("{name} is given more than once"),
        ));
    }
    if get("state").is_some_and(|s| s.chars().count() > MAX_ECHOED_CHARS) {
        return Err(refuse(
            "invalid_request",
            format!("state is longer than {MAX_ECHOED_CHARS} characters"),
        ));
    }
    if get("request").is_some() {
        return Err(refuse(
            "request_not_supported",
            "request objects are not supported".to_owned(),
        ));
    }
    if get("request_uri").is_some() {
        return Err(refuse(
            "request_uri_not_supported",
            "request_uri is not supported".to_owned(),
        ));
    }
    match get("response_type").as_deref() {
        Some("code") => {}
        None => {
            return Err(refuse(
                "invalid_request",
                "response_type is missing: send response_type=code".to_owned(),
            ));
        }
        Some(_) => {
            return Err(refuse(
                "unsupported_response_type",
                "only response_type=code is supported (the authorization code flow with PKCE)"
                    .to_owned(),
            ));
        }
    }
    if let Some(mode) = get("response_mode").filter(|m| m != "query") {
        return Err(refuse(
            "invalid_request",
            format!("response_mode {mode:?} is not supported: the code comes in the query"),
        ));
    }
    let scope: Vec<String> = match get("scope") {
        None => {
            return Err(refuse(
                "invalid_scope",
                "scope is missing: ask for openid (and profile, email)".to_owned(),
            ));
        }
        Some(scope) => scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    if let Some(denied) = scope.iter().find(|s| !client.scopes.contains(s)) {
        return Err(refuse(
            "invalid_scope",
            format!("the scope {denied:?} is not one this client may ask for"),
        ));
    }
    let Some(code_challenge) = get("code_challenge") else {
        return Err(refuse(
            "invalid_request",
            "PKCE is required: send code_challenge and code_challenge_method=S256".to_owned(),
        ));
    };
    match get("code_challenge_method").as_deref() {
        Some("S256") => {}
        None | Some("plain") => {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method must be S256 (plain is not accepted)".to_owned(),
            ));
        }
        Some(other) => {
            return Err(refuse(
                "invalid_request",
                format!("code_challenge_method {other:?} is not supported: use S256"),
            ));
        }
    }
    if !super::pkce::is_challenge(&code_challenge) {
        return Err(refuse(
            "invalid_request",
            "code_challenge must be the 43-character base64url SHA-256 of the code_verifier"
                .to_owned(),
        ));
    }
    let nonce = get("nonce");
    if nonce
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_ECHOED_CHARS)
    {
        return Err(refuse(
            "invalid_request",
            format!("nonce is longer than {MAX_ECHOED_CHARS} characters"),
        ));
    }
    let mut prompt = Prompt::default();
    for value in get("prompt")
        .unwrap_or_default()
        .split(' ')
        .filter(|v| !v.is_empty())
    {
        match value {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            other => {
                return Err(refuse(
                    "invalid_request",
                    format!("prompt {other:?} is not supported (none, login, consent are)"),
                ));
            }
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(refuse(
            "invalid_request",
            "prompt=none cannot be combined with another value".to_owned(),
        ));
    }
    let max_age = match get("max_age") {
        None => None,
        Some(age) => Some(age.parse::<u64>().map_err(|_| {
            refuse(
                "invalid_request",
                "max_age must be a whole number of seconds".to_owned(),
            )
        })?),
    };
    Ok(Authorization {
        client: client.clone(),
        redirect_uri,
        scope,
        state,
        nonce,
        code_challenge,
        prompt,
        max_age,
        login_hint: get("login_hint").filter(|h| h.len() <= 64),
    })
}

impl Authorization {
    /// The parameters that ask for this request again (the sign-in and consent forms carry
    /// them, so that their posts are checked exactly as the first request was).
    pub(crate) fn parameters(&self) -> Vec<(&'static str, String)> {
        let mut params = vec![
            ("client_id", self.client.id.clone()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("response_type", "code".to_owned()),
            ("scope", self.scope.join(" ")),
            ("code_challenge", self.code_challenge.clone()),
            ("code_challenge_method", "S256".to_owned()),
        ];
        let optional = [
            ("state", self.state.clone()),
            ("nonce", self.nonce.clone()),
            ("max_age", self.max_age.map(|a| a.to_string())),
            ("login_hint", self.login_hint.clone()),
        ];
        params.extend(optional.into_iter().filter_map(|(n, v)| v.map(|v| (n, v))));
        // `prompt` is not carried: the person has answered it by posting the form.
        params
    }

    /// A refusal redirected to the client.
    pub(crate) fn refuse(&self, error: &'static str, description: &str) -> Redirected {
        Redirected {
            redirect_uri: self.redirect_uri.clone(),
            error,
            description: description.to_owned(),
            state: self.state.clone(),
        }
    }
}
