//! Process limits set at start: the file-descriptor limit raised to what
//! the system allows (nginx `worker_rlimit_nofile`), and each worker's
//! share of the connection cap and the head budget (`worker::admission`).

use super::compile::RuntimeConfig;

/// Descriptors kept back from client connections: listeners, the resolver,
/// log files, the runtime's own.
const RESERVED_FDS: u64 = 64;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the soft
/// limit in force afterwards.
pub fn raise_nofile() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit for the whole call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return 1024;
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: `raised` is a valid rlimit read by the call only.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            log::info!(
                "file-descriptor limit raised from {} to {}",
                lim.rlim_cur,
                lim.rlim_max
            );
            return lim.rlim_max;
        }
        log::warn!(
            "cannot raise the file-descriptor limit from {} to {}: {}",
            lim.rlim_cur,
            lim.rlim_max,
            std::io::Error::last_os_error()
        );
    }
    lim.rlim_cur
}

/// Each worker's (connection cap, head budget). With `worker_connections
/// = 0` the cap comes from the descriptor limit: half of what is left
/// after [`RESERVED_FDS`] (each client may need an upstream connection),
/// split between workers.
pub fn worker_share(rt: &RuntimeConfig, workers: usize) -> (usize, usize) {
    let workers = workers.max(1);
    let nofile = raise_nofile();
    let connections = match rt.worker_connections {
        0 => {
            let usable = nofile.saturating_sub(RESERVED_FDS) / 2;
            usize::try_from(usable).unwrap_or(usize::MAX) / workers
        }
        n => n,
    };
    (connections.max(1), rt.head_buffer_budget / workers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_descriptor_limit_is_raised_to_the_hard_one() {
        let soft = raise_nofile();
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `lim` is a valid, writable rlimit for the whole call.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
        assert_eq!(soft, lim.rlim_cur);
        assert_eq!(lim.rlim_cur, lim.rlim_max);
    }
}
