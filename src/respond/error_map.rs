//! `GatewayError` → status, `APIG.xxxx` code, message and gateway-response
//! type: the one `match` (behaviour.md §18.2, §20; style.md §4.5).

use crate::error::{AuthFault, GatewayError};
use crate::http::ParseError;
use crate::http::parse::Malformed;

/// Gateway-response types of behaviour.md §18.2, by their config keys.
/// Every error maps to exactly one; the default statuses are those of the
/// §20 table (with the §27 C2–C4 resolutions), and a status configured on
/// a type overrides them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    /// `ACCESS_DENIED` (403).
    AccessDenied,
    /// `AUTHORIZER_CONF_FAILURE` (500).
    AuthorizerConfFailure,
    /// `AUTHORIZER_FAILURE` (401, §27 C2).
    AuthorizerFailure,
    /// `AUTHORIZER_IDENTITIES_FAILURE` (401).
    AuthorizerIdentitiesFailure,
    /// `AUTH_FAILURE` (401).
    AuthFailure,
    /// `AUTH_HEADER_MISSING` (401).
    AuthHeaderMissing,
    /// `BACKEND_TIMEOUT` (504).
    BackendTimeout,
    /// `BACKEND_UNAVAILABLE` (502).
    BackendUnavailable,
    /// `DEFAULT_4XX` (the error's own 4xx).
    Default4xx,
    /// `DEFAULT_5XX` (the error's own 5xx).
    Default5xx,
    /// `NOT_FOUND` (404, §27 C4).
    NotFound,
    /// `REQUEST_PARAMETERS_FAILURE` (400, §27 C4).
    RequestParametersFailure,
    /// `THROTTLED` (429).
    Throttled,
    /// `UNAUTHORIZED` (403, §27 C3).
    Unauthorized,
}

impl ResponseType {
    /// Number of types.
    pub const COUNT: usize = 14;

    /// Every type, in [`ResponseType::index`] order.
    pub const ALL: [ResponseType; ResponseType::COUNT] = [
        ResponseType::AccessDenied,
        ResponseType::AuthorizerConfFailure,
        ResponseType::AuthorizerFailure,
        ResponseType::AuthorizerIdentitiesFailure,
        ResponseType::AuthFailure,
        ResponseType::AuthHeaderMissing,
        ResponseType::BackendTimeout,
        ResponseType::BackendUnavailable,
        ResponseType::Default4xx,
        ResponseType::Default5xx,
        ResponseType::NotFound,
        ResponseType::RequestParametersFailure,
        ResponseType::Throttled,
        ResponseType::Unauthorized,
    ];

    /// The config key (also `$context.error.type`, §18.3).
    pub fn key(self) -> &'static str {
        match self {
            ResponseType::AccessDenied => "ACCESS_DENIED",
            ResponseType::AuthorizerConfFailure => "AUTHORIZER_CONF_FAILURE",
            ResponseType::AuthorizerFailure => "AUTHORIZER_FAILURE",
            ResponseType::AuthorizerIdentitiesFailure => "AUTHORIZER_IDENTITIES_FAILURE",
            ResponseType::AuthFailure => "AUTH_FAILURE",
            ResponseType::AuthHeaderMissing => "AUTH_HEADER_MISSING",
            ResponseType::BackendTimeout => "BACKEND_TIMEOUT",
            ResponseType::BackendUnavailable => "BACKEND_UNAVAILABLE",
            ResponseType::Default4xx => "DEFAULT_4XX",
            ResponseType::Default5xx => "DEFAULT_5XX",
            ResponseType::NotFound => "NOT_FOUND",
            ResponseType::RequestParametersFailure => "REQUEST_PARAMETERS_FAILURE",
            ResponseType::Throttled => "THROTTLED",
            ResponseType::Unauthorized => "UNAUTHORIZED",
        }
    }

    /// The type with config key `key`.
    pub fn from_key(key: &str) -> Option<ResponseType> {
        ResponseType::ALL.into_iter().find(|t| t.key() == key)
    }

    /// Position in [`ResponseType::ALL`].
    #[inline]
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What an error becomes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorResponse {
    /// HTTP status.
    pub status: u16,
    /// `APIG.xxxx`.
    pub code: &'static str,
    /// `error_msg`, verbatim from §20.
    pub message: &'static str,
    /// Gateway-response type that renders it.
    pub kind: ResponseType,
    /// Whether the connection must close after the response.
    pub close: bool,
}

