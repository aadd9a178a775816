//! `rediss://` (a build with the feature `tls`) against Debian's redis-server on a TLS port,
//! with certificates made here by openssl: the server checked against `--tls-ca` or the
//! system's roots, by the URL's host or `--sni`, a client certificate when the server asks for
//! one, `--tls-insecure` said loudly; no MONITOR client left.
#![cfg(feature = "tls")]

use crate::common;

use std::process::Command;

use common::filter::Filter;
use common::{assert_no_monitor_left, require, Redis, TempDir};

/// A CA, a server certificate for `localhost` only, and a client certificate, in `dir`.
fn certificates(dir: &TempDir) -> bool {
    if !require("openssl") {
        return false;
    }
    let path = |name: &str| dir.path(name).to_str().unwrap().to_string();
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).output().expect("run openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let (ca_key, ca) = (path("ca.key"), path("ca.crt"));
    openssl(
        &[&["req", "-x509"][..], &ec, &["-keyout", &ca_key, "-out", &ca, "-days", "2", "-subj", "/CN=faina test CA"]]
            .concat(),
    );
    for (name, ext) in [
        ("server", "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n"),
        ("client", "extendedKeyUsage=clientAuth\n"),
    ] {
        let (key, csr, crt, extfile) = (
            path(&format!("{name}.key")),
            path(&format!("{name}.csr")),
            path(&format!("{name}.crt")),
            path(&format!("{name}.ext")),
        );
        std::fs::write(&extfile, ext).unwrap();
        openssl(&[&["req"][..], &ec, &["-keyout", &key, "-out", &csr, "-subj", &format!("/CN={name}")]].concat());
        openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &crt,
            "-days",
            "2",
            "-extfile",
            &extfile,
        ]);
    }
    true
}

/// A server with a TLS port beside its plain one (which the test's own client uses).
fn tls_server(dir: &TempDir, clients: &str) -> Option<(Redis, u16)> {
    let tls_port = common::free_port().to_string();
    let (crt, key, ca) = (dir.path("server.crt"), dir.path("server.key"), dir.path("ca.crt"));
    let args = [
        "--tls-port",
        &tls_port,
        "--tls-cert-file",
        crt.to_str().unwrap(),
        "--tls-key-file",
        key.to_str().unwrap(),
        "--tls-ca-cert-file",
        ca.to_str().unwrap(),
        "--tls-auth-clients",
        clients,
    ];
    Redis::start(&args).map(|r| (r, tls_port.parse().unwrap()))
}

/// Runs the filter for 2 s against the TLS port with `args`; returns the exit status and
/// whether the GET made meanwhile was counted.
fn run(redis: &Redis, target: &str, extra: &[&str]) -> (Option<i32>, bool, String) {
    let mut args = vec!["--connect", target, "--format", "json", "--duration", "2s"];
    args.extend_from_slice(extra);
    let mut filter = Filter::start(&args, &[]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !filter.stderr().contains("connected, MONITOR on") && !filter.stderr().contains("given up") {
        assert!(std::time::Instant::now() < deadline, "{}", filter.stderr());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    redis.client().call(&["GET", "over-tls"]);
    let status = filter.exit();
    (status, filter.stdout().contains("over-tls"), filter.stderr())
}

#[test]
fn rediss_checks_the_server_against_the_ca_by_name_and_says_what_to_do() {
    let dir = TempDir::new("tls");
    if !certificates(&dir) {
        return;
    }
    let Some((redis, port)) = tls_server(&dir, "no") else { return };
    let ca = dir.path("ca.crt");
    let ca = ca.to_str().unwrap();
    let by_name = format!("rediss://localhost:{port}");
    let by_address = format!("rediss://127.0.0.1:{port}");

    let (status, seen, err) = run(&redis, &by_name, &["--tls-ca", ca]);
    assert_eq!((status, seen), (Some(0), true), "{err}");

    let (status, _, err) = run(&redis, &by_name, &[]);
    assert_eq!(status, Some(1), "{err}");
    assert!(err.contains("signed by no CA trusted here: give its CA with --tls-ca FILE"), "{err}");

    let (status, _, err) = run(&redis, &by_address, &["--tls-ca", ca]);
    assert_eq!(status, Some(1), "{err}");
    assert!(err.contains("certificate is not for '127.0.0.1'") && err.contains("--sni NAME"), "{err}");
    let (status, seen, err) = run(&redis, &by_address, &["--tls-ca", ca, "--sni", "localhost"]);
    assert_eq!((status, seen), (Some(0), true), "{err}");

    let (status, seen, err) = run(&redis, &by_address, &["--tls-insecure"]);
    assert_eq!((status, seen), (Some(0), true), "{err}");
    assert!(err.contains("--tls-insecure: the servers' certificates are NOT checked"), "{err}");

    // The plain scheme on the TLS port.
    let (status, _, err) = run(&redis, &format!("redis://localhost:{port}"), &[]);
    assert_eq!(status, Some(1), "{err}");
    assert!(err.contains("a TLS port wants rediss://"), "{err}");
    assert_no_monitor_left(&redis, None, "rediss:// runs");
}

#[test]
fn a_client_certificate_when_the_server_asks_for_one() {
    let dir = TempDir::new("tls-client");
    if !certificates(&dir) {
        return;
    }
    let Some((redis, port)) = tls_server(&dir, "yes") else { return };
    let ca = dir.path("ca.crt");
    let (cert, key) = (dir.path("client.crt"), dir.path("client.key"));
    let target = format!("rediss://localhost:{port}");
    let (status, _, err) = run(&redis, &target, &["--tls-ca", ca.to_str().unwrap()]);
    assert_eq!(status, Some(1), "{err}");
    assert!(err.contains("--tls-cert FILE --tls-key FILE"), "{err}");
    let with_cert =
        ["--tls-ca", ca.to_str().unwrap(), "--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()];
    let (status, seen, err) = run(&redis, &target, &with_cert);
    assert_eq!((status, seen), (Some(0), true), "{err}");
    assert_no_monitor_left(&redis, None, "rediss:// with a client certificate");
}
