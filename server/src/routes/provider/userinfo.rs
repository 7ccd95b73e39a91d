//! `GET/POST /oauth2/userinfo` over HTTP.

use std::sync::Arc;

use jwtkit_core::Claims;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::error::{ApiError, Problem};
use crate::filters::reject;
use crate::routes::protected::authenticated;
use crate::routes::state::{AppState, Guard};
use crate::routes::table::USERINFO;
use crate::users::DirectoryError;

/// `GET/POST /oauth2/userinfo` (OpenID Connect Core §5.3): the claims of the access token's
/// subject that its scope grants.
pub(in crate::routes) fn userinfo(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let guard: Guard = state.guard();
    USERINFO
        .filter()
        .and(authenticated(guard))
        .and(warp::any().map(move || state.clone()))
        .and_then(|claims: Claims, state: Arc<AppState>| async move {
            let scope: Vec<&str> = claims
                .get("scope")
                .and_then(|s| s.as_str())
                .unwrap_or_default()
                .split(' ')
                .collect();
            if !scope.contains(&"openid") {
                return Err(reject(Problem::OpenidScopeMissing));
            }
            let sub = claims.sub().unwrap_or_default();
            match state.provider.userinfo(sub, &scope).await {
                Ok(Some(answer)) => Ok(warp::reply::json(&answer).into_response()),
                Ok(None) => Err(reject(Problem::UserUnknown)),
                Err(DirectoryError::Busy | DirectoryError::Unavailable(_)) => Err(reject(
                    ApiError::from(Problem::StoreUnavailable)
                        .with_retry_after(std::time::Duration::from_secs(1)),
                )),
            }
        })
}
