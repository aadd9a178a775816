//! The resolve step, after the parse (as ripgrep's `hiargs`): every check that involves more than
//! one flag, and everything the flags name that must be read or looked at before a line is —
//! the `--commands` table, the `--connect` servers with their password (and the nodes of a
//! cluster or behind a proxy), the inputs, the `--rejects` file's safety. Out of it comes a
//! [`Plan`]: a run that can start. A mistake in the flags is a [`UsageError`]; a file a flag
//! names that cannot be used is [`Error::Refused`], naming the file.

use std::ffi::OsStr;
use std::io::Write;
use std::sync::Arc;

use crate::cli::config::{Config, Emit, ReportFormat};
use crate::commands::{Lookup, Table};
use crate::error::{Error, UsageError};
use crate::format::escape;
use crate::read::connect;
use crate::read::input::Inputs;
use crate::read::sources::Input;
use crate::sys::signal::Stop;

/// A run ready to start: its configuration, checked, with what the flags name read.
pub struct Plan {
    pub config: Config,
    /// The command table: the server's own (`--commands`) ahead of the built-in one.
    pub table: Arc<Table>,
    /// The inputs, servers first; dropping them closes every connection.
    pub inputs: Inputs,
    /// Standard input is one of the inputs, and a terminal.
    pub reads_a_terminal: bool,
    /// When the run is to stop, as the caller decided: handed to the inputs, the servers and
    /// the screen, which ask nothing else.
    pub stop: Stop,
}

/// Checks `config` and reads what its flags name; warnings (an unknown `--command`,
/// `--tls-insecure`) go to `warn`. `stop` ends what may wait (the password prompt, a cluster's
/// topology, the run's reading): [`Stop::signals`] for the process, [`Stop::never`] for a run
/// no signal ends.
pub fn resolve(config: Config, stop: Stop, warn: &mut dyn Write) -> Result<Plan, Error> {
    check(&config)?;
    // Said before anything is read or connected to.
    if config.files.iter().map(Input::parse).filter(Input::is_stdin).count() > 1 {
        return Err(UsageError("standard input ('-') can be read only once".into()).into());
    }
    let table = match &config.commands {
        Some(path) => {
            let commands = crate::commands::server::load(std::path::Path::new(path)).map_err(Error::Refused)?;
            Arc::new(Table::with_server(commands))
        }
        None => Table::shared(),
    };
    let mut inputs = Inputs::new(servers(&config, stop, warn)?, &config.files);
    inputs.ports = config.ports.clone();
    inputs.stop = stop;
    // A run that ends at a time looks at the clock while it waits, even for files.
    inputs.ticking = config.duration.is_some();
    if let Some(rejects) = &config.rejects {
        check_rejects(rejects, &inputs.list)?;
    }
    unknown_commands_named(&config, &table, warn);
    let reads_a_terminal =
        inputs.list.iter().any(Input::is_stdin) && std::io::IsTerminal::is_terminal(&std::io::stdin());
    Ok(Plan { config, table, inputs, reads_a_terminal, stop })
}

/// The checks that involve more than one flag, and need nothing but the flags.
pub(crate) fn check(config: &Config) -> Result<(), UsageError> {
    match (config.every, config.window) {
        (None, Some(_)) => return Err(UsageError("--window needs --every".into())),
        (Some(every), Some(window)) if window < every || window % every != 0 => {
            return Err(UsageError("--window must be a whole multiple of --every".into()))
        }
        (Some(every), Some(window)) if window / every > crate::count::window::MAX_PERIODS => {
            return Err(UsageError(format!(
                "--window may span at most {} periods of --every (each keeps a summary)",
                crate::count::window::MAX_PERIODS
            )))
        }
        _ => {}
    }
    if config.emit.is_some() && config.format == ReportFormat::Json {
        return Err(UsageError(
            "--format json shapes the report, and --emit writes records instead of it: use one or the other".into(),
        ));
    }
    if config.header && config.emit != Some(Emit::Keys) {
        return Err(UsageError(
            "--header names the columns of --emit keys (tsv records have a varying number of columns)".into(),
        ));
    }
    if (config.cluster || config.imonitor.is_some()) && config.connect.is_empty() {
        return Err(UsageError("--cluster and --imonitor need a --connect target (a seed node, a proxy)".into()));
    }
    if config.cluster && config.imonitor.is_some() {
        return Err(UsageError(
            "--cluster connects to the nodes themselves, --imonitor goes through a proxy: use one or the other".into(),
        ));
    }
    if config.tls.is_set() && !cfg!(feature = "tls") {
        return Err(UsageError(format!(
            "--tls-ca, --tls-cert, --tls-key, --sni, --tls-insecure: {}",
            crate::read::connect::NO_TLS
        )));
    }
    if config.replicas && !config.cluster {
        return Err(UsageError("--replicas goes with --cluster".into()));
    }
    if config.every.is_some() && config.emit.is_some() {
        return Err(UsageError(
            "--every makes rolling reports, and --emit writes records as they come: use one or the other".into(),
        ));
    }
    if config.connect.is_empty() && (config.password_file.is_some() || config.askpass) {
        return Err(UsageError("--password-file and --askpass are for --connect".into()));
    }
    Ok(())
}

