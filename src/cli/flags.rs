//! Every command-line flag, defined once (as ripgrep's `defs`): its name, value, default, the
//! line `--help` shows, the text the man page shows, and what it sets in the [`Config`]: a plain
//! value, never a file read (that is [`crate::cli::resolve()`]'s). `--help` is rendered from this
//! table at run time ([`crate::cli::doc`]) and the man page's OPTIONS section from it by a test
//! that fails on any difference (`tests/it/docs.rs`), so the three cannot drift apart.
//!
//! Doc text uses a small markup: `**bold**`, `__italic__`, paragraphs split by a blank line.

use std::ffi::OsString;

use crate::cli::config::Emit;
use crate::cli::config::{Config, ReportFormat};
use crate::error::UsageError;

/// Where a flag is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Connect,
    Report,
    Rolling,
    Records,
    Filters,
    Input,
    Info,
}

impl Section {
    pub const ALL: [Section; 7] = [
        Section::Connect,
        Section::Report,
        Section::Rolling,
        Section::Records,
        Section::Filters,
        Section::Input,
        Section::Info,
    ];

    /// The heading in `--help` and the man page.
    pub fn title(self) -> &'static str {
        match self {
            Section::Connect => "Live capture (the filter connects and sends MONITOR itself)",
            Section::Report => "Report",
            Section::Rolling => "Rolling reports (for live streams)",
            Section::Records => "Records (instead of the report)",
            Section::Filters => "Filters (before anything is counted or written; each may be repeated)",
            Section::Input => "Input",
            Section::Info => "Information",
        }
    }

    /// A paragraph the man page puts before the section's flags.
    pub fn intro(self) -> &'static str {
        match self {
            Section::Connect => {
                "With **--connect** the filter opens the MONITOR stream itself: it connects, \
                 authenticates, sends **MONITOR**, checks the **+OK** and reads the stream, so every \
                 report, **--every**, the screen and the records work on it as on a pipe, FILE inputs \
                 alongside. The socket is always drained: when the output cannot keep up (a stalled \
                 **| less**), lines are dropped and counted rather than left in the server's buffer (the report \
                 says how many, as **dropped**), and every exit (end, **--duration**, Ctrl-C, SIGTERM, SIGHUP, a write error) closes every \
                 connection. A server that vanishes without closing its connection (its host down, the \
                 network cut) is found lost after at most 11 s of silence, by TCP keepalive (probes after 5 s \
                 of silence, every 2 s, 3 unanswered); a live server's kernel answers them, however quiet \
                 its stream. Passwords never come from the command line: **--password-file**, \
                 **REDISCLI_AUTH**, or **--askpass**."
            }
            Section::Filters => {
                "The filters apply before anything is counted or written, to reports and records alike; \
                 each may be given more than once (any of its values matches), and different filters must \
                 all match. Commands left out are counted as filtered, so lines read = commands + filtered \
                 + noise + skipped."
            }
            _ => "",
        }
    }
}

/// What a flag does when given.
pub enum Apply {
    Help,
    Version,
    Manual,
    /// A flag without a value.
    Switch(fn(&mut Config)),
    /// A flag with a value: the flag's name (for messages), the value.
    Value(fn(&mut Config, &str, OsString) -> Result<(), UsageError>),
}

/// One flag.
pub struct Flag {
    pub long: &'static str,
    pub short: Option<char>,
    /// The value's name (`N`, `DURATION`), or its choices (`text|json`).
    pub value: Option<&'static str>,
    pub default: Option<&'static str>,
    pub section: Section,
    /// What `--help` says, in a few words.
    pub help: &'static str,
    /// What the man page says.
    pub doc: &'static str,
    pub apply: Apply,
}

