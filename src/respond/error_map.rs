//! `GatewayError` → status, `APIG.xxxx` code, message and gateway-response
//! type: the one `match` (behaviour.md §18.2, §20; style.md §4.5).

use crate::error::GatewayError;
use crate::http::ParseError;
use crate::http::parse::Malformed;

/// Gateway-response types of behaviour.md §18.2, by their config keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    /// `BACKEND_TIMEOUT` (504).
    BackendTimeout,
    /// `BACKEND_UNAVAILABLE` (502).
    BackendUnavailable,
    /// `NOT_FOUND` (404, §27 C4).
    NotFound,
    /// `DEFAULT_4XX`.
    Default4xx,
    /// `DEFAULT_5XX`.
    Default5xx,
}

impl ResponseType {
    /// The config key (`$context.error.type`, §18.3).
    pub fn key(self) -> &'static str {
        match self {
            ResponseType::BackendTimeout => "BACKEND_TIMEOUT",
            ResponseType::BackendUnavailable => "BACKEND_UNAVAILABLE",
            ResponseType::NotFound => "NOT_FOUND",
            ResponseType::Default4xx => "DEFAULT_4XX",
            ResponseType::Default5xx => "DEFAULT_5XX",
        }
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
        GatewayError::MethodNotAllowed => {
            resp(404, "APIG.0101", "The API does not exist.", NotFound, false)
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
