//! Pinned outputs: reports (text and JSON, whole and rolling) and records of real, generated and
//! odd captures, byte for byte. A change that alters any output must update these files in the
//! same commit and say why: `FAINA_UPDATE_GOLDEN=1 cargo test --test it golden::` rewrites them.

use crate::common;

use std::path::Path;

/// (name, arguments); inputs are named in the arguments, relative to the repository.
const CASES: &[(&str, &[&str])] = &[
    ("sample-report", &["examples/sample-capture.txt"]),
    ("sample-json", &["--format", "json", "--top", "15", "examples/sample-capture.txt"]),
    ("sample-old-server", &["--redis-version", "5", "--top", "5", "examples/sample-capture.txt"]),
    ("sample-bounded", &["--max-keys", "100", "--format", "json", "examples/sample-capture.txt"]),
    ("sample-filtered", &["--db", "0", "--command", "get", "--key", "session:*", "examples/sample-capture.txt"]),
    ("sample-every-json", &["--every", "1s", "--format", "json", "examples/sample-capture.txt"]),
    (
        "sample-window",
        &["--every", "1s", "--window", "3s", "--hot-qps", "50", "--top", "5", "examples/sample-capture.txt"],
    ),
    ("generated-report", &["--max-keys", "60", "--top", "20", "tests/data/generated.txt"]),
    ("generated-json", &["--max-keys", "60", "--format", "json", "--prefix-depth", "2", "tests/data/generated.txt"]),
    ("generated-tsv", &["--emit", "tsv", "tests/data/generated.txt"]),
    ("generated-keys", &["--emit", "keys", "tests/data/generated.txt"]),
    (
        "generated-window-json",
        &["--every", "500ms", "--window", "2s", "--max-keys", "40", "--format", "json", "tests/data/generated.txt"],
    ),
    ("nodes-report", &["n1=examples/sample-capture.txt", "n2=tests/data/generated.txt"]),
    ("nodes-json", &["--format", "json", "n1=examples/sample-capture.txt", "n2=tests/data/generated.txt"]),
    ("nodes-keys", &["--emit", "keys", "--client", "lua", "n1=tests/data/odd.txt", "n2=tests/data/generated.txt"]),
    ("odd-report", &["--top", "50", "tests/data/odd.txt"]),
    ("odd-json", &["--top", "50", "--format", "json", "tests/data/odd.txt"]),
    ("odd-tsv", &["--emit", "tsv", "tests/data/odd.txt"]),
    ("odd-keys", &["--emit", "keys", "tests/data/odd.txt"]),
    ("odd-every", &["--every", "2s", "--top", "3", "tests/data/odd.txt"]),
    ("odd-no-redact", &["--emit", "tsv", "--no-redact", "tests/data/odd.txt"]),
];

#[test]
fn outputs_are_as_pinned() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let update = std::env::var_os("FAINA_UPDATE_GOLDEN").is_some();
    let mut differ = Vec::new();
    for (name, args) in CASES {
        let out = common::faina().args(*args).current_dir(root).output().unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        for (ext, got) in [("out", &out.stdout), ("err", &out.stderr)] {
            let path = root.join(format!("tests/golden/{name}.{ext}"));
            let want = std::fs::read(&path).unwrap_or_default();
            if *got != want {
                if update {
                    if got.is_empty() {
                        let _ = std::fs::remove_file(&path);
                    } else {
                        std::fs::write(&path, got).unwrap();
                    }
                } else {
                    differ.push(format!("{name}.{ext}"));
                }
            }
        }
    }
    assert!(differ.is_empty(), "outputs differ from tests/golden: {differ:?} (FAINA_UPDATE_GOLDEN=1 rewrites them)");
}
