//! Compiled backend parameters (behaviour.md §9): where each backend
//! parameter takes its value from and where it goes. The rewrite stage
//! applies them; validation guarantees every index is in range.

use crate::policy::params::Location;

/// Where a backend parameter's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The API's input parameter at this index (§9.1).
    Input(u16),
    /// A constant, already percent-encoded for its location (§9.2).
    Constant(Box<[u8]>),
    /// A runtime value (§9.3).
    System(SystemParam),
}

/// A system parameter (behaviour.md §9.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemParam {
    /// The caller's IP address.
    SourceIp,
    /// The stage of the call.
    Stage,
    /// The API ID.
    ApiId,
    /// The calling app's ID (empty without app authentication).
    AppId,
    /// The request ID (`X-Request-Id`).
    RequestId,
    /// The token's tenant ID (empty without token authentication, §11.6).
    TenantId,
    /// The token's user ID.
    UserId,
    /// The token's account name.
    AccountName,
    /// A key of the frontend custom authorizer's context.
    Frontend(Box<str>),
    /// A key of the backend custom authorizer's context.
    Backend(Box<str>),
}

/// A backend parameter: name, location and value source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Name as written upstream (QUERY names are percent-encoded).
    pub name: Box<[u8]>,
    /// Location.
    pub location: Location,
    /// Value source.
    pub source: Source,
}

/// Everything the rewrite stage adds to or removes from a backend request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    /// Every target in declared order (mapped inputs, then constants,
    /// then system parameters); PATH ones are also in `paths`.
    pub targets: Vec<Target>,
    /// Sources of the backend path's `{name}` parameters, by
    /// [`super::PathPart::Mapped`] index.
    pub paths: Vec<Source>,
    /// Lower-case names of client headers not passed on: mapped HEADER
    /// inputs (§9.1: a mapped parameter leaves its original place) and
    /// names a target writes (the client cannot pre-empt them).
    pub drop_headers: Vec<Box<[u8]>>,
    /// Query keys not passed on, for the same two reasons.
    pub drop_queries: Vec<Box<[u8]>>,
    /// HEADER input parameters sent as their default when absent (§6.5),
    /// because no target consumes them.
    pub default_headers: Vec<u16>,
    /// QUERY input parameters sent as their default when absent.
    pub default_queries: Vec<u16>,
}

impl Mapping {
    /// Whether the query string passes through untouched.
    #[inline]
    pub fn keeps_query(&self) -> bool {
        self.drop_queries.is_empty()
            && !self.targets.iter().any(|t| t.location == Location::Query)
            && self.default_queries.is_empty()
    }
}
