//! STAGE policy: the per-API checks between routing and backend selection
//! (architecture.md: redirect → cors → acl → auth → throttle, then input
//! validation, behaviour.md §2 steps 7–13).
//!
//! Each step reads the snapshot and the request and produces only its own
//! output: [`cors::CorsPlan`] (headers the respond stage adds),
//! [`params::Inputs`] (validated input-parameter values, §6.5) and
//! [`Identity`] (who is calling; authentication fills it). Nothing here
//! writes a response.

pub mod acl;
pub mod auth;
pub mod cors;
pub mod hops;
pub mod params;
pub mod protocol;
pub mod throttle;

/// Who is calling, as authentication found it (behaviour.md §9.3, §18.3).
///
/// The hook for app, token and authorizer identities: system parameters
/// (`appId`, `tenantId`, `userId`, `accountName`, `authorizer.frontend.*`,
/// `authorizer.backend.*`), `$context.*` variables, account access control
/// (§15) and user throttling (§13) read from here. Until authentication is
/// configured on an API it is [`Identity::ANONYMOUS`]: no app, no token
/// claims, empty authorizer contexts, so those parameters are sent empty
/// (§9.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// The calling app's ID (app authentication, §11.2).
    pub app_id: Option<Box<str>>,
    /// The caller's tenant: a token's tenant (account ID) claim (§11.6),
    /// or the calling app's `tenant` (§11.2). User throttling counts per
    /// tenant, and excluded tenants name it (§13.3, §27 C16).
    pub tenant_id: Option<Box<str>>,
    /// The token's user claim (§11.6), the `userId` system parameter.
    pub user_id: Option<Box<str>>,
    /// The token's account name (its account claim, else the tenant ID):
    /// what account access control allows or denies (§15: accounts, not
    /// the IAM users under them).
    pub account_name: Option<Box<str>>,
    /// The frontend custom authorizer's `context` (§11.9), values as text.
    pub frontend: Context,
    /// The backend custom authorizer's `context`, values as text.
    pub backend: Context,
}

/// An authorizer's `context` pairs (§11.9.3), shared with the cached
/// decision they came from; `None` without one.
pub type Context = Option<std::rc::Rc<[(Box<str>, Box<str>)]>>;

impl Identity {
    /// No credentials checked.
    pub const ANONYMOUS: Identity = Identity {
        app_id: None,
        tenant_id: None,
        user_id: None,
        account_name: None,
        frontend: None,
        backend: None,
    };

    /// `appId`, empty when no app called.
    pub fn app_id(&self) -> &str {
        self.app_id.as_deref().unwrap_or("")
    }

    /// Takes the caller a verified token names (§11.6).
    pub fn set_caller(&mut self, caller: auth::token::Caller) {
        self.tenant_id = caller.tenant_id;
        self.user_id = caller.user_id;
        self.account_name = caller.account_name;
    }

    /// `tenantId`, empty without token authentication.
    pub fn tenant_id(&self) -> &str {
        self.tenant_id.as_deref().unwrap_or("")
    }

    /// `userId`, empty without token authentication.
    pub fn user_id(&self) -> &str {
        self.user_id.as_deref().unwrap_or("")
    }

    /// `accountName`, empty without token authentication.
    pub fn account_name(&self) -> &str {
        self.account_name.as_deref().unwrap_or("")
    }

    /// A frontend (`backend == false`) or backend authorizer context value.
    pub fn context(&self, backend: bool, key: &str) -> Option<&str> {
        let ctx = if backend {
            &self.backend
        } else {
            &self.frontend
        };
        ctx.as_deref()?
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| &**v)
    }
}
