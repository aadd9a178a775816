//! The report as one JSON object on one line, for a program; [`JsonWriter`] owns the commas and
//! the escaping.

use super::{Kind, Report, Row};
use crate::count::stats::GapRule;
use crate::format::timestamp::{iso8601, seconds};

/// The report as one JSON object on one line (no trailing newline).
pub fn json(report: &Report) -> String {
    let mut w = JsonWriter::default();
    w.begin_object();
    window(&mut w, report);
    let t = &report.tally;
    for (name, n) in [
        ("lines", t.lines),
        ("commands", t.commands),
        ("filtered", t.filtered),
        ("noise", t.noise),
        ("server_errors", t.server_errors),
        ("skipped", t.skipped),
        ("cut_lines", t.cut_lines),
        ("dropped", t.dropped),
        ("unknown_commands", t.unknown_commands),
    ] {
        w.field_u64(name, n);
    }
    w.key("unknown_command_names");
    w.begin_array();
    for (name, calls, error) in &report.unknown_names {
        w.begin_object();
        w.field_str("name", name);
        w.field_u64("count", *calls);
        w.field_u64("error", *error);
        w.end_object();
    }
    w.end_array();
    span(&mut w, report);
    w.field_u64("key_accesses", report.key_accesses);
    w.field_u64("unprefixed_key_accesses", report.unprefixed);
    if let Some((qps, n)) = report.hot {
        w.field_raw("hot_qps", &qps.to_string());
        w.field_u64("hot_keys", n);
    }
    sections(&mut w, report);
    connections(&mut w, report);
    command_time(&mut w, report);
    w.end_object();
    w.out
}

/// The period a rolling report covers; absent from a report of the whole input.
fn window(w: &mut JsonWriter, report: &Report) {
    let Some(win) = report.window else { return };
    w.key("window");
    w.begin_object();
    w.field_raw("start", &seconds(win.start));
    w.field_raw("end", &seconds(win.end));
    w.field_str("start_iso", &iso8601(win.start));
    w.field_str("end_iso", &iso8601(win.end));
    w.field_raw("seconds", &format!("{:.6}", win.seconds()));
    w.field_raw("length", &format!("{:.6}", win.length as f64 / 1e6));
    w.field_raw("partial", if win.partial() { "true" } else { "false" });
    w.field_raw("ended", if win.ended { "true" } else { "false" });
    if let Some(every) = report.every {
        w.field_raw("period", &format!("{:.6}", every as f64 / 1e6));
    }
    match report.now_seconds {
        Some(s) => w.field_raw("now_seconds", &format!("{s:.6}")),
        None => w.field_raw("now_seconds", "null"),
    }
    w.field_u64("out_of_order", report.tally.out_of_order);
    w.end_object();
}

/// The top-k tables, in the report's order (with the total of key bytes before its table), and
/// `top_nodes` always, empty when the inputs name no nodes.
fn sections(w: &mut JsonWriter, report: &Report) {
    for section in &report.sections {
        if section.kind == Kind::KeyBytes {
            w.field_u64("key_bytes", report.key_bytes);
        }
        w.key(match section.kind {
            Kind::Keys => "top_keys",
            Kind::KeyBytes => "top_keys_by_bytes",
            Kind::KeyReplyBytes => "top_keys_by_reply_bytes",
            Kind::KeyLatency => "top_keys_by_latency_us",
            Kind::Prefixes => "top_prefixes",
            Kind::Commands => "top_commands",
            Kind::Clients => "top_clients",
            Kind::Slots => "top_slots",
            Kind::Nodes => "top_nodes",
        });
        w.begin_array();
        for row in &section.rows {
            self::row(w, row, report.every.is_some());
        }
        w.end_array();
    }
    if report.section(Kind::Nodes).is_none() {
        w.key("top_nodes");
        w.begin_array();
        w.end_array();
    }
}

