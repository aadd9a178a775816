//! The flag table rendered for people: `--help` ([`help`]) and the man page's OPTIONS section
//! ([`man_options`]), both from [`crate::cli::flags::FLAGS`], so neither can say what the parser
//! does not do (`tests/it/docs.rs` checks the man page against it). The manual itself is
//! [`MANUAL`].
//!
//! Man text uses a small markup: `**bold**`, `__italic__`, paragraphs split by a blank line.

use crate::cli::flags::{Flag, Section, FLAGS};

/// What `--help` prints: the flags come from [`crate::cli::flags::FLAGS`].
pub fn help() -> String {
    format!(
        "\
faina-filter: find the hot keys overloading a Redis node, from its MONITOR stream

Usage: faina-filter [OPTIONS] [--connect TARGET...] [FILE...]

Connects to servers and reads their MONITOR stream (--connect), or reads raw MONITOR output
(redis-cli monitor, or telnet/nc with +OK and CRLF), packet captures (tcpdump -w: pcap, pcapng)
or its own --emit tsv records, from standard input or the FILEs ('-' is standard input; a FIFO or
pipe is read as a live stream too). Several FILEs are several nodes, read at once and labelled
NAME=PATH or by file name. Prints a hot-key report at the end (or every period), or passes
normalized tab-separated records through for sort, awk and friends.

{}\
Keys and arguments are always written escaped (\\\\ \\t \\n \\r, and \\xHH for other control bytes,
C1 and bidirectional controls included, and for bytes that are not valid UTF-8; other UTF-8 as
is), so no control byte reaches the terminal and every record is one line.

Exit status: 0 on success (also when the reader of the output went away, or Ctrl-C, SIGTERM
or SIGHUP ended the run and its report was written), 1 when an input cannot be read, no
--connect server could be read, or the output cannot be written (standard output closed
included), 2 on a usage error or a file a flag names that cannot be used (--commands,
--password-file, --rejects), 130 (143, 129) when a second Ctrl-C (SIGTERM, SIGHUP), or one
while the output was blocked, ended it.

Examples:
  faina-filter --connect redis://HOST:6379 --every 10s
  REDISCLI_AUTH=... faina-filter --connect redis://user@HOST:6379 --duration 60s
  redis-cli -h HOST monitor | faina-filter
  telnet HOST 6379 | faina-filter --every 10s --hot-qps 3000
  faina-filter --connect redis://n1:6379 --cluster --every 10s
  faina-filter --connect redis://PROXY:6379 --imonitor all --every 10s
  faina-filter capture.txt
  redis-cli monitor | faina-filter --emit keys | cut -f5 | sort | uniq -c | sort -rn | head

The manual (faina-filter --man; man faina-filter once installed as the README says) says more
about each option, the report and the records.
",
        help_text()
    )
}

/// The manual page, as `man/faina-filter.1` has it: `--man` shows it, so it is there wherever the
/// binary is, installed by `cargo install` or copied alone.
pub const MANUAL: &str = include_str!("../../man/faina-filter.1");

/// The flag as `--help` names it: `  -h, --help` or `      --top N`.
fn help_name(flag: &Flag) -> String {
    let short = flag.short.map_or("    ".to_string(), |c| format!("-{c}, "));
    let value = flag.value.map_or(String::new(), |v| format!(" {v}"));
    format!("  {short}--{}{value}", flag.long)
}

