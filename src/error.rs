//! `GatewayError`: one variant per way a request can fail, data only.
//!
//! Status codes, `APIG.xxxx` codes and bodies live in exactly one place,
//! `respond::error_map`; each variant's doc names the response it becomes
//! there (behaviour.md §20).

use crate::http::ParseError;
use crate::http::framing::FramingError;
use crate::http::normalize::PathFault;

/// Which side of the gateway a failure came from (pingora `ErrorSource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The client sent something unacceptable.
    Client,
    /// The upstream failed or misbehaved.
    Upstream,
    /// The gateway itself.
    Internal,
}

/// What is wrong with an input parameter (behaviour.md §6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamFault {
    /// A mandatory parameter is absent.
    Missing,
    /// Shorter than its minimum length.
    TooShort,
    /// Longer than its maximum length.
    TooLong,
    /// A NUMBER parameter whose value is not a number.
    NotANumber,
    /// The value holds a control character (it could split a header).
    ControlCharacter,
    /// The parameter appears more than once (only one copy could be checked).
    Repeated,
    /// A value mapped into the backend path is `.` or `..` (it would
    /// move the path up, §9.2 does not encode dots).
    DotSegment,
}

/// Why app authentication failed (behaviour.md §11.4–§11.5); each is 401
/// APIG.0303 with its own `error_msg` suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFault {
    /// Neither a signature nor (where accepted) an AppCode.
    NoCredentials,
    /// The `Authorization` value, `SignedHeaders` or `X-Sdk-Date` is unusable.
    Malformed,
    /// No app has that AppKey.
    AppNotFound,
    /// `host` is not among the signed headers (app-signing.md §7).
    HostNotSigned,
    /// `X-Sdk-Date` is more than 15 minutes away.
    Expired,
    /// The signature does not match.
    Mismatch,
    /// `X-Sdk-Content-Sha256` is neither UNSIGNED-PAYLOAD nor the body's hash.
    PayloadMismatch,
    /// A signed payload whose body could not be read whole (the client
    /// closed, stalled past the body timeout, or missed `100 Continue`).
    BodyNotRead,
    /// No app has that AppCode (or it was sent twice).
    BadAppCode,
    /// An AppCode over plain HTTP (§11.5: HTTPS only).
    AppCodeNeedsHttps,
}

/// Why token authentication failed (behaviour.md §11.6); each is 401
/// APIG.0301. An expired token is [`GatewayError::TokenExpired`] instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFault {
    /// No `Authorization: Bearer` and no `X-Auth-Token`.
    Missing,
    /// Not three base64url parts holding JSON objects; both headers at
    /// once, or one repeated; a duplicate claim; a control character in
    /// an identity claim.
    Malformed,
    /// `alg` is `none`, unsupported, or no key of the issuer has it.
    Algorithm,
    /// No key of the issuer has the token's `kid` (for its `alg`).
    UnknownKey,
    /// The signature does not verify.
    BadSignature,
    /// `iss` is not the issuer's.
    WrongIssuer,
    /// `aud` names none of the issuer's audiences.
    WrongAudience,
    /// `nbf` is still in the future (beyond the leeway).
    NotYetValid,
    /// No `exp` (the gateway requires one).
    NoExpiry,
}