/// With `--connect` servers among several inputs: each server's state (`connected`, `lost`
/// with since when, `given up`). Absent otherwise, so reports of files are as they were.
fn connections(w: &mut JsonWriter, report: &Report) {
    use crate::count::nodes::NodeState;
    let server = |s: NodeState| matches!(s, NodeState::Connected | NodeState::Lost { .. } | NodeState::GivenUp);
    if !report.inputs.iter().any(|i| server(i.state)) {
        return;
    }
    w.key("connections");
    w.begin_array();
    for input in report.inputs.iter().filter(|i| server(i.state)) {
        w.begin_object();
        w.field_str("node", &input.name);
        match input.state {
            NodeState::Lost { since } => {
                w.field_str("state", "lost");
                w.field_raw("since", &seconds(since));
                w.field_str("since_iso", &iso8601(since));
            }
            NodeState::GivenUp => w.field_str("state", "given up"),
            _ => w.field_str("state", "connected"),
        }
        w.end_object();
    }
    w.end_array();
}

fn span(w: &mut JsonWriter, report: &Report) {
    match report.span {
        Some((first, last)) => {
            w.field_raw("start", &seconds(first));
            w.field_raw("end", &seconds(last));
            w.field_str("start_iso", &iso8601(first));
            w.field_str("end_iso", &iso8601(last));
            w.field_raw("span_seconds", &format!("{:.6}", report.span_micros() as f64 / 1e6));
            match report.commands_per_second() {
                Some(rate) => w.field_raw("commands_per_second", &format!("{rate:.3}")),
                None => w.field_raw("commands_per_second", "null"),
            }
        }
        None => {
            for name in ["start", "end", "start_iso", "end_iso"] {
                w.field_raw(name, "null");
            }
            w.field_raw("span_seconds", "0");
            w.field_raw("commands_per_second", "null");
        }
    }
}

/// One row; a key's rate now and its direction in a rolling report.
fn row(w: &mut JsonWriter, row: &Row, rolling: bool) {
    w.begin_object();
    w.field_str("name", &row.name);
    w.field_u64("count", row.count);
    w.field_raw("share", &format!("{:.6}", row.share / 100.0));
    w.field_u64("error", row.error);
    match row.rate {
        Some(rate) => w.field_raw("rate", &format!("{rate:.3}")),
        None => w.field_raw("rate", "null"),
    }
    if let Some(len) = row.full_length {
        w.field_u64("full_length", len);
    }
    if let Some(key) = &row.key {
        w.field_u64("reads", key.reads);
        w.field_u64("writes", key.writes);
        match key.slot {
            Some(slot) => w.field_u64("slot", u64::from(slot)),
            None => w.field_raw("slot", "null"),
        }
        if let Some(node) = &key.node {
            w.field_str("node", node);
        }
        if rolling {
            match key.now {
                Some(rate) => w.field_raw("rate_now", &format!("{rate:.3}")),
                None => w.field_raw("rate_now", "null"),
            }
            match key.change {
                Some(change) => w.field_str("change", change.word()),
                None => w.field_raw("change", "null"),
            }
        }
        if let Some(hot) = key.hot {
            w.field_raw("hot", if hot { "true" } else { "false" });
        }
        if !key.trend.is_empty() {
            w.key("trend");
            w.begin_array();
            for count in &key.trend {
                w.raw(itoa::Buffer::new().format(*count));
            }
            w.end_array();
        }
    }
    if let Some(slot) = row.slot {
        w.field_u64("slot", u64::from(slot));
    }
    w.end_object();
}

