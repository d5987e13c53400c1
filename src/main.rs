//! The `portico` binary: `serve` runs the gateway; the other commands are a
//! client of a running gateway's management API.

use clap::{Parser, Subcommand};

use portico::cli;
use portico::server::{self, ServeConfig};

/// mimalloc (see `portico::allocator`).
#[global_allocator]
static ALLOCATOR: portico::allocator::Mimalloc = portico::allocator::Mimalloc;

#[derive(Parser)]
#[command(
    name = "portico",
    version,
    about = "A self-hosted API Gateway whose Lambda functions are WebAssembly"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway: front door and management API.
    Serve(ServeConfig),
    /// Manage and invoke functions on a running gateway.
    #[command(subcommand)]
    Function(cli::FunctionCommand),
    /// Manage REST APIs, their deployments and stages on a running gateway.
    #[command(subcommand)]
    Api(cli::ApiCommand),
    /// List and test a REST API's Lambda authorizers on a running gateway.
    #[command(subcommand)]
    Authorizer(cli::AuthorizerCommand),
    /// Deploy a directory of functions and an OpenAPI document to a stage (idempotent).
    Deploy(cli::DeployArgs),
}

fn main() -> std::process::ExitCode {
    let args = Cli::parse();
    match args.command {
        Command::Serve(config) => match server::run(config) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("portico: {e:#}");
                std::process::ExitCode::FAILURE
            }
        },
        Command::Function(cmd) => cli::run_function(cmd),
        Command::Api(cmd) => cli::run_api(cmd),
        Command::Authorizer(cmd) => cli::run_authorizer(cmd),
        Command::Deploy(args) => cli::run_deploy(args),
    }
}
