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
    /// Checks the plugins of `ava.toml`; creates, builds and calls a plugin.
    #[command(alias = "plugins")]
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// Loads and validates every plugin and prints a table; exits 1 on any problem.
    Check {
        /// Also ask each plugin to verify itself with its upstream (`check()`, contract
        /// 0.2.0): the key accepted, the model or price there. One request per plugin.
        #[arg(long)]
        upstream: bool,
    },
    /// Lists the configured plugins without loading them.
    List,
    /// Creates a plugin crate that builds, with tests, a README and its ava.toml snippet.
    New(cli::plugin::new::Args),
    /// Builds a plugin crate into a component and validates it as the host loads it.
    Build(cli::plugin::build::Args),
    /// Runs one call of a built plugin in the real runtime and shows every host call.
    Call(cli::plugin::call::Args),
}

impl Command {
    /// The plugin author's commands: they print what matters themselves.
    fn is_authoring(&self) -> bool {
        matches!(
            self,
            Self::Plugin {
                command: PluginCommand::New(_) | PluginCommand::Build(_) | PluginCommand::Call(_)
            }
        )
    }
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
    let mut settings = cli.settings;
    // The runtime's own log lines would repeat what the author commands print.
    if cli.command.is_authoring() && settings.log == "info" && std::env::var_os("AVA_LOG").is_none()
    {
        settings.log = "off".into();
    }
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
        Command::Plugin { command } => match command {
            PluginCommand::Check { upstream } => {
                if !cli::plugin::check::check(&settings, upstream).await? {
                    std::process::exit(1);
                }
                Ok(())
            }
            PluginCommand::List => cli::plugin::check::list(&settings),
            PluginCommand::New(args) => authoring(cli::plugin::new::run(&args).map(|()| true)),
            PluginCommand::Build(args) => authoring(
                cli::plugin::build::run(&settings, &args)
                    .await
                    .map(|()| true),
            ),
            PluginCommand::Call(args) => authoring(cli::plugin::call::run(&settings, &args).await),
        },
    }
}

/// Ends an author command: its error as one readable message, exit code 1 on any failure.
fn authoring(outcome: anyhow::Result<bool>) -> anyhow::Result<()> {
    match outcome {
        Ok(true) => Ok(()),
        Ok(false) => std::process::exit(1),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(1)
        }
    }
}
