//! On a machine that lacks parts: a test that cannot find what it needs says so where a plain
//! `cargo test` shows it, and the README's test command (`.ci/run`) names what is missing.

use crate::common;

use std::process::Command;

/// Not run on its own: the test below runs it in a child test process, where it lacks parts.
#[test]
#[ignore]
fn a_part_that_is_missing() {
    if std::env::var_os("FAINA_SKIP_DEMO").is_none() {
        return;
    }
    assert!(common::servers::built(common::servers::Kind::Redis86).is_none());
    assert!(!common::require("faina-no-such-program"));
}

#[test]
fn a_skip_is_seen_without_nocapture() {
    let me = std::env::current_exe().unwrap();
    let run = |ci: bool| {
        let mut child = Command::new(&me);
        child.args(["--exact", "fresh_machine::a_part_that_is_missing", "--include-ignored", "--test-threads", "1"]);
        child.env("FAINA_SERVERS", "/nonexistent").env("FAINA_SKIP_DEMO", "1").env_remove("CI");
        if ci {
            child.env("CI", "true");
        }
        child.output().unwrap()
    };
    // As `cargo test` runs it: the harness captures the test's output, and passes it.
    let out = run(false);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("*** SKIPPED: on redis-8.6.3: /nonexistent/redis-8.6.3/redis-server not found"), "{err}");
    assert!(err.contains("*** SKIPPED: faina-no-such-program not found"), "{err}");
    // Under CI=true a missing part fails the test.
    let out = run(true);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("redis-8.6.3/redis-server not found"));
}

#[test]
fn the_readmes_test_command_names_what_a_fresh_machine_lacks() {
    // A machine with nothing: bash, and dirname for the script to find the clone.
    let (Some(bash), Some(dirname)) = (common::which("bash"), common::which("dirname")) else {
        common::skip("bash or dirname not found");
        return;
    };
    let bare = common::TempDir::new("bare-path");
    std::os::unix::fs::symlink(dirname, bare.path("dirname")).unwrap();
    let out = Command::new(bash).args([".ci/run", "--missing"]).env("PATH", &bare.0).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8(out.stdout).unwrap();
    let missing: Vec<&str> = said.strip_prefix("missing: ").unwrap().split_whitespace().collect();
    for package in ["redis-server", "redis-tools", "mandoc", "build-essential", "python3", "jq", "man-db"] {
        assert!(missing.contains(&package), "{package} is not named: {said}");
    }
}
