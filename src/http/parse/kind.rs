//! What a header means to the gateway ([`HeaderKind`], decided once by
//! the parser) and what happens to header names with `_` ([`Underscores`]).

/// What a header means to the gateway, decided once by the parser so later
/// stages never compare names again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderKind {
    /// Any end-to-end header the gateway passes through unchanged.
    Other,
    /// Hop-by-hop (RFC 9110 §7.6.1): Connection, Keep-Alive, Proxy-Connection,
    /// TE, Trailer, Upgrade, Proxy-Authenticate, Proxy-Authorization, and any
    /// header named in `Connection`. Never forwarded.
    HopByHop,
    /// `Host`.
    Host,
    /// `Content-Length` (the gateway writes its own framing header).
    ContentLength,
    /// `Transfer-Encoding` (the gateway writes its own framing header).
    TransferEncoding,
    /// `Expect`.
    Expect,
    /// `X-Forwarded-For` (appended to, §16).
    XForwardedFor,
    /// `X-Forwarded-Proto` (replaced by the gateway).
    XForwardedProto,
    /// `X-Forwarded-Host` (replaced by the gateway).
    XForwardedHost,
    /// `X-Request-Id` (replaced by the gateway's own, §19).
    XRequestId,
    /// `Server` (responses: replaced by `Server: api-gateway`, §19).
    Server,
    /// `X-Stage`: selects the environment (behaviour.md §5.1). Forwarded.
    XStage,
    /// `X-Apig-Mode`: `debug` asks for debug headers (§19). Forwarded.
    XApigMode,
    /// `Origin` (CORS, §17). Forwarded.
    Origin,
    /// Any `Access-Control-*` header (CORS, §17): a preflight's
    /// `Access-Control-Request-*`, or a backend's own CORS answer, which
    /// overrides the gateway's. Forwarded.
    AccessControl,
    /// `X-Tollgate-Loop`: hops through gateways (`policy::hops`). The
    /// gateway writes its own; other processes' lines pass unchanged.
    LoopGuard,
    /// A header a backend would read as framing, routing or identifying
    /// the request differently from what the gateway checked: an
    /// underscore spelling of one the gateway owns or frames
    /// (`Transfer_Encoding`, `X_Forwarded_For`, `X_Apig_Mode`, …; backends
    /// that read `_` as `-` take it for the real one), a path or method
    /// override (`X-Original-URL`, `X-Rewrite-URL`, `X-HTTP-Method(-Override)`,
    /// `X-Method-Override`), `X-Real-Ip`, and the `X-Forwarded-*` the
    /// gateway does not write. Never forwarded either way; the gateway gives
    /// it no meaning (issue 13 items 2 and 6).
    Impostor,
}

/// What to do with request headers whose name contains `_`
/// (`[settings] underscore_headers`; nginx `underscores_in_headers`,
/// Envoy `headers_with_underscores_action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Underscores {
    /// Drop the spellings of headers the gateway owns or frames
    /// ([`HeaderKind::Impostor`]); forward the rest.
    #[default]
    DropOwned,
    /// Drop every such header.
    Drop,
    /// Refuse the request: 400 APIG.0602.
    Reject,
}

impl HeaderKind {
    /// Whether a header of this kind is end-to-end and passed on as
    /// received (the gateway reads some of them, but does not own them).
    #[inline]
    pub fn is_end_to_end(self) -> bool {
        matches!(
            self,
            HeaderKind::Other
                | HeaderKind::XStage
                | HeaderKind::XApigMode
                | HeaderKind::Origin
                | HeaderKind::AccessControl
        )
    }
}
