//! The `cramp-cds` binary: parses the command line and hands over to the library.
//!
//! Kept thin on purpose: everything worth testing lives in the library, where tests reach it
//! without a process. Only `serve` starts an async runtime and installs logging; `assess` and `kb`
//! write their answer to stdout and nothing else.

use std::{io, process::ExitCode};

use anyhow::Context as _;
use clap::Parser as _;
use cramp_cds::{
    cli::{self, Cli, Command, ServeArgs},
    config::Settings,
    server::{self, Application},
    telemetry::{self, Otel, OtelEnv},
};

/// glibc's allocator serialises the worker threads of `screen` and the batch stream on its arena
/// locks (half the profile was malloc/free); mimalloc's per-thread heaps do not.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let outcome = match cli.command {
        None => return serve(cli.serve),
        Some(Command::Serve(args)) => return serve(args),
        Some(Command::Assess(args)) => {
            cli::assess(&args, io::stdin().lock(), &mut io::stdout().lock())
        }
        Some(Command::Kb(args)) => cli::kb(&args, &mut io::stdout().lock()),
        Some(Command::Screen(args)) => return Ok(cramp_cds::screen::main(&args)),
        Some(Command::Report(args)) => return Ok(cramp_cds::report::main(&args)),
    };
    match outcome {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(err) => {
            err.report(&mut io::stderr().lock())
                .context("cannot write to stderr")?;
            Ok(ExitCode::from(err.exit_code()))
        }
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut settings = Settings::load(args.config.as_deref(), None)?;
    if let Some(addr) = args.grpc_addr {
        settings.server.grpc_addr = addr;
    }
    if let Some(addr) = args.http_addr {
        settings.server.http_addr = addr;
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    // The OTLP exporters' gRPC channels run on the runtime, so they are built inside it.
    let otel = {
        let _runtime = runtime.enter();
        Otel::start(&settings.telemetry, &OtelEnv::from_process())?
    };
    // Held to the end: dropping it writes out the log lines and audit events still queued.
    let _log_writer = telemetry::init(&settings.log, &otel)?;
    runtime.block_on(async move {
        // Whether or not the server starts or fails: the last spans and metric points are
        // flushed rather than lost. A collector that cannot be reached does not fail the exit.
        let flush_telemetry = async move {
            if let Err(err) = otel.shutdown().await {
                tracing::warn!(error = %err, "telemetry was not flushed");
            }
        };
        let started = async {
            let shutdown = server::shutdown_signal().context("cannot install signal handlers")?;
            let app = Application::build(&settings).await?;
            anyhow::Ok((app, shutdown))
        }
        .await;
        match started {
            // The flush is the last phase of the server's shutdown.
            Ok((app, shutdown)) => Ok(app
                .flush_on_exit(flush_telemetry)
                .run_until_stopped(shutdown)
                .await?),
            Err(err) => {
                flush_telemetry.await;
                Err(err)
            }
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
