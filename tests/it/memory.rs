//! Memory stays inside its bound whatever the input keeps: node labels of records read back,
//! the clients of the slowest calls, command names, `--top`, and the size of a `--commands`
//! table (the benchmark's cases, scaled down but still far past what the filter keeps).

use crate::common;

use common::{json_report, peak_memory, run, TempDir};

/// The bound the manual states for the default settings.
const BOUND_KIB: u64 = 32 * 1024;

#[test]
fn node_labels_of_a_megabyte_are_kept_by_their_head() {
    // 40 records whose node column is 1 MB each (the issue: 1023 of them took 3.0 GB).
    let mut input = Vec::new();
    for i in 0..40 {
        input.extend_from_slice(format!("{i:05}").as_bytes());
        input.resize(input.len() + 1_000_000, b'N');
        input.extend_from_slice(format!("\t1796108427.{i:06}\t0\t1.2.3.4:5\tget\tk{i}\n").as_bytes());
    }
    let Some((out, kib)) = peak_memory(&["--format", "json", "--top", "100"], &input) else { return };
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(kib < BOUND_KIB, "{kib} KiB");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let nodes = report["top_nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 40);
    for node in nodes {
        assert_eq!(node["name"].as_str().unwrap().len(), 512, "the head");
        assert_eq!(node["full_length"], 1_000_005, "and the whole length");
    }
    assert!(out.stdout.len() < 100_000, "{} bytes", out.stdout.len());
    // The records written back keep their whole label.
    let records = run(&["--emit", "tsv"], &input[..1_000_100]);
    assert_eq!(records.stdout.iter().position(|&b| b == b'\t'), Some(1_000_005));
}

#[test]
fn the_clients_of_the_slowest_calls_are_kept_by_their_head() {
    // 5 periods of 11 records whose client is 1 MB (the issue: 101 periods took 1.0 GB).
    let mut input = Vec::new();
    for period in 0..5u64 {
        for j in 0..11u64 {
            input.extend_from_slice(format!("{}.{:06}\t0\t", 1_796_108_427 + period, j * 1000 + j * j * 37).as_bytes());
            input.resize(input.len() + 1_000_000, b'C');
            input.extend_from_slice(format!("\tget\tk{j}\n").as_bytes());
        }
    }
    let Some((out, kib)) = peak_memory(&["--every", "1s", "--window", "5s", "--format", "json"], &input) else {
        return;
    };
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(kib < BOUND_KIB, "{kib} KiB");
    let text = String::from_utf8(out.stdout).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let calls = last["slowest_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 10);
    for call in calls {
        let client = call["client"].as_str().unwrap();
        assert!(client.ends_with("… (1000000 bytes)") && client.len() < 200, "{}", &client[..100]);
    }
}

#[test]
fn top_has_a_ceiling_and_no_zero() {
    // 100 lines whose clients are 500 KB, with --top 100000 (the issue: 1000 lines, 1.47 GB).
    let mut input = Vec::new();
    for i in 0..100u64 {
        input.extend_from_slice(format!("{}.{:06}\t0\t", 1_796_108_427 + i / 10, (i % 10) * 1000 + i).as_bytes());
        input.resize(input.len() + 500_000, b'C');
        input.extend_from_slice(format!("{i}\tget\tk{i}\n").as_bytes());
    }
    let Some((out, kib)) = peak_memory(&["--top", "100000", "--format", "json"], &input) else { return };
    assert!(out.status.success());
    assert!(kib < BOUND_KIB, "{kib} KiB");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["top_keys"].as_array().unwrap().len(), 100);
    assert_eq!(report["slowest_calls"].as_array().unwrap().len(), 99, "every call with a gap, under 100");
    // Ordinary lines, every key distinct: --top past the ceiling is the ceiling (5000 rows), and
    // Slowest Calls lists 100.
    let mut many = Vec::new();
    for i in 0..20_000u64 {
        many.extend_from_slice(format!("1796108427.{:06} [0 10.0.0.1:5000] \"GET\" \"k{i}\"\n", i * 7).as_bytes());
    }
    let report = json_report(&["--top", "1000000"], &many);
    assert_eq!(report["top_keys"].as_array().unwrap().len(), 5000);
    assert_eq!(report["slowest_calls"].as_array().unwrap().len(), 100);
    // --top 0 is refused.
    let out = run(&["--top", "0"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--top: '0' is not a whole number of at least 1"));
}

/// A COMMAND table of `n` commands, each with `specs` key specs, the first named `first`.
fn table(n: usize, specs: usize, first: &str) -> String {
    let spec = r#"{"flags":["RW","ACCESS","UPDATE"],"begin_search":{"type":"index","spec":{"index":1}},"find_keys":{"type":"range","spec":{"lastkey":0,"keystep":1,"limit":0}}}"#;
    let specs = vec![spec; specs].join(",");
    let rows: Vec<String> = (0..n)
        .map(|i| {
            let name = if i == 0 { first.to_string() } else { format!("c{i}") };
            format!(r#"["{name}",-2,["write"],1,1,1,["@write"],[],[{specs}],[]]"#)
        })
        .collect();
    format!("[{}]", rows.join(",\n"))
}

#[test]
fn a_commands_table_past_its_limits_is_refused() {
    let dir = TempDir::new("big-table");
    let cases = [
        // The issue's 60 MB table (16 000 commands × 20 key specs), scaled to just over 1 MiB.
        ("size", table(350, 20, "c0"), "more than 1048576 bytes"),
        ("commands", table(4097, 1, "c0"), "more than 4096 commands"),
        ("specs", table(1, 33, "c0"), "more than 32 key specs"),
        // A 50 MB command name took 295 MB: one of 129 bytes is refused.
        ("name", table(1, 1, &"n".repeat(129)), "a name of 129 bytes"),
    ];
    for (what, text, needle) in cases {
        let path = dir.path(&format!("{what}.json"));
        std::fs::write(&path, &text).unwrap();
        let Some((out, kib)) = peak_memory(&["--commands", path.to_str().unwrap()], b"") else { return };
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains(needle), "{what}: {err}");
        assert!(kib < BOUND_KIB, "{what}: {kib} KiB");
    }
    // The largest table allowed is read in bounded memory.
    let path = dir.path("largest.json");
    std::fs::write(&path, table(300, 20, "c0")).unwrap();
    let Some((out, kib)) = peak_memory(&["--commands", path.to_str().unwrap()], b"") else { return };
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(kib < BOUND_KIB, "{kib} KiB");
}

#[test]
fn long_command_names_are_shown_cut_with_their_length() {
    // An unknown command of 2000 bytes, twice: counted as one, shown by its head and length in
    // Top Commands and Heaviest Commands, under either rule of charging gaps.
    let name = "x".repeat(2000);
    let input = format!("1.000000 [0 1.1.1.1:1] \"{name}\" \"k\"\n2.000000 [0 1.1.1.1:1] \"{name}\" \"k\"\n");
    for version in ["7.0", "6.0"] {
        let report = json_report(&["--redis-version", version], input.as_bytes());
        let command = &report["top_commands"][0];
        assert_eq!((command["count"].as_u64(), command["full_length"].as_u64()), (Some(2), Some(2000)));
        assert_eq!(command["name"].as_str().unwrap().len(), 512);
        let heavy = &report["heaviest_commands"];
        assert_eq!(heavy.as_array().unwrap().len(), 1, "{version}: one command, its gap charged to it");
        assert_eq!((heavy[0]["count"].as_u64(), heavy[0]["total_us"].as_u64()), (Some(2), Some(1_000_000)));
        assert!(heavy[0]["name"].as_str().unwrap().ends_with("x… (2000 bytes)"), "{version}");
        let text = common::stdout_of(&["--redis-version", version], input.as_bytes());
        assert!(text.contains("x… (2000 bytes)\n"), "{text}");
        assert!(text.lines().all(|l| l.len() < 700), "no line shows the whole name");
    }
}