fn command_time(w: &mut JsonWriter, report: &Report) {
    let time = &report.time;
    w.key("command_time");
    w.begin_object();
    w.field_str(
        "rule",
        match time.rule {
            // Requests read from packets: the times are their latencies.
            _ if time.latencies => "latency",
            GapRule::Later => "later",
            GapRule::Earlier => "earlier",
        },
    );
    w.field_u64("gaps", time.gaps);
    for (_, name, value) in &time.quantiles {
        match value {
            Some(v) => w.field_u64(name, *v),
            None => w.field_raw(name, "null"),
        }
    }
    w.field_u64("max_us", time.max);
    w.end_object();
    w.key("heaviest_commands");
    w.begin_array();
    for heavy in &time.heaviest {
        w.begin_object();
        w.field_str("name", &heavy.name);
        w.field_u64("total_us", heavy.total);
        w.field_u64("count", heavy.calls);
        w.field_u64("mean_us", heavy.mean());
        for (name, value) in ["p50_us", "p90_us", "p99_us"].iter().zip(heavy.percentiles.iter().flatten()) {
            match value {
                Some(v) => w.field_u64(name, *v),
                None => w.field_raw(name, "null"),
            }
        }
        w.end_object();
    }
    w.end_array();
    w.key("slowest_calls");
    w.begin_array();
    for call in &time.slowest {
        w.begin_object();
        w.field_u64("gap_us", call.gap);
        w.field_str("timestamp", &call.timestamp);
        w.field_str("client", &call.client);
        w.field_str("call", &call.call);
        w.end_object();
    }
    w.end_array();
}

/// Writes JSON on one line: the commas between members and elements, and string escaping.
#[derive(Default)]
pub struct JsonWriter {
    pub out: String,
    /// A value was written in the container under way: the next needs a comma.
    comma: bool,
    /// A member's name was just written: its value needs no comma.
    after_key: bool,
}

impl JsonWriter {
    fn separate(&mut self) {
        if self.after_key {
            self.after_key = false;
        } else if self.comma {
            self.out.push(',');
        }
        self.comma = true;
    }

    pub fn begin_object(&mut self) {
        self.separate();
        self.out.push('{');
        self.comma = false;
    }

    pub fn end_object(&mut self) {
        self.out.push('}');
        self.comma = true;
    }

    pub fn begin_array(&mut self) {
        self.separate();
        self.out.push('[');
        self.comma = false;
    }

    pub fn end_array(&mut self) {
        self.out.push(']');
        self.comma = true;
    }

    /// A member's name; its value comes next.
    pub fn key(&mut self, name: &str) {
        self.separate();
        self.string(name);
        self.out.push(':');
        self.after_key = true;
    }

    /// A value already in JSON form: a number, `true`, `null`.
    pub fn raw(&mut self, value: &str) {
        self.separate();
        self.out.push_str(value);
    }

    pub fn str(&mut self, value: &str) {
        self.separate();
        self.string(value);
    }

    pub fn field_raw(&mut self, name: &str, value: &str) {
        self.key(name);
        self.raw(value);
    }

    pub fn field_str(&mut self, name: &str, value: &str) {
        self.key(name);
        self.str(value);
    }

    pub fn field_u64(&mut self, name: &str, value: u64) {
        self.key(name);
        self.raw(itoa::Buffer::new().format(value));
    }

    /// A string literal: `"`, `\` and control characters escaped.
    fn string(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                c if (c as u32) < 0x20 => self.out.push_str(&format!("\\u{:04x}", c as u32)),
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_and_escapes() {
        let mut w = JsonWriter::default();
        w.begin_object();
        w.field_str("a", "x\"y\\z\u{1}é");
        w.key("list");
        w.begin_array();
        w.raw("1");
        w.begin_object();
        w.end_object();
        w.str("s");
        w.end_array();
        w.key("empty");
        w.begin_array();
        w.end_array();
        w.field_u64("n", 7);
        w.end_object();
        assert_eq!(w.out, r#"{"a":"x\"y\\z\u0001é","list":[1,{},"s"],"empty":[],"n":7}"#);
        let value: serde_json::Value = serde_json::from_str(&w.out).unwrap();
        assert_eq!(value["a"], "x\"y\\z\u{1}é");
    }
}