/// The flags part of `--help`: a heading per section, a line (or a few) per flag.
pub fn help_text() -> String {
    const COLUMN: usize = 31;
    const WIDTH: usize = 100;
    let mut out = String::new();
    for section in Section::ALL {
        out.push_str(section.title());
        out.push_str(":\n");
        for flag in FLAGS.iter().filter(|f| f.section == section) {
            let mut text = flag.help.to_string();
            if let Some(default) = flag.default {
                text.push_str(&format!(" [default: {default}]"));
            }
            let name = help_name(flag);
            let mut line = format!("{name:<width$}", width = COLUMN);
            if name.len() >= COLUMN {
                line = format!("{name}\n{:COLUMN$}", "");
            }
            let mut used = COLUMN;
            for word in text.split(' ') {
                if used > COLUMN && used + 1 + word.len() > WIDTH {
                    line.push('\n');
                    line.push_str(&" ".repeat(COLUMN));
                    used = COLUMN;
                }
                if used > COLUMN {
                    line.push(' ');
                    used += 1;
                }
                line.push_str(word);
                used += word.chars().count();
            }
            out.push_str(&line);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

/// The man page's OPTIONS section, in roff, from `.SH OPTIONS` to the next section.
pub fn man_options() -> String {
    let mut out = String::from(".SH OPTIONS\n");
    for section in Section::ALL {
        out.push_str(&format!(".SS \"{}\"\n", roff_text(section.title())));
        if !section.intro().is_empty() {
            out.push_str(&roff_paragraphs(section.intro(), ""));
        }
        for flag in FLAGS.iter().filter(|f| f.section == section) {
            out.push_str(".TP\n");
            out.push_str(&man_name(flag));
            let mut doc = flag.doc.to_string();
            if let Some(default) = flag.default {
                doc.push_str(&format!("\nDefault: **{default}**."));
            }
            out.push_str(&roff_paragraphs(&doc, ""));
        }
    }
    out
}

/// The `.TP` tag of a flag: `.BI \-\-top " N"`, `.BR \-\-format " " text | json`.
fn man_name(flag: &Flag) -> String {
    let long = format!("\\-\\-{}", flag.long.replace('-', "\\-"));
    let name = match flag.short {
        Some(c) => format!("\\-{c} \", \" {long}"),
        None => long,
    };
    match flag.value {
        None if flag.short.is_some() => format!(".BR {name}\n"),
        None => format!(".B {name}\n"),
        Some(choices) if choices.contains('|') => {
            let alternatives: Vec<&str> = choices.split('|').collect();
            format!(".BR {name} \" \" {}\n", alternatives.join(" | "))
        }
        Some(value) => format!(".BI {name} \" {value}\"\n"),
    }
}

/// Paragraphs of markup as roff, one sentence a line; `first` opens the first paragraph (`.PP`,
/// or nothing right after a heading or a `.TP` tag), `.IP` opens the others (they stay indented
/// under a `.TP` tag).
fn roff_paragraphs(text: &str, first: &str) -> String {
    let mut out = String::new();
    for (n, paragraph) in text.split("\n\n").enumerate() {
        out.push_str(if n == 0 { first } else { ".IP\n" });
        let words: Vec<&str> = paragraph.split_whitespace().collect();
        let mut line = String::new();
        for (i, word) in words.iter().enumerate() {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
            let next_starts_sentence = words.get(i + 1).is_some_and(|w| w.starts_with(char::is_uppercase));
            if word.ends_with('.') && next_starts_sentence {
                out.push_str(&roff_line(&line));
                line.clear();
            }
        }
        if !line.is_empty() {
            out.push_str(&roff_line(&line));
        }
    }
    out
}

/// One line of markup as roff: `**bold**`, `__italic__`, `\` before a character takes it as it
/// is; roff's own special characters escaped; protected from being read as a request.
fn roff_line(line: &str) -> String {
    let mut out = String::new();
    let (mut bold, mut italic) = (false, false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    out.push_str(&roff_text(&next.to_string()));
                }
            }
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                out.push_str(if bold { "\\fR" } else { "\\fB" });
                bold = !bold;
            }
            '_' if chars.peek() == Some(&'_') => {
                chars.next();
                out.push_str(if italic { "\\fR" } else { "\\fI" });
                italic = !italic;
            }
            c => out.push_str(&roff_text(&c.to_string())),
        }
    }
    if out.starts_with('.') || out.starts_with('\'') {
        out.insert_str(0, "\\&");
    }
    out.push('\n');
    out
}

/// Text with roff's special characters escaped: a backslash, and `-` as a minus.
fn roff_text(text: &str) -> String {
    text.replace('\\', "\\e").replace('-', "\\-")
}