/// The servers of `--connect`, with the password found for them: each target, or the node
/// indexes behind it (`--imonitor`), or the nodes of its cluster (`--cluster`).
fn servers(config: &Config, stop: Stop, warn: &mut dyn Write) -> Result<Vec<connect::Node>, Error> {
    use connect::{Monitor, Node};
    if config.connect.is_empty() {
        return Ok(Vec::new());
    }
    let access =
        connect::NodeAccess::find(&config.connect, config.password_file.as_ref(), config.askpass, &config.tls, stop)
            .map_err(Error::Refused)?;
    let access = std::sync::Arc::new(access);
    if config.tls.insecure {
        let _ = writeln!(
            warn,
            "faina-filter: --tls-insecure: the servers' certificates are NOT checked: whoever answers gets the password and the stream"
        );
    }
    let mut nodes: Vec<Node> = Vec::new();
    for target in &config.connect {
        let seed = Node::new(target.clone(), Monitor::All, access.clone());
        let failed = |why: String| Error::Connect(format!("{}: {why}", seed.name()));
        if config.cluster {
            for member in connect::topology::cluster_nodes(&seed).map_err(failed)? {
                let node = Node::new(member.target(target), Monitor::All, access.clone());
                if !member.usable {
                    let _ = writeln!(
                        warn,
                        "faina-filter: {}: a cluster node marked failed or without an address is left out",
                        seed.name()
                    );
                } else if (member.primary || config.replicas)
                    && !nodes.iter().any(|n| n.target.addr == node.target.addr)
                {
                    nodes.push(node);
                }
            }
        } else if let Some(indexes) = &config.imonitor {
            for monitor in indexes.resolve(&seed).map_err(failed)? {
                nodes.push(Node::new(target.clone(), monitor, access.clone()));
            }
        } else {
            nodes.push(seed);
        }
    }
    Ok(nodes)
}

/// Says so when `--command` names a command the table does not know (a typo, `gett`): it then
/// matches only the unknown commands of that name.
fn unknown_commands_named(config: &Config, table: &Table, warn: &mut dyn Write) {
    for name in &config.filters.commands {
        let mut words = name.splitn(2, |&b| b == b'|');
        let first = words.next().unwrap_or_default();
        let known = match table.lookup(first, words.next()) {
            Lookup::Known(id, n) => n == 2 || !name.contains(&b'|') || table.get(id).name.as_bytes() == &name[..],
            Lookup::Unknown => false,
        };
        if !known {
            let _ = writeln!(
                warn,
                "faina-filter: --command '{}' is no command the table knows: it matches only unknown commands of that name",
                escape::escaped(name)
            );
        }
    }
}

/// Refuses a rejects file that would destroy data: one that is also an input, or an existing
/// file with something in it (a capture named by mistake: `--rejects capture.txt`), or the file
/// standard output or standard error already write to (`--rejects /dev/stdout > out.txt`: both
/// would write over each other; on a terminal, rejected lines would reach it raw). A device
/// that is no terminal (`/dev/null`) may be both.
fn check_rejects(path: &OsStr, inputs: &[Input]) -> Result<(), Error> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let shown = escape::escaped(path.as_encoded_bytes());
    let Ok(meta) = std::fs::metadata(path) else { return Ok(()) };
    let same = |m: &std::fs::Metadata| m.dev() == meta.dev() && m.ino() == meta.ino();
    if inputs.iter().any(|input| input.metadata().is_some_and(|m| same(&m))) {
        return Err(Error::Refused(format!("--rejects: '{shown}' is also an input: name another file")));
    }
    let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
    for (name, fd) in [("standard output", stdout.as_fd()), ("standard error", stderr.as_fd())] {
        let Ok(out) = fd.try_clone_to_owned().map(std::fs::File::from) else { continue };
        let plain_device = meta.file_type().is_char_device() && !std::io::IsTerminal::is_terminal(&out);
        if out.metadata().is_ok_and(|m| same(&m)) && !plain_device {
            return Err(Error::Refused(format!(
                "--rejects: '{shown}' is where {name} goes: the two would write over each other (name another file)"
            )));
        }
    }
    if meta.is_file() && meta.len() > 0 {
        return Err(Error::Refused(format!(
            "--rejects: '{shown}' exists and is not empty: refusing to overwrite it (remove it, or name another file)"
        )));
    }
    Ok(())
}
