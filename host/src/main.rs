//! `ava`: the command line. Every setting is a flag that is also an environment variable.

use clap::{Parser, Subcommand};

use ava_host::config::Settings;
use ava_host::{app, cli, telemetry, tls};

/// mimalloc instead of glibc's allocator: under load glibc kept ~1 GiB resident in
/// per-thread arenas where mimalloc keeps ~110 MiB, and spends less time allocating
/// (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "ava",
    version,
    about = "Ava: an AI companion, built from plugins"
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the HTTP server (and, without REDIS_URL, the worker in the same process).
    Serve,
    /// Runs the job-handler plugins off the queue, until SIGTERM or SIGINT.
    Worker,
    /// Inspects the job queue's dead letters.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Applies the database migrations, then exits.
    Migrate,
    /// Prints the API's OpenAPI 3.1 document (what `GET /openapi.json` serves), then exits.
    Openapi,
    /// Inspects the plugins of `ava.toml`.
    Plugins {
        #[command(subcommand)]
        command: PluginsCommand,
    },
}

#[derive(Debug, Subcommand)]
enum PluginsCommand {
    /// Loads and validates every plugin and prints a table; exits 1 on any problem.
    Check,
    /// Lists the configured plugins without loading them.
    List,
}

#[derive(Debug, Subcommand)]
enum JobsCommand {
    /// Lists the jobs given up after their last attempt, oldest first.
    Dead,
    /// Queues a dead job again, with its attempts reset; exits 1 when there is none.
    Retry {
        /// The job's id, as `ava jobs dead` prints it.
        id: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = cli.settings;
    tls::install_crypto_provider();
    // Sentry before the runtime and the app: its client binds to the main hub, which the
    // runtime's threads inherit, and its panic hook is in place before anything can panic.
    let _reports = telemetry::error_reports::init(&settings)?;
    telemetry::init(&settings.log, settings.is_production());
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(cli.command, settings))
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => app::serve(settings).await,
        Command::Worker => app::work(settings).await,
        Command::Jobs { command } => match command {
            JobsCommand::Dead => cli::jobs::dead(&settings).await,
            JobsCommand::Retry { id } => {
                if !cli::jobs::retry(&settings, &id).await? {
                    std::process::exit(1);
                }
                Ok(())
            }
        },
        Command::Migrate => {
            let db = app::database(&settings).await?;
            tracing::info!(backend = ?db.backend(), "database migrated");
            db.close().await;
            Ok(())
        }
        Command::Openapi => {
            print!("{}", ava_host::api::openapi::json());
            Ok(())
        }
        Command::Plugins { command } => match command {
            PluginsCommand::Check => {
                if !cli::plugins::check(&settings).await? {
                    std::process::exit(1);
                }
                Ok(())
            }
            PluginsCommand::List => cli::plugins::list(&settings),
        },
    }
}
