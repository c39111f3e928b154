//! The throttling step (behaviour.md §13–§14): the API's default limit or
//! its bound policy, on this worker's leases.

use std::net::IpAddr;

use super::{Call, CoreState};
use crate::backend::Api;
use crate::io::ClientConn;
use crate::policy::throttle::check::{Throttle, Verdict};
use crate::policy::throttle::policy::Facts;
use crate::route::RouteMatch;

/// Checks the API's default limit and its bound throttling policy
/// (§13–§14) on this worker's leases.
pub(super) fn check(
    core: &CoreState,
    call: &Call<'_>,
    api: &Api,
    route: &RouteMatch,
    source: IpAddr,
    client: &ClientConn,
) -> Verdict {
    let binding = api
        .throttle
        .get(route.stage as usize)
        .and_then(Option::as_ref);
    let default = (call.snap.default_rate).map(|limit| (&**api.rate_all, limit));
    if binding.is_none() && default.is_none() {
        return Verdict {
            admitted: true,
            headers: None,
            overflowed: false,
        };
    }
    let source_text = call.source_text(client);
    let facts = Facts {
        head: call.head,
        route,
        identity: &call.identity,
        source,
        source_text: &source_text,
    };
    let mut shard = core.throttle.borrow_mut();
    let mut throttle = Throttle {
        shard: &mut shard,
        workers: core.workers,
        now_ms: core.clock.unix_ms(),
        debug: call.started.is_some(),
    };
    throttle.check(default, binding, &facts)
}