const fn resp(
    status: u16,
    code: &'static str,
    message: &'static str,
    kind: ResponseType,
    close: bool,
) -> ErrorResponse {
    ErrorResponse {
        status,
        code,
        message,
        kind,
        close,
    }
}

/// The response for an error (behaviour.md §20 table).
pub fn map(err: &GatewayError) -> ErrorResponse {
    use ResponseType::*;
    match err {
        GatewayError::Parse(ParseError::BodyTooLarge) => resp(
            413,
            "APIG.0201",
            "Request entity too large.",
            Default4xx,
            true,
        ),
        GatewayError::Parse(ParseError::UriTooLong) => {
            resp(414, "APIG.0201", "Request URI too large.", Default4xx, true)
        }
        GatewayError::Parse(ParseError::HeaderTooLarge | ParseError::HeadersTooLarge) => resp(
            494,
            "APIG.0201",
            "Request headers too large.",
            Default4xx,
            true,
        ),
        GatewayError::Parse(ParseError::Malformed(m)) => malformed(*m),
        GatewayError::RequestFraming(_) => resp(400, "APIG.0602", "Bad request.", Default4xx, true),
        GatewayError::RouteNotFound => resp(
            404,
            "APIG.0101",
            "The API does not exist or has not been published in the environment.",
            NotFound,
            false,
        ),
        GatewayError::Throttled => resp(
            429,
            "APIG.0308",
            "The throttling threshold has been reached.",
            Throttled,
            false,
        ),
        GatewayError::MethodNotAllowed => {
            resp(404, "APIG.0101", "The API does not exist.", NotFound, false)
        }
        GatewayError::MethodUnsupported => resp(
            400,
            "APIG.0201",
            "API request error.",
            RequestParametersFailure,
            false,
        ),
        GatewayError::PathRefused(_) | GatewayError::UnderscoreHeader => {
            resp(400, "APIG.0602", "Bad request.", Default4xx, false)
        }
        GatewayError::InvalidParameter { .. } => resp(
            400,
            "APIG.0201",
            "API request error.",
            RequestParametersFailure,
            false,
        ),
        GatewayError::ProtocolNotAllowed { https_only: true } => resp(
            400,
            "APIG.0607",
            "The following protocol is supported: HTTPS",
            Default4xx,
            false,
        ),
        GatewayError::ProtocolNotAllowed { https_only: false } => resp(
            400,
            "APIG.0607",
            "The following protocol is supported: HTTP",
            Default4xx,
            false,
        ),
        // §27 C30: no credentials at all is "Identity Source Not Found".
        GatewayError::AppAuth(AuthFault::NoCredentials) => resp(
            401,
            "APIG.0303",
            auth_message(AuthFault::NoCredentials),
            AuthHeaderMissing,
            false,
        ),
        // The body stopped coming: answer, then close rather than wait for
        // the rest of it a second time.
        GatewayError::AppAuth(AuthFault::BodyNotRead) => resp(
            401,
            "APIG.0303",
            auth_message(AuthFault::BodyNotRead),
            AuthFailure,
            true,
        ),
        GatewayError::AppAuth(fault) => {
            resp(401, "APIG.0303", auth_message(*fault), AuthFailure, false)
        }
        GatewayError::TokenAuth(crate::error::TokenFault::Missing) => resp(
            401,
            "APIG.0301",
            "Incorrect IAM authentication information.",
            AuthHeaderMissing,
            false,
        ),
        GatewayError::AppFrozen => resp(
            405,
            "APIG.0502",
            "The app has been frozen.",
            Default4xx,
            false,
        ),
        GatewayError::AppNotAuthorized => resp(
            403,
            "APIG.0304",
            "The app is not authorized to access the API.",
            Unauthorized,
            false,
        ),
        GatewayError::TokenAuth(_) => resp(
            401,
            "APIG.0301",
            "Incorrect IAM authentication information.",
            AuthFailure,
            false,
        ),
        GatewayError::TokenExpired => resp(
            401,
            "APIG.0307",
            "The token must be updated.",
            AuthFailure,
            false,
        ),
        GatewayError::AccountDenied => resp(
            403,
            "APIG.0302",
            "The IAM user is not authorized to access the API.",
            AccessDenied,
            false,
        ),
        GatewayError::LoopDetected => resp(
            500,
            "APIG.0612",
            "An API cannot call itself.",
            Default5xx,
            false,
        ),
        GatewayError::BackendSigning => resp(
            500,
            "APIG.0705",
            "Backend signature calculation failed.",
            Default5xx,
            false,
        ),
        GatewayError::AuthorizerDenied { backend: false } => resp(
            401,
            "APIG.0305",
            "Incorrect authentication information: frontend authorizer",
            AuthorizerFailure,
            false,
        ),
        GatewayError::AuthorizerDenied { backend: true } => resp(
            401,
            "APIG.0305",
            "Incorrect authentication information: backend authorizer",
            AuthorizerFailure,
            false,
        ),
        GatewayError::AuthorizerFailed => resp(
            500,
            "APIG.0601",
            "Internal server error.",
            AuthorizerConfFailure,
            false,
        ),
        GatewayError::IdentitySourceMissing => resp(
            401,
            "APIG.0305",
            "Incorrect authentication information: identity source not found",
            AuthorizerIdentitiesFailure,
            false,
        ),
        GatewayError::IpDenied => resp(
            403,
            "APIG.0402",
            "The IP address is not authorized to access the API.",
            AccessDenied,
            false,
        ),
        GatewayError::UnknownClientIp => resp(
            403,
            "APIG.0401",
            "Unknown client IP address.",
            AccessDenied,
            false,
        ),
        GatewayError::Misdirected => {
            resp(421, "APIG.0201", "Misdirected request.", Default4xx, false)
        }
        GatewayError::UpstreamUnresolved => resp(
            500,
            "APIG.0605",
            "Domain name resolution failed.",
            Default5xx,
            false,
        ),
        GatewayError::UpstreamConnectFailed
        | GatewayError::UpstreamReset
        | GatewayError::UpstreamBadResponse => resp(
            502,
            "APIG.0201",
            "Backend unavailable.",
            BackendUnavailable,
            false,
        ),
        GatewayError::UpstreamConnectTimeout | GatewayError::UpstreamTimeout => {
            resp(504, "APIG.0201", "Backend timeout.", BackendTimeout, false)
        }
    }
}