/// Every flag, in the order `--help` and the man page list them.
pub const FLAGS: &[Flag] = &[
    Flag {
        long: "connect",
        short: None,
        value: Some("TARGET"),
        default: None,
        section: Section::Connect,
        help: "connect to a server and read its MONITOR stream: redis://[user@]host[:port], host:port, \
               unix:///path/to/sock; NAME=TARGET labels it; repeat for several nodes",
        doc: "Connect to a server and read its MONITOR stream. __TARGET__ is written as redis-cli and the \
              client libraries write it: **redis://**[__user__**@**]__host__[**:**__port__][**/**__db__], \
              __host__**:**__port__, **[**__ipv6__**]:**__port__, or **unix://**__/path/to/redis.sock__; \
              **NAME=**__TARGET__ labels the node as **NAME=**__PATH__ does. Repeat it for several nodes. \
              A user in the URL authenticates as that ACL user (**AUTH** __user password__); a password \
              in the URL is refused (it would show in **ps** and the shell's history). MONITOR shows \
              every db, so a db in the URL changes nothing (**--db** keeps one).\n\n\
              The node is labelled by its address (or NAME) when there are several inputs. A connection \
              that breaks after it was read is retried, after 0.5 s and then twice as long each time up \
              to 30 s; the node is said lost (since when, and why), retrying, and connected again with \
              how long it was lost: what it ran in that gap was not seen and is not guessed. A node that \
              refuses (NOAUTH, WRONGPASS, no MONITOR command) or cannot be reached at the first attempt \
              is given up at once, with a line naming it and what to do; when no node could be read at \
              all the exit status is 1.\n\n\
              **rediss://**[__user__**@**]__host__[**:**__port__] connects with TLS (see **--tls-ca**), \
              in builds with the cargo feature **tls**.",
        apply: Apply::Value(|c, flag, v| {
            let value = v.into_string().map_err(|_| UsageError(format!("{flag}: the target is not valid UTF-8")))?;
            let target = crate::read::connect::Target::parse(&value).map_err(|e| UsageError(format!("{flag}: {e}")))?;
            c.connect.push(target);
            Ok(())
        }),
    },
    Flag {
        long: "password-file",
        short: None,
        value: Some("FILE"),
        default: None,
        section: Section::Connect,
        help: "the password for --connect: the first line of FILE",
        doc: "The password for **--connect**: the first line of __FILE__ (its line end left out). \
              Without it, the environment variable **REDISCLI_AUTH** is used, as redis-cli uses it. \
              The password is sent with **AUTH** and never written anywhere: not in messages, reports, \
              records or **--rejects**.",
        apply: Apply::Value(|c, _, v| {
            c.password_file = Some(v);
            Ok(())
        }),
    },
    Flag {
        long: "askpass",
        short: None,
        value: None,
        default: None,
        section: Section::Connect,
        help: "ask for the password for --connect on the terminal, without echo",
        doc: "Ask for the password for **--connect** on the terminal (standard input), without echo. \
              It is asked for too when a URL names a user and neither **--password-file** nor \
              **REDISCLI_AUTH** gives a password.",
        apply: Apply::Switch(|c| c.askpass = true),
    },
    Flag {
        long: "imonitor",
        short: None,
        value: Some("N[,M...]|all"),
        default: None,
        section: Section::Connect,
        help: "through a cluster proxy (Alibaba Cloud's and the like): one connection per node index, \
               sending IMONITOR N; indexes, ranges (0-3), N:R for replica R of node N (RIMONITOR N R), \
               or all (the proxy's INFO nodecount)",
        doc: "Through a cluster proxy that has **IMONITOR** (Alibaba Cloud's and the like): for each \
              **--connect** target, one connection per node index, each sending **IMONITOR** __N__ and \
              labelled by its index (**NAME/**__N__ when the target is labelled). Indexes are written \
              **0,2**, as ranges **0-3**, or **all**, which asks the proxy's **INFO** for its \
              **nodecount**; __N__**:**__R__ monitors replica __R__ of node __N__ (**RIMONITOR** __N R__), \
              labelled __N__**:**__R__. A proxy without IMONITOR (or RIMONITOR) is refused with what to \
              do instead.",
        apply: Apply::Value(|c, flag, v| {
            let value = text(flag, v)?;
            let indexes = crate::read::connect::topology::Indexes::parse(&value)
                .map_err(|e| UsageError(format!("{flag}: {e}")))?;
            c.imonitor = Some(indexes);
            Ok(())
        }),
    },
    Flag {
        long: "cluster",
        short: None,
        value: None,
        default: None,
        section: Section::Connect,
        help: "the --connect target is a seed node of a Redis Cluster: monitor every primary it names",
        doc: "The **--connect** target is a seed node of a Redis Cluster: the filter asks it for the \
              cluster's nodes (**CLUSTER SHARDS**, or **CLUSTER NODES** before Redis 7.0) and monitors \
              every primary, each labelled by its address, so Top Nodes and the node of each top key \
              come with the report. Nodes marked failed or without an address are left out, and said. \
              The topology is read once, at the start.",
        apply: Apply::Switch(|c| c.cluster = true),
    },
    Flag {
        long: "replicas",
        short: None,
        value: None,
        default: None,
        section: Section::Connect,
        help: "with --cluster, monitor the replicas too (reads sent to replicas show there)",
        doc: "With **--cluster**, monitor the replicas as well as the primaries: reads that clients \
              send to replicas (**READONLY**) show only there.",
        apply: Apply::Switch(|c| c.replicas = true),
    },
    Flag {
        long: "tls-ca",
        short: None,
        value: Some("FILE"),
        default: None,
        section: Section::Connect,
        help: "for rediss://, check the server's certificate against the CA certificates of FILE (PEM) \
               instead of the system's",
        doc: "For **rediss://** targets, check the server's certificate against the CA certificates in \
              __FILE__ (PEM) instead of the system's. The certificate must be for the host of the URL, \
              or for the name given with **--sni**. TLS is in builds with the cargo feature **tls** \
              (see Install in the README); without it **rediss://** and these options say so, and \
              **redis-cli** with its TLS options and **monitor**, piped to **faina-filter**, reads the \
              same stream.",
        apply: Apply::Value(|c, _, v| {
            c.tls.ca = Some(v);
            Ok(())
        }),
    },
    Flag {
        long: "tls-cert",
        short: None,
        value: Some("FILE"),
        default: None,
        section: Section::Connect,
        help: "for rediss://, the client certificate (PEM), with --tls-key",
        doc: "For **rediss://** targets, the client certificate chain to present (PEM), for servers \
              that ask for one (**tls-auth-clients yes**); with **--tls-key**.",
        apply: Apply::Value(|c, _, v| {
            c.tls.cert = Some(v);
            Ok(())
        }),
    },
    Flag {
        long: "tls-key",
        short: None,
        value: Some("FILE"),
        default: None,
        section: Section::Connect,
        help: "for rediss://, the private key of --tls-cert (PEM)",
        doc: "For **rediss://** targets, the private key of **--tls-cert** (PEM, unencrypted).",
        apply: Apply::Value(|c, _, v| {
            c.tls.key = Some(v);
            Ok(())
        }),
    },
    Flag {
        long: "sni",
        short: None,
        value: Some("NAME"),
        default: None,
        section: Section::Connect,
        help: "for rediss://, the server name sent (SNI) and checked in its certificate, instead of the host",
        doc: "For **rediss://** targets, the server name sent in the handshake (SNI) and looked for in \
              the server's certificate, instead of the host of the URL (as redis-cli's **--sni**): to \
              connect by address to a server whose certificate names it.",
        apply: Apply::Value(|c, flag, v| {
            c.tls.sni = Some(text(flag, v)?);
            Ok(())
        }),
    },
    Flag {
        long: "tls-insecure",
        short: None,
        value: None,
        default: None,
        section: Section::Connect,
        help: "for rediss://, do NOT check the server's certificate (said on stderr at every run)",
        doc: "For **rediss://** targets, take any certificate the server shows: the stream is \
              encrypted, but to whoever answers, password included. Said on standard error at every \
              run. For a test server with a self-made certificate; give its CA with **--tls-ca** \
              instead where you can.",
        apply: Apply::Switch(|c| c.tls.insecure = true),
    },
    Flag {
        long: "duration",
        short: None,
        value: Some("DURATION"),
        default: None,
        section: Section::Connect,
        help: "end the run after DURATION (10s, 1m, 1h), as Ctrl-C would, for any input",
        doc: "End the run after __DURATION__ (**10s**, **1m**, **1h**), for any input, as the first \
              Ctrl-C would: the report of what was read is written, every connection is closed, and \
              the exit status is 0 (130 if the output was blocked and the report could not be written).",
        apply: Apply::Value(|c, flag, v| {
            c.duration = Some(duration(flag, v)?);
            Ok(())
        }),
    },
    Flag {
        long: "top",
        short: None,
        value: Some("N"),
        default: Some("10"),
        section: Section::Report,
        help: "rows per section, 1 to 5000 (more is taken as 5000; Slowest Calls lists at most 100)",
        doc: "Rows per report section, from 1 to 5000: a larger __N__ is taken as 5000. A report is \
              built whole before it is written, so its rows cost memory besides the tables \
              **--max-keys** bounds: at 5000 rows, with a window of 100 periods and every key, \
              command and client distinct, the process stays under 48 MiB (measured: 37 to 39 \
              MiB). Slowest Calls lists at most 100 calls (each period of a window keeps its own). \
              **--top 0** is refused (exit status 2): a report shows at least one row of each \
              section.",
        apply: Apply::Value(|c, flag, v| {
            c.top = number(flag, v, 1)?.min(crate::cli::config::MAX_TOP);
            Ok(())
        }),
    },
    Flag {
        long: "prefix-delimiter",
        short: None,
        value: Some("STR"),
        default: Some(":"),
        section: Section::Report,
        help: "what separates key prefixes",
        doc: "What separates the parts of a key, for Top Prefixes.",
        apply: Apply::Value(|c, flag, v| {
            let value = text(flag, v)?;
            if value.is_empty() {
                return Err(UsageError(format!("{flag}: the delimiter cannot be empty")));
            }
            c.prefix_delimiter = value.into_bytes();
            Ok(())
        }),
    },
    Flag {
        long: "prefix-depth",
        short: None,
        value: Some("N"),
        default: Some("1"),
        section: Section::Report,
        help: "delimiters a prefix spans",
        doc: "How many delimiters a prefix spans: **user:1000:name** has the prefix **user:** at depth 1 \
              and **user:1000:** at depth 2. Keys with fewer delimiters are counted apart.",
        apply: Apply::Value(|c, flag, v| {
            c.prefix_depth = number(flag, v, 1)?;
            Ok(())
        }),
    },
    Flag {
        long: "redis-version",
        short: None,
        value: Some("VER"),
        default: Some("6.2.4"),
        section: Section::Report,
        help: "the server's version: before 6.2.4 a command's line was written before it ran, so each \
               gap is charged to the earlier line (6.2.4 and later: to the later line)",
        doc: "The version of the server the capture comes from. Redis 6.2.4 and later write a command's \
              line after running it, so the gap before a line is that command's time; older servers \
              wrote the line before running the command, and with a version before 6.2.4 each gap is \
              charged to the earlier line instead.",
        apply: Apply::Value(|c, flag, v| {
            let value = text(flag, v)?;
            c.gap_rule = crate::cli::config::gap_rule_for(&value)
                .ok_or_else(|| UsageError(format!("{flag}: '{value}' is not a version such as 2.8, 6.2.3 or 7.0")))?;
            Ok(())
        }),
    },
    Flag {
        long: "format",
        short: None,
        value: Some("text|json"),
        default: Some("text"),
        section: Section::Report,
        help: "the report as text, or as one JSON object on one line",
        doc: "The report as text, or as one JSON object on one line (see **OUTPUT**).",
        apply: Apply::Value(|c, flag, v| {
            c.format = match text(flag, v)?.as_str() {
                "text" => ReportFormat::Text,
                "json" => ReportFormat::Json,
                other => return Err(UsageError(format!("{flag}: '{other}' is not text or json"))),
            };
            Ok(())
        }),
    },
    Flag {
        long: "max-keys",
        short: None,
        value: Some("N"),
        default: Some("50000"),
        section: Section::Report,
        help: "distinct keys counted exactly (half as many for bytes per key, a quarter for prefixes, \
               clients and unknown commands); past it the heaviest are kept with error bounds, and \
               the whole process stays under 32 MiB with the default",
        doc: "How many distinct keys are counted exactly. Past it the key table keeps the heaviest with \
              the Space-Saving algorithm: every key whose count exceeds total/__N__ is kept, and a count \
              that may include evicted keys is shown as an upper bound with its largest possible error.\n\n\
              The table of bytes per key keeps __N__/2 keys; the prefix, client and unknown-command \
              tables __N__/4 names each. Slots are counted exactly (16384 counters) while a period is \
              under way; a closed period of a **--window** keeps its __N__/4 heaviest slots. Each entry \
              takes about 100 bytes. Names over 30 bytes take their length besides, up to 32 bytes per \
              entry in all: past that, a long name is kept by its first 30 bytes, its length and its \
              hash (shown cut, with its length), and a heavy key gets its whole name back at a later \
              access once evictions free room. Every other name the filter keeps is kept the same way, \
              by its first 512 bytes, its length and its hash, and shown cut with its length: prefixes, \
              clients, unknown command names, node labels of records read back (at most 1024 nodes), \
              and the client and timestamp of each slowest call (their first 128 and 40 bytes; its \
              arguments are cut to 120 bytes).\n\n\
              With **--every** and a window of __P__ periods, the periods kept (the window's, and the one \
              under way) share this memory with the report: each period's tables hold __N__/(2(__P__+1)) \
              keys (at least 100), and a report merges them into tables of __N__/2, which always hold \
              their union. A file read on two cores (see **DESCRIPTION**) shares it the same way: each \
              half counts into tables of __N__/2 keys, joined into tables of __N__, which always hold \
              their union; every count still brackets the truth, every key whose count exceeds \
              2 total/__N__ is kept, and the top keys of a skewed capture are exact (on 2 million lines \
              of 250 000 Zipf keys, the top 20 are the true top 20 with their exact counts, as in one \
              pass). Reading shares 6 MiB among the inputs \
              (see **DESCRIPTION** for how an input's line limit shrinks as inputs are added).\n\n\
              So the default keeps the whole process under 32 MiB however many distinct keys there are \
              (measured on 3 million lines whose keys, commands and clients are all distinct: 20 MiB, 23 \
              MiB read on two cores; \
              22 MiB with a window of 100 periods; 25 MiB read as 20 inputs, 28 MiB as 100). Each input \
              past a hundred adds about 50 KiB: its thread and its smallest buffers.",
        apply: Apply::Value(|c, flag, v| {
            c.max_keys = number(flag, v, 1)?;
            Ok(())
        }),
    },
    Flag {
        long: "hot-qps",
        short: None,
        value: Some("N"),
        default: None,
        section: Section::Report,
        help: "mark keys at or above N accesses per second, and count them",
        doc: "Mark keys whose rate reaches __N__ accesses per second (Alibaba Cloud treats 3000 as hot), \
              and say how many keys crossed it. Without **--every** the rate is over the whole input's \
              time span; with it, a key is hot by its rate now (over the last full period), so a key \
              that stops is no longer marked a period later, whatever the window's rate still says.",
        apply: Apply::Value(|c, flag, v| {
            let value = text(flag, v)?;
            match value.parse::<f64>() {
                Ok(q) if q > 0.0 && q.is_finite() => c.hot_qps = Some(q),
                _ => return Err(UsageError(format!("{flag}: '{value}' is not a positive rate"))),
            }
            Ok(())
        }),
    },
    Flag {
        long: "every",
        short: None,
        value: Some("DURATION"),
        default: None,
        section: Section::Rolling,
        help: "a report per period (500ms, 1.5s, 10s, 1m, 1h), aligned to multiples of the period since the \
               epoch, by the MONITOR timestamps",
        doc: "A report per period instead of one at the end: **500ms**, **1.5s**, **10s**, **1m**, **1h** \
              (a fraction of a unit is fine as long as it comes to whole microseconds). Periods \
              follow the MONITOR timestamps and are aligned to multiples of the period since the epoch, \
              so two nodes' reports line up and a replayed capture gives the same reports as the live \
              stream. Each report is headed by its window's start and end (UTC, ISO 8601).\n\n\
              When a live stream is silent, a period that has ended is still reported within about a \
              second (an empty period says so); a replayed file is never slowed by this. A line whose \
              timestamp falls in a period already reported is counted in the current one. A run of \
              empty windows is reported as one window spanning them.\n\n\
              Timestamps are followed while they are plausible: within twice the window (and a minute) \
              of the stream's clock, which for a live stream runs on with the wall clock while the \
              input is silent. A command further off is out of order: it is counted in the period \
              under way (and as **out of order** in the report) and moves no window. When the same \
              input's next command agrees with it, that input's clock jumped: a saved capture follows \
              a jump ahead to its timestamps; a live stream, or a capture whose clock went back, goes \
              on from where it was (by the wall clock, for a live stream), that input's timestamps \
              shifted by the jump. So a live stream gets a report every period whatever its \
              timestamps do, and inputs whose clocks disagree share one set of periods.\n\n\
              Each report gives each key its rate now, over the last full period (the first period, \
              when the stream started inside it, over the part it covered), and whether that is up, \
              down or steady (within a tenth, or half a command per second) against the period \
              before. At the end of the input (or at Ctrl-C) the last window reported is reported \
              once more, extended to the end of the input (for a live stream, the moment it ended; \
              for a file, its last timestamp), never an earlier or shorter one; its rates are over \
              the time it covers. Not with **--emit**, whose records flow as they come.",
        apply: Apply::Value(|c, flag, v| {
            c.every = Some(duration(flag, v)?);
            Ok(())
        }),
    },
    Flag {
        long: "window",
        short: None,
        value: Some("DURATION"),
        default: Some("the period"),
        section: Section::Rolling,
        help: "each report covers the last DURATION, a multiple of --every of at most 100 periods",
        doc: "Each rolling report covers the last __DURATION__ (a whole multiple of **--every**, at most \
              100 periods), for example every 10s over the last 60s. One summary per period is kept, \
              never the records.",
        apply: Apply::Value(|c, flag, v| {
            c.window = Some(duration(flag, v)?);
            Ok(())
        }),
    },
    Flag {
        long: "no-screen",
        short: None,
        value: None,
        default: None,
        section: Section::Rolling,
        help: "on a terminal, append each report instead of drawing it in place on one screen",
        doc: "With **--every**, when standard output is a terminal, each report is drawn in place on \
              one screen laid out for the terminal's size (see **SCREEN**); with **--no-screen** it is \
              appended as text, as it is when the output is a pipe or a file.",
        apply: Apply::Switch(|c| c.no_screen = true),
    },
    Flag {
        long: "emit",
        short: None,
        value: Some("tsv|keys"),
        default: None,
        section: Section::Records,
        help: "instead of the report, one line per command (tsv: timestamp, db, client, command, \
               arg1, arg2...) or per key access (keys: timestamp, db, client, command, key, \
               read|write, slot); with several inputs, a node column comes first; from a packet \
               capture, the reply's bytes and latency last",
        doc: "Instead of the report, write one record per command (**tsv**) or per key access \
              (**keys**), as described under **RECORDS**. Records are block-buffered, and flushed \
              whenever the input pauses, so a live stream shows them at once.",
        apply: Apply::Value(|c, flag, v| {
            c.emit = Some(match text(flag, v)?.as_str() {
                "tsv" => Emit::Tsv,
                "keys" => Emit::Keys,
                other => return Err(UsageError(format!("{flag}: '{other}' is not tsv or keys"))),
            });
            Ok(())
        }),
    },
    Flag {
        long: "header",
        short: None,
        value: None,
        default: None,
        section: Section::Records,
        help: "with --emit keys, first a line naming the columns (for ClickHouse's TSVWithNames, \
               DuckDB's header=true)",
        doc: "With **--emit keys**, write first a line naming the columns: **node** (with several \
              inputs), **timestamp**, **db**, **client**, **command**, **key**, **access**, \
              **slot**, and for a packet capture **reply_bytes** and **latency_us**; column stores \
              take it for their names (ClickHouse's **TSVWithNames**, DuckDB's **header=true**). It \
              is written with the first record. Off by default, so **sort** and **awk** see records only. \
              **--emit tsv** has a varying number of argument columns, so no such line.",
        apply: Apply::Switch(|c| c.header = true),
    },
    Flag {
        long: "db",
        short: None,
        value: Some("N"),
        default: None,
        section: Section::Filters,
        help: "only commands in db N",
        doc: "Only commands in db __N__.",
        apply: Apply::Value(|c, flag, v| {
            c.filters.dbs.push(number(flag, v, 0)? as u64);
            Ok(())
        }),
    },
    Flag {
        long: "command",
        short: None,
        value: Some("NAME"),
        default: None,
        section: Section::Filters,
        help: "only this command (either case; 'client' takes in its subcommands, 'client|setname' \
               or 'client setname' one of them)",
        doc: "Only this command, in either case; **client** takes in its subcommands, \
              **client|setname** (or **\"client setname\"**) one of them.",
        apply: Apply::Value(|c, flag, v| {
            let name = text(flag, v)?.to_ascii_lowercase().replace(' ', "|");
            c.filters.commands.push(name.into_bytes());
            Ok(())
        }),
    },
    Flag {
        long: "client",
        short: None,
        value: Some("ADDR"),
        default: None,
        section: Section::Filters,
        help: "only this client: ip:port, ip (any port), [ipv6]:port, [ipv6], lua, or unix",
        doc: "Only this client: an address with its port (**10.0.0.5:41000**, **[::1]:33802**), an \
              address without its port, any port (**10.0.0.5**, **[::1]**), **lua** (a script's own \
              calls), or **unix** (any unix socket).",
        apply: Apply::Value(|c, _, v| {
            let client = bytes(v);
            // An IPv6 address without its brackets: the server writes `[::1]:port`.
            if client.iter().filter(|&&b| b == b':').count() > 1 && !client.starts_with(b"[") {
                c.filters.clients.push([&b"["[..], &client, b"]"].concat());
            }
            c.filters.clients.push(client);
            Ok(())
        }),
    },
    Flag {
        long: "key",
        short: None,
        value: Some("GLOB"),
        default: None,
        section: Section::Filters,
        help: "only keys matching this Redis glob pattern (user:*, h?llo, [a-c]*)",
        doc: "Only keys matching this Redis glob pattern: **\\*** any bytes, **?** any one byte, **[a-z]** \
              one byte of a set, **[^a]** one byte not in it, **\\\\** the next byte as it is. \
              A command passes when one of its keys matches, and only the matching keys are counted or \
              written.",
        apply: Apply::Value(|c, _, v| {
            c.filters.keys.push(bytes(v));
            Ok(())
        }),
    },
    Flag {
        long: "commands",
        short: None,
        value: Some("FILE"),
        default: None,
        section: Section::Input,
        help: "find keys with a server's own command table, saved with 'redis-cli -h HOST --json COMMAND \
               > FILE' (Redis or Valkey 7+): module commands and commands newer than the built-in table",
        doc: "Find keys with a server's own command table, as **redis-cli -h** __HOST__ **--json COMMAND >** \
              __FILE__ saves it (Redis and Valkey 7 and later; a table without key specs, from an older server, \
              gives each command's keys by its first, last and step). Every command it lists, module \
              commands included, takes its keys from the file's key specs ahead of the built-in table; \
              for the few commands whose keys the server finds with a function of its own (SORT, \
              MIGRATE, GEORADIUS, XREAD…) the built-in function still decides what the specs cannot \
              say, and JSON.MGET and CMS.MERGE, which their modules register with their first key \
              only, keep the built-in rows that count every key they read. A file that is not such a \
              table is refused with the place of the first thing wrong in it, exit status 2; so is one \
              past the limits that keep reading it in bounded memory: 1 MiB (Redis 8's table with every \
              module is about 400 KiB, Redis 7's 68 KiB), 4096 commands, 32 key specs and 64 flags a \
              command, and names and keywords of 128 bytes; and so is a file that is missing or cannot \
              be read, named in the message. Given more than once, the last one is read.",
        apply: Apply::Value(|c, _, v| {
            c.commands = Some(v);
            Ok(())
        }),
    },
    Flag {
        long: "rejects",
        short: None,
        value: Some("FILE"),
        default: None,
        section: Section::Input,
        help: "write every skipped line (not a MONITOR line) to FILE, as read but for the credentials \
               still recognisable in it; FILE is made for its owner only, and must be new or empty and \
               not an input",
        doc: "Write every skipped line to __FILE__, as read (line ending included; of a line over 1 MiB, \
              its compacted copy, with its own line ending, CRLF kept), one line for each, to see what \
              was not understood.\n\n\
              Credentials that can still be recognised in a skipped line (the words **--no-redact** \
              lists, after a word naming their command, quoted or bare) are written **(redacted)**, \
              unless **--no-redact**; anything else is written as read, so treat the file as you would \
              the capture: it is created readable and writable by its owner only. __FILE__ must not be \
              an input (standard input included), must not already hold anything, and must not be where \
              standard output or standard error go (**/dev/stdout** while the report goes to a file: \
              the two would write over each other; a device such as **/dev/null** may be both): \
              faina-filter refuses such a file with exit status 2 rather than destroy a capture named \
              by mistake.",
        apply: Apply::Value(|c, _, v| {
            c.rejects = Some(v);
            Ok(())
        }),
    },
    Flag {
        long: "port",
        short: None,
        value: Some("PORT"),
        default: None,
        section: Section::Input,
        help: "in a packet capture, the server's port (may be repeated): requests are the bytes sent to \
               it; when not given, 6379 and any server told by its RESP replies",
        doc: "In a packet capture (an input that is a pcap or pcapng file, as **tcpdump -w** writes), the \
              port the server listens on; give it once per port when the capture holds several servers. \
              The bytes sent to one of these ports are read as requests, and the other end of the \
              connection is the client; no other connection is read. \
              When not given, port **6379**, and any connection on another port whose one end answers \
              the other's RESP requests with RESP replies (see **Packet captures**). \
              Other inputs ignore it.",
        apply: Apply::Value(|c, flag, v| {
            let port = v.to_str().and_then(|v| v.parse::<u16>().ok()).filter(|&p| p > 0);
            let port = port.ok_or_else(|| UsageError(format!("{flag}: a port is a number from 1 to 65535")))?;
            if !c.ports.contains(&port) {
                c.ports.push(port);
            }
            Ok(())
        }),
    },
    Flag {
        long: "no-redact",
        short: None,
        value: None,
        default: None,
        section: Section::Input,
        help: "show credentials (AUTH, HELLO AUTH, MIGRATE AUTH/AUTH2, CONFIG SET of sensitive configs, \
               ACL SETUSER/DELUSER/GETUSER, SENTINEL auth-pass, and the server errors quoting them) \
               instead of writing (redacted), following the server's own rules",
        doc: "Show credentials as they are. By default credentials are written as **(redacted)** in \
              records, reports and the **--rejects** file, following the server's own rules (Redis 6.2.4 \
              and later redact them in MONITOR themselves, but older servers show **AUTH** __password__ \
              in plain text, and current ones miss some): every argument of AUTH; the two arguments after \
              each AUTH option of HELLO, its options read one by one as the server reads them, also when \
              the protocol version is missing; MIGRATE's AUTH password and AUTH2 username and password; \
              the value of every config the server treats as sensitive in CONFIG SET (**requirepass**, \
              **masterauth**, **masteruser**, **primaryauth**, **primaryuser**, **tls-key-file-pass**, \
              **tls-client-key-file-pass**); every argument of ACL SETUSER and ACL DELUSER from the user \
              name on, and the user name of ACL GETUSER; the value of **auth-pass** in SENTINEL SET and \
              of **sentinel-pass** in SENTINEL CONFIG SET. A command the table does not know whose name \
              is one typo from AUTH, HELLO or MIGRATE (**AUHT**, **HELO**) is redacted as that command, \
              and a record read back that does not repeat its subcommand's word (**config|set** \
              **requirepass** __PW__) is read with the word put back. A position that holds a secret is \
              never counted as a key, whatever a **--commands** table says.\n\n\
              Server errors are shown on standard error with the same credentials redacted: the \
              arguments of an unknown command that carries credentials or is one typo from one \
              (**unknown command 'AUHT', with args beginning with: (redacted)**), the modifier ACL SETUSER \
              refused, and whatever else the rules recognise in the message.",
        apply: Apply::Switch(|c| c.redact = false),
    },
    Flag {
        long: "help",
        short: Some('h'),
        value: None,
        default: None,
        section: Section::Info,
        help: "print this help",
        doc: "Print the options and exit.",
        apply: Apply::Help,
    },
    Flag {
        long: "man",
        short: None,
        value: None,
        default: None,
        section: Section::Info,
        help: "show the manual (redirected: write its source, to install it as the README says)",
        doc: "Show this manual and exit: on a terminal through **man**(1), otherwise its source, so \
              that **faina-filter --man > ~/.cargo/share/man/man1/faina-filter.1** installs it for \
              **man faina-filter** (man-db finds it beside **~/.cargo/bin**).",
        apply: Apply::Manual,
    },
    Flag {
        long: "version",
        short: Some('V'),
        value: None,
        default: None,
        section: Section::Info,
        help: "print the version",
        doc: "Print the version and exit.",
        apply: Apply::Version,
    },
];

/// The flag named `--long`.
pub fn long(name: &str) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.long == name)
}

/// The flag named `-c`.
pub fn short(c: char) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.short == Some(c))
}

fn text(flag: &str, value: OsString) -> Result<String, UsageError> {
    value.into_string().map_err(|v| {
        UsageError(format!("{flag}: '{}' is not valid UTF-8", crate::format::escape::escaped(v.as_encoded_bytes())))
    })
}

fn bytes(value: OsString) -> Vec<u8> {
    value.into_encoded_bytes()
}

fn number(flag: &str, value: OsString, min: usize) -> Result<usize, UsageError> {
    let value = text(flag, value)?;
    match value.parse::<usize>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(UsageError(format!("{flag}: '{value}' is not a whole number of at least {min}"))),
    }
}

fn duration(flag: &str, value: OsString) -> Result<u64, UsageError> {
    let value = text(flag, value)?;
    crate::count::window::parse_duration(&value)
        .ok_or_else(|| UsageError(format!("{flag}: '{value}' is not a duration such as 500ms, 1.5s, 10s, 1m or 1h")))
}
