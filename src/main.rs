//! `tollgate`: run the gateway, or check a configuration.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tollgate::control::{self, ConfigError};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Self-hosted, thread-per-core API gateway.
#[derive(Parser)]
#[command(name = "tollgate", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve (the embedded default config when no -c is given).
    Run {
        /// Configuration file (TOML).
        #[arg(short, long)]
        config: Option<PathBuf>,
    },
    /// Validate a configuration and print every error.
    Check {
        /// Configuration file (TOML).
        #[arg(short, long)]
        config: PathBuf,
    },
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Run { config: None }) {
        Command::Run { config } => run(config),
        Command::Check { config } => check(config),
    }
}

fn read(path: Option<&PathBuf>) -> Result<(String, String), String> {
    match path {
        None => Ok((
            control::DEFAULT_CONFIG.to_string(),
            "embedded config/gateway.toml".into(),
        )),
        Some(p) => std::fs::read_to_string(p)
            .map(|s| (s, p.display().to_string()))
            .map_err(|e| format!("cannot read {}: {e}", p.display())),
    }
}

/// Directory relative paths in a configuration file are resolved against:
/// the file's own (the working directory for the embedded default).
fn base_dir(path: Option<&std::path::Path>) -> PathBuf {
    path.and_then(std::path::Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf)
}

fn report(origin: &str, errs: &[ConfigError]) {
    eprintln!("{origin}: {} error(s)", errs.len());
    for e in errs {
        eprintln!("{origin}: {e}");
    }
}

fn run(path: Option<PathBuf>) -> ExitCode {
    let (source, origin) = match read(path.as_ref()) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let compiled = match control::load_at(&source, &base_dir(path.as_deref())) {
        Ok(c) => c,
        Err(errs) => {
            report(&origin, &errs);
            return ExitCode::FAILURE;
        }
    };
    match control::run(compiled) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tollgate: {e}");
            ExitCode::FAILURE
        }
    }
}

fn check(path: PathBuf) -> ExitCode {
    let (source, origin) = match read(Some(&path)) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match control::load_at(&source, &base_dir(Some(&path))) {
        Ok(c) => {
            let apis = c.snapshot.apis.len();
            // One path tree per group and stage; one response set per group.
            let groups = c.snapshot.group_sets.len();
            println!(
                "{origin}: OK: {groups} group(s), {apis} API(s), {} upstream(s), {} listener(s)",
                c.snapshot.upstreams.len(),
                c.runtime.listeners.len()
            );
            ExitCode::SUCCESS
        }
        Err(errs) => {
            report(&origin, &errs);
            ExitCode::FAILURE
        }
    }
}