/// Every failure on the request path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// Head rejected by the http stage: 400 APIG.0602, 413/414/494 APIG.0201.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// Invalid chunked request body: 400 APIG.0602.
    #[error("invalid request body framing: {0}")]
    RequestFraming(#[from] FramingError),
    /// No API for host, method and path: 404 APIG.0101 "…not been published…" (§6.7).
    #[error("no API matches the request")]
    RouteNotFound,
    /// An API matches the path but not the method: 404 APIG.0101 "The API does not exist." (§6.7).
    #[error("no API matches the request method")]
    MethodNotAllowed,
    /// A method no API can name (not GET, POST, PUT, DELETE, PATCH, HEAD
    /// or OPTIONS, case-sensitively), so not even `ANY` takes it: 400
    /// APIG.0201 "API request error." (§19 "the HTTP method is not
    /// supported", §27 C4).
    #[error("the request method is not supported")]
    MethodUnsupported,
    /// The request came back through this gateway more than
    /// `policy::hops::MAX_HOPS` times (an API whose backend is the gateway
    /// itself): 500 APIG.0612 "An API cannot call itself." (§7.6, §23).
    #[error("the request came round through this gateway too often")]
    LoopDetected,
    /// A header name with `_` under `underscore_headers = "reject"`: 400
    /// APIG.0602 "Bad request.", the connection kept (issue 13 item 6).
    #[error("a header name contains an underscore")]
    UnderscoreHeader,
    /// A request path refused by normalisation (an escaped slash, a
    /// backslash, a `;`, a dot segment, a bad escape; issue 13): 400
    /// APIG.0602 "Bad request.", the connection kept.
    #[error("request path refused: {0:?}")]
    PathRefused(PathFault),
    /// An input parameter is missing or invalid: 400 APIG.0201 "API request
    /// error." rendered as `REQUEST_PARAMETERS_FAILURE` (§6.5, §18.2).
    #[error("input parameter {param} is invalid: {fault:?}")]
    InvalidParameter {
        /// Index of the parameter in the API's definition.
        param: u16,
        /// What is wrong.
        fault: ParamFault,
    },
    /// The request came over a scheme the API does not accept: 400
    /// APIG.0607 "The following protocol is supported: {HTTP|HTTPS}" (§6.2).
    #[error("the API does not accept this protocol")]
    ProtocolNotAllowed {
        /// The API accepts only HTTPS (else only HTTP).
        https_only: bool,
    },
    /// A TLS request whose `Host` names a domain with other TLS settings
    /// than the one its handshake was for (SNI): 421 APIG.0201
    /// "Misdirected request." (RFC 9110 §15.5.20; not in the catalogue).
    #[error("Host names another TLS domain than the handshake")]
    Misdirected,
    /// App authentication failed: 401 APIG.0303 "Incorrect app
    /// authentication information…" rendered as `AUTH_FAILURE` (§11.10).
    #[error("app authentication failed: {0:?}")]
    AppAuth(AuthFault),
    /// The app is frozen (`enabled = false`): 405 APIG.0502 (§11.2).
    #[error("the app is frozen")]
    AppFrozen,
    /// The app is not granted the API in this stage: 403 APIG.0304 as
    /// `UNAUTHORIZED` (§11.3, §27 C3).
    #[error("the app is not authorized for the API")]
    AppNotAuthorized,
    /// A custom authorizer answered `deny`: 401 APIG.0305 "Incorrect
    /// authentication information: frontend authorizer" (or `backend`) as
    /// `AUTHORIZER_FAILURE` (§11.9.3, §27 C2).
    #[error("the custom authorizer denied the request")]
    AuthorizerDenied {
        /// A backend authorizer (§11.9.6), else the frontend one.
        backend: bool,
    },
    /// A custom authorizer could not be reached or broke the result
    /// contract (relaxed mode off): 500 APIG.0601 "Internal server error."
    /// as `AUTHORIZER_CONF_FAILURE` (§11.9.3, §11.10).
    #[error("the custom authorizer failed")]
    AuthorizerFailed,
    /// An identity source of the API's frontend authorizer is absent or
    /// empty: 401 APIG.0305 as `AUTHORIZER_IDENTITIES_FAILURE` (§11.10).
    #[error("an identity source is missing")]
    IdentitySourceMissing,
    /// Token authentication failed: 401 APIG.0301 "Incorrect IAM
    /// authentication information." as `AUTH_FAILURE` (§11.6, §11.10).
    #[error("token authentication failed: {0:?}")]
    TokenAuth(TokenFault),
    /// The token's `exp` has passed (beyond the leeway): 401 APIG.0307
    /// "The token must be updated." as `AUTH_FAILURE` (§11.6).
    #[error("the token has expired")]
    TokenExpired,
    /// The token's account may not call (account access control): 403
    /// APIG.0302 "The IAM user is not authorized to access the API." as
    /// `ACCESS_DENIED` (§15).
    #[error("the account is denied")]
    AccountDenied,
    /// The client IP may not call (access control): 403 APIG.0402 as
    /// `ACCESS_DENIED` (§15).
    #[error("the client IP is denied")]
    IpDenied,
    /// No client IP could be found (`real_ip_strict`): 403 APIG.0401 (§16).
    #[error("unknown client IP")]
    UnknownClientIp,
    /// A throttling limit is reached: 429 APIG.0308 "The throttling
    /// threshold has been reached." as `THROTTLED` (§13.4).
    #[error("throttled")]
    Throttled,
    /// Signing the backend request failed: 500 APIG.0705 (§12).
    #[error("backend signature calculation failed")]
    BackendSigning,
    /// The backend host name has no address (yet): 500 APIG.0605 (§7.6).
    #[error("backend host name not resolved")]
    UpstreamUnresolved,
    /// Connecting to the backend was refused or failed: 502 APIG.0201 "Backend unavailable." (§7.6).
    #[error("backend connect failed")]
    UpstreamConnectFailed,
    /// Connecting to the backend took longer than `connect_timeout_ms`: 504 APIG.0201 "Backend timeout.".
    #[error("backend connect timed out")]
    UpstreamConnectTimeout,
    /// The backend did not answer within the API's timeout: 504 APIG.0201 "Backend timeout." (§7.2).
    #[error("backend timed out")]
    UpstreamTimeout,
    /// The backend reset or closed the connection mid-exchange: 502 APIG.0201 "Backend unavailable.".
    #[error("backend connection reset")]
    UpstreamReset,
    /// The backend sent an unparseable or ill-framed response: 502 APIG.0201 "Backend unavailable.".
    #[error("backend sent an invalid response")]
    UpstreamBadResponse,
}

