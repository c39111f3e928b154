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
    // An unlimited hard limit cannot be the soft one: the kernel caps
    // descriptors at fs.nr_open.
    let target = match lim.rlim_max {
        libc::RLIM_INFINITY => nr_open().unwrap_or(1 << 20),
        max => max,
    };
    if lim.rlim_cur < target {
        let raised = libc::rlimit {
            rlim_cur: target,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: `raised` is a valid rlimit read by the call only.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            log::info!(
                "file-descriptor limit raised from {} to {target}",
                lim.rlim_cur
            );
            return target;
        }
        log::warn!(
            "cannot raise the file-descriptor limit from {} to {target}: {}",
            lim.rlim_cur,
            std::io::Error::last_os_error()
        );
    }
    lim.rlim_cur
}

/// The kernel's per-process descriptor ceiling (`/proc/sys/fs/nr_open`).
fn nr_open() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()?
        .trim()
        .parse()
        .ok()
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
    let connections = connections.max(1);
    log::info!(
        "each of {workers} worker(s) takes at most {connections} client connections \
         ([server] worker_connections)"
    );
    (connections, rt.head_buffer_budget / workers)
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
        if lim.rlim_max != libc::RLIM_INFINITY {
            assert_eq!(lim.rlim_cur, lim.rlim_max);
        }
    }
}
