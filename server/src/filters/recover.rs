//! One `recover` for every route: each rejection becomes its response from the error table.

use std::convert::Infallible;

use warp::reject::{Reject, Rejection};
use warp::reply::Response;

use super::AuthRejection;
use crate::error::{ApiError, Problem, RequestPart};

/// An application-level refusal carried as a rejection; [`recover`] renders it.
#[derive(Debug)]
pub struct ApiRejection(pub ApiError);

impl Reject for ApiRejection {}

/// A refusal from the error table, as a rejection that [`recover`] renders.
pub fn reject(error: impl Into<ApiError>) -> Rejection {
    warp::reject::custom(ApiRejection(error.into()))
}

/// Turns every rejection into a JSON error response with a precise status: the RFC 6750
/// responses for [`AuthRejection`], [`ApiRejection`]s as they are, and warp's own
/// rejections (404, 405, 411, 413, 415, 400). Only a genuine server fault is a 500.
pub async fn recover(rejection: Rejection) -> Result<Response, Infallible> {
    Ok(rejection_to_error(&rejection).into_response())
}

fn rejection_to_error(rejection: &Rejection) -> ApiError {
    use warp::reject as r;
    if let Some(auth) = rejection.find::<AuthRejection>() {
        return auth.to_error();
    }
    if let Some(ApiRejection(error)) = rejection.find::<ApiRejection>() {
        return error.clone();
    }
    let problem = if rejection.is_not_found() {
        Problem::NotFound
    } else if rejection.find::<r::MethodNotAllowed>().is_some() {
        Problem::MethodNotAllowed
    } else if rejection.find::<r::PayloadTooLarge>().is_some() {
        Problem::PayloadTooLarge {
            limit: super::MAX_BODY_BYTES,
        }
    } else if rejection.find::<r::UnsupportedMediaType>().is_some() {
        Problem::UnsupportedMediaType {
            expected: "application/json",
        }
    } else if rejection.find::<r::LengthRequired>().is_some() {
        Problem::LengthRequired
    } else if rejection.find::<r::InvalidHeader>().is_some()
        || rejection.find::<r::MissingHeader>().is_some()
    {
        Problem::BadRequest {
            part: RequestPart::Header,
        }
    } else if rejection.find::<r::InvalidQuery>().is_some() {
        Problem::BadRequest {
            part: RequestPart::Query,
        }
    } else if rejection
        .find::<warp::filters::cors::CorsForbidden>()
        .is_some()
    {
        Problem::CorsForbidden
    } else {
        tracing::error!(?rejection, "unhandled rejection");
        Problem::Internal
    };
    problem.into()
}