/// A failure as it is answered: the [`GatewayError`] and, for this
/// request only, a detail its message carries beyond the variant's fixed
/// text (APIG's `…: app not found, appkey 0117***e5e1`, app-signing.md §6).
///
/// A detail is built on the failure path only: a plain error converts with
/// `From` and allocates nothing, so functions on the request path can
/// return `Result<_, Rejection>` at no cost to the requests that pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// What failed: status, code, fixed message and response type come
    /// from it (`respond::error_map`).
    pub error: GatewayError,
    /// Appended as is to the error's message (`$context.error.message`,
    /// JSON-escaped when rendered); starts with its own separator (APIG's
    /// details start with `, `). Never a secret: it goes to the client.
    pub detail: Option<Box<str>>,
}

impl Rejection {
    /// `error` with `detail` appended to its message.
    pub fn with_detail(error: GatewayError, detail: impl Into<Box<str>>) -> Rejection {
        Rejection {
            error,
            detail: Some(detail.into()),
        }
    }
}

impl From<GatewayError> for Rejection {
    fn from(error: GatewayError) -> Rejection {
        Rejection {
            error,
            detail: None,
        }
    }
}

impl GatewayError {
    /// Where the failure came from.
    pub fn side(&self) -> Side {
        match self {
            GatewayError::Parse(_)
            | GatewayError::RequestFraming(_)
            | GatewayError::RouteNotFound
            | GatewayError::MethodNotAllowed
            | GatewayError::MethodUnsupported
            | GatewayError::PathRefused(_)
            | GatewayError::UnderscoreHeader
            | GatewayError::InvalidParameter { .. }
            | GatewayError::ProtocolNotAllowed { .. }
            | GatewayError::Misdirected
            | GatewayError::AppAuth(_)
            | GatewayError::AppFrozen
            | GatewayError::AppNotAuthorized
            | GatewayError::TokenAuth(_)
            | GatewayError::TokenExpired
            | GatewayError::AccountDenied
            | GatewayError::IpDenied
            | GatewayError::UnknownClientIp
            | GatewayError::AuthorizerDenied { .. }
            | GatewayError::IdentitySourceMissing
            | GatewayError::Throttled => Side::Client,
            GatewayError::UpstreamUnresolved
            | GatewayError::BackendSigning
            | GatewayError::LoopDetected
            | GatewayError::AuthorizerFailed => Side::Internal,
            GatewayError::UpstreamConnectFailed
            | GatewayError::UpstreamConnectTimeout
            | GatewayError::UpstreamTimeout
            | GatewayError::UpstreamReset
            | GatewayError::UpstreamBadResponse => Side::Upstream,
        }
    }
}
