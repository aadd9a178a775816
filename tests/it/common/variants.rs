//! Calls built from a server's own `COMMAND DOCS`: every command (and subcommand) that takes a
//! key, in several variants of its argument tree — required arguments only, and every optional
//! argument too; each `oneof` choice in turn; a repeated argument once and twice — so a capture
//! holds the shapes a server's key rules have to tell apart.
//!
//! Values are chosen so the calls run quickly (blocking timeouts of 10 ms, a `MIGRATE` to a port
//! that refuses) and so counts agree with what follows them (`numkeys 2` before two keys). A call
//! the server then refuses (a wrong type, a bad value) is still in the capture, which is the point:
//! every line of it is checked.

use super::Resp;

/// One command's documentation: its full name (`object|encoding`) and its argument tree.
pub struct Doc {
    pub name: String,
    args: Vec<Resp>,
}

/// Every command and subcommand of a `COMMAND DOCS` reply (RESP2) that has a key argument.
pub fn keyed_docs(reply: &Resp) -> Vec<Doc> {
    let mut out = Vec::new();
    for pair in reply.array().chunks(2) {
        collect(&pair[0].text().to_lowercase(), &pair[1], &mut out);
    }
    out
}

fn collect(name: &str, doc: &Resp, out: &mut Vec<Doc>) {
    let args = match doc.get("arguments") {
        Some(Resp::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    if args.iter().any(has_key) {
        out.push(Doc { name: name.to_string(), args });
    }
    if let Some(Resp::Array(subs)) = doc.get("subcommands") {
        for pair in subs.chunks(2) {
            collect(&pair[0].text().to_lowercase(), &pair[1], out);
        }
    }
}

fn has_key(arg: &Resp) -> bool {
    text(arg, "type") == "key"
        || matches!(arg.get("arguments"), Some(Resp::Array(children)) if children.iter().any(has_key))
}

fn text(arg: &Resp, field: &str) -> String {
    arg.get(field).map(Resp::text).unwrap_or_default()
}

fn flagged(arg: &Resp, flag: &str) -> bool {
    matches!(arg.get("flags"), Some(Resp::Array(f)) if f.iter().any(|x| x.text() == flag))
}

/// How one variant is built.
#[derive(Clone, Copy)]
struct Shape {
    /// Optional arguments are included.
    full: bool,
    /// Each `oneof` takes its choice `choice % n`.
    choice: usize,
    /// A repeated argument is given this many times.
    reps: usize,
}

/// The calls of one command: its variants, without repeats, keys named `{tag}:k1`, `{tag}:k2`…
pub fn calls(doc: &Doc, tag: &str) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    // Every choice of the widest oneof (BITOP's eight operations), the others' in turn.
    let choices = widest(&doc.args).max(2);
    for full in [false, true] {
        for reps in [1, 2] {
            for choice in 0..choices {
                let mut call: Vec<String> = doc.name.split('|').map(str::to_uppercase).collect();
                let mut keys = 0;
                let mut b = Builder { shape: Shape { full, choice, reps }, tag, keys: &mut keys };
                b.args(&doc.args, &mut call);
                if !out.contains(&call) {
                    out.push(call);
                }
            }
        }
    }
    out
}

/// The most choices any oneof in `args` has.
fn widest(args: &[Resp]) -> usize {
    args.iter()
        .map(|arg| match arg.get("arguments") {
            Some(Resp::Array(children)) => {
                let own = if text(arg, "type") == "oneof" { children.len() } else { 0 };
                own.max(widest(children))
            }
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

struct Builder<'a> {
    shape: Shape,
    tag: &'a str,
    keys: &'a mut usize,
}

impl Builder<'_> {
    /// Appends a list of sibling arguments. A count (`numkeys`, `numfields`…) is set to the
    /// number of items the argument after it gave.
    fn args(&mut self, args: &[Resp], out: &mut Vec<String>) {
        let mut count_at: Option<usize> = None;
        for arg in args {
            let before = out.len();
            let items = self.arg(arg, out);
            if let Some(at) = count_at.take() {
                out[at] = items.to_string();
            }
            let name = text(arg, "name");
            if text(arg, "type") == "integer" && name.starts_with("num") && out.len() > before {
                count_at = Some(out.len() - 1);
            }
        }
    }

    /// Appends one argument (repeated if it is `multiple`); returns how many items it gave.
    fn arg(&mut self, arg: &Resp, out: &mut Vec<String>) -> usize {
        if flagged(arg, "optional") && !self.shape.full {
            return 0;
        }
        let reps = if flagged(arg, "multiple") { self.shape.reps } else { 1 };
        let token = arg.get("token").map(Resp::text);
        let every_time = flagged(arg, "multiple_token");
        for i in 0..reps {
            if let Some(t) = &token {
                if i == 0 || every_time {
                    out.push(t.clone());
                }
            }
            self.value(arg, out);
        }
        reps
    }

    fn value(&mut self, arg: &Resp, out: &mut Vec<String>) {
        let name = text(arg, "name");
        let children = match arg.get("arguments") {
            Some(Resp::Array(c)) => c.clone(),
            _ => Vec::new(),
        };
        match text(arg, "type").as_str() {
            "pure-token" => {}
            "oneof" if !children.is_empty() => {
                let pick = &children[self.shape.choice % children.len()];
                // A choice is taken whether or not it is optional: the oneof itself was.
                let full = self.shape.full;
                self.shape.full = true;
                self.arg(pick, out);
                self.shape.full = full;
            }
            "block" => self.args(&children, out),
            "key" => {
                *self.keys += 1;
                out.push(format!("{}:k{}", self.tag, self.keys));
            }
            "integer" if name.contains("timeout") || name == "milliseconds" => out.push("1".into()),
            "double" if name.contains("timeout") => out.push("0.01".into()),
            "integer" | "unix-time" => out.push("1".into()),
            "double" => out.push("1.5".into()),
            "pattern" => out.push("p*".into()),
            _ => out.push(string_value(&name).into()),
        }
    }
}

/// A plain value the command will mostly take (a port that refuses, a script that returns).
fn string_value(name: &str) -> &'static str {
    match name {
        "script" => "return 1",
        "host" => "127.0.0.1",
        "port" => "1",
        "id" | "start" | "end" => "0",
        _ => "x",
    }
}