/// APIG's `Incorrect app authentication information: …` texts (app-signing.md
/// §6); the per-request details (key, times, canonical request) follow as
/// the `Rejection`'s detail.
fn auth_message(fault: AuthFault) -> &'static str {
    match fault {
        AuthFault::NoCredentials => "Incorrect app authentication information.",
        AuthFault::Malformed => "Incorrect app authentication information: invalid authorization",
        AuthFault::AppNotFound => "Incorrect app authentication information: app not found",
        AuthFault::HostNotSigned => "Incorrect app authentication information: host must be signed",
        AuthFault::Expired => "Incorrect app authentication information: signature expired",
        AuthFault::Mismatch => "Incorrect app authentication information: verify signature fail",
        AuthFault::PayloadMismatch => {
            "Incorrect app authentication information: x-sdk-content-sha256 does not match the body"
        }
        AuthFault::BodyNotRead => {
            "Incorrect app authentication information: the signed body was not received in full"
        }
        AuthFault::BadAppCode => "Incorrect app authentication information: app code not found",
        AuthFault::AppCodeNeedsHttps => {
            "Incorrect app authentication information: AppCodes are accepted over HTTPS only"
        }
    }
}

/// Every malformed head is `400 APIG.0602 "Bad request."` and closes the
/// connection (RFC 9112: the framing can no longer be trusted).
fn malformed(_why: Malformed) -> ErrorResponse {
    resp(
        400,
        "APIG.0602",
        "Bad request.",
        ResponseType::Default4xx,
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_map_to_documented_codes() {
        // behaviour.md §3 / §20.
        let cases = [
            (ParseError::BodyTooLarge, 413, "Request entity too large."),
            (ParseError::UriTooLong, 414, "Request URI too large."),
            (
                ParseError::HeaderTooLarge,
                494,
                "Request headers too large.",
            ),
            (
                ParseError::HeadersTooLarge,
                494,
                "Request headers too large.",
            ),
        ];
        for (e, status, msg) in cases {
            let r = map(&GatewayError::Parse(e));
            assert_eq!(
                (r.status, r.code, r.message, r.close),
                (status, "APIG.0201", msg, true)
            );
        }
    }

    #[test]
    fn upstream_failures_map_to_502_and_504() {
        // behaviour.md §7.6.
        assert_eq!(map(&GatewayError::UpstreamConnectFailed).status, 502);
        assert_eq!(
            map(&GatewayError::UpstreamReset).message,
            "Backend unavailable."
        );
        assert_eq!(map(&GatewayError::UpstreamTimeout).status, 504);
        assert_eq!(
            map(&GatewayError::UpstreamTimeout).message,
            "Backend timeout."
        );
        assert_eq!(map(&GatewayError::UpstreamUnresolved).code, "APIG.0605");
    }

    #[test]
    fn response_type_keys_round_trip_in_index_order() {
        // behaviour.md §18.2 Suggestion: one stable key per type.
        for (i, t) in ResponseType::ALL.into_iter().enumerate() {
            assert_eq!(t.index(), i);
            assert_eq!(ResponseType::from_key(t.key()), Some(t));
        }
        assert_eq!(ResponseType::from_key("not_found"), None);
    }

    #[test]
    fn invalid_parameter_is_400_api_request_error() {
        // behaviour.md §6.5 Suggestion / §20.
        let r = map(&GatewayError::InvalidParameter {
            param: 0,
            fault: crate::error::ParamFault::Missing,
        });
        assert_eq!(
            (r.status, r.code, r.message, r.kind),
            (
                400,
                "APIG.0201",
                "API request error.",
                ResponseType::RequestParametersFailure
            )
        );
    }

    #[test]
    fn token_errors_use_the_iam_codes() {
        // behaviour.md §11.6 / §11.10 / §15 / §20.
        let cases = [
            (
                GatewayError::TokenAuth(crate::error::TokenFault::BadSignature),
                401,
                "APIG.0301",
                "Incorrect IAM authentication information.",
                ResponseType::AuthFailure,
            ),
            (
                GatewayError::TokenExpired,
                401,
                "APIG.0307",
                "The token must be updated.",
                ResponseType::AuthFailure,
            ),
            (
                GatewayError::AccountDenied,
                403,
                "APIG.0302",
                "The IAM user is not authorized to access the API.",
                ResponseType::AccessDenied,
            ),
        ];
        for (e, status, code, message, kind) in cases {
            let r = map(&e);
            assert_eq!(
                (r.status, r.code, r.message, r.kind),
                (status, code, message, kind)
            );
            assert!(!r.close);
        }
    }

    #[test]
    fn lookup_errors_use_the_two_documented_messages() {
        // behaviour.md §6.7.
        let nf = map(&GatewayError::RouteNotFound);
        assert_eq!((nf.status, nf.code), (404, "APIG.0101"));
        assert!(nf.message.contains("not been published"));
        assert_eq!(
            map(&GatewayError::MethodNotAllowed).message,
            "The API does not exist."
        );
    }
}
