//! The `faina-filter` command: arguments in, exit status out. The work is in the library.

use std::io::{self, Write};
use std::process::ExitCode;

use faina_filter::cli::{self, Action};
use faina_filter::signal::Stop;

fn main() -> ExitCode {
    let action = cli::parse(std::env::args_os().skip(1));
    if action.is_ok() && faina_filter::output::was_closed() {
        eprintln!("faina-filter: standard output is closed: the output could not be written");
        return ExitCode::from(1);
    }
    let config = match action {
        Ok(Action::Run(config)) => config,
        Ok(Action::Help) => return print(&cli::help()),
        Ok(Action::Version) => return print(&format!("faina-filter {}\n", env!("CARGO_PKG_VERSION"))),
        Ok(Action::Manual) => return manual(),
        Err(e) => {
            eprintln!("faina-filter: {}\n{TRY_HELP}", printable(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    faina_filter::signal::install();
    // The edge that decides when the run stops: what it starts is told, and asks nothing else.
    let plan = match cli::resolve(*config, Stop::signals(), &mut io::stderr()) {
        Ok(plan) => plan,
        Err(e) => return failed(&e),
    };
    match faina_filter::run(plan, faina_filter::output::Stdout::new(Stop::signals()), &mut io::stderr()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => failed(&e),
    }
}

/// Says why the run failed, once, and gives its exit status; a usage error points to `--help`.
fn failed(e: &faina_filter::Error) -> ExitCode {
    eprintln!("faina-filter: {}", printable(&e.to_string()));
    if e.is_usage() {
        eprintln!("{TRY_HELP}");
    }
    let status = if e.is_stopped() { faina_filter::signal::exit_status() } else { e.exit_status() };
    ExitCode::from(status)
}

const TRY_HELP: &str = "Try 'faina-filter --help' for more information.";

/// A message that may quote a file name or argument, with any control character escaped (names
/// that are not UTF-8 are escaped where the message is made).
fn printable(message: &str) -> String {
    faina_filter::escape::controls_escaped(message)
}

/// `--man`: on a terminal, the manual as man(1) shows it; redirected, or without a man that reads
/// a page from standard input, its source.
fn manual() -> ExitCode {
    use std::io::IsTerminal;
    use std::process::{Command, Stdio};
    if io::stdout().is_terminal() {
        if let Ok(mut man) = Command::new("man").args(["-l", "-"]).stdin(Stdio::piped()).spawn() {
            let fed = man.stdin.take().map(|mut input| input.write_all(cli::MANUAL.as_bytes()));
            if man.wait().is_ok_and(|status| status.success()) && fed.is_some_and(|r| r.is_ok()) {
                return ExitCode::SUCCESS;
            }
        }
    }
    print(cli::MANUAL)
}

fn print(text: &str) -> ExitCode {
    match io::stdout().write_all(text.as_bytes()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}
