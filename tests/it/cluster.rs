//! Redis Cluster: slots equal the server's CLUSTER KEYSLOT, and a real 3-master cluster's hot
//! keys are reported with the right node and slot, live from three MONITOR streams at once and
//! from merged `--emit tsv` files.

use crate::common;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::servers::Server;
use common::{
    assert_no_monitor_left, json_report, monitor_clients, require, stdout_of, Capture, Client, Redis, TempDir,
};
use faina_filter::cluster::slot;
use serde_json::Value;

#[test]
fn slots_equal_cluster_keyslot() {
    for server in common::servers::all() {
        slots_on(&server);
    }
}

fn slots_on(server: &common::servers::Server) {
    let redis = Redis::start_cluster_node_of(server);
    let mut client = redis.client();
    let keys: Vec<Vec<u8>> = vec![
        b"foo".to_vec(),
        b"{user1}:x".to_vec(),
        b"{}x".to_vec(),
        b"a{}{b}".to_vec(),
        b"{{a}}".to_vec(),
        b"123456789".to_vec(),
        b"".to_vec(),
        b"{".to_vec(),
        b"}{".to_vec(),
        b"x{y".to_vec(),
        b"{a}{b}".to_vec(),
        b"\x00\xff{\x01\x02}\x7f".to_vec(),
        "ключ:{日本}".as_bytes().to_vec(),
        b"session:9e3779b1".to_vec(),
        (0..=255u8).collect(),
    ];
    for key in &keys {
        let reply = client.call_resp(&[b"CLUSTER", b"KEYSLOT", key]);
        assert_eq!(i64::from(slot(key)), reply.int(), "{}: {:?}", server.name, String::from_utf8_lossy(key));
    }
    for i in 0..2000 {
        let key = format!("k{i}:{{t{}}}", i % 97);
        let reply = client.call_resp(&[b"CLUSTER", b"KEYSLOT", key.as_bytes()]);
        assert_eq!(i64::from(slot(key.as_bytes())), reply.int(), "{key}");
    }
}

/// A cluster client: follows MOVED to the node that owns the slot.
struct ClusterClient {
    nodes: HashMap<u16, Client>,
    first: u16,
}

impl ClusterClient {
    fn call(&mut self, args: &[&str]) {
        let mut port = self.first;
        for _ in 0..5 {
            let client = self.nodes.entry(port).or_insert_with(|| Client::tcp(port).unwrap());
            let reply = client.call(args);
            let text = String::from_utf8_lossy(&reply);
            match text.strip_prefix("-MOVED ") {
                Some(moved) => {
                    port = moved.trim().rsplit(':').next().unwrap().parse().unwrap();
                }
                None => {
                    assert!(!text.starts_with('-'), "{args:?}: {text}");
                    return;
                }
            }
        }
        panic!("too many redirections for {args:?}");
    }
}

/// Three masters on loopback, slots spread by the server's own client's --cluster create.
pub(crate) fn cluster(server: &Server) -> Vec<Redis> {
    let nodes: Vec<Redis> = (0..3).map(|_| Redis::start_cluster_node_of(server)).collect();
    let mut create = Command::new(&server.cli);
    create.arg("--cluster").arg("create");
    for n in &nodes {
        create.arg(format!("127.0.0.1:{}", n.port));
    }
    let out = create.args(["--cluster-yes"]).stdin(Stdio::null()).output().expect("redis-cli --cluster create");
    assert!(out.status.success(), "cluster create: {}", String::from_utf8_lossy(&out.stdout));
    let deadline = Instant::now() + Duration::from_secs(30);
    for n in &nodes {
        loop {
            let info = n.client().call(&["CLUSTER", "INFO"]);
            if String::from_utf8_lossy(&info).contains("cluster_state:ok") {
                break;
            }
            assert!(Instant::now() < deadline, "{}: the cluster did not come up", server.name);
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    nodes
}

/// The port of the master that owns each slot, from CLUSTER SLOTS.
fn slot_owners(node: &Redis) -> Vec<u16> {
    let mut owners = vec![0u16; 16384];
    let reply = node.client().call_resp(&[b"CLUSTER", b"SLOTS"]);
    for range in reply.array() {
        let r = range.array();
        let port = r[2].array()[1].int() as u16;
        for s in r[0].int()..=r[1].int() {
            owners[s as usize] = port;
        }
    }
    owners
}

/// The hot keys of the workload and how often each is read.
const HOT: [(&str, usize); 4] = [("hot:a", 300), ("{user42}:cart", 200), ("hot:b", 150), ("config:flags", 120)];

pub(crate) fn workload(nodes: &[Redis]) {
    let mut client = ClusterClient { nodes: HashMap::new(), first: nodes[0].port };
    for (key, _) in HOT {
        client.call(&["SET", key, "v"]);
    }
    for round in 0..300 {
        for (key, times) in HOT {
            if round < times {
                client.call(&["GET", key]);
            }
        }
        client.call(&["INCR", &format!("counter:{round}")]);
    }
}

/// Checks that each hot key is reported on the node owning its slot, with that slot.
fn check_hot_keys(report: &Value, owners: &[u16], label_of: &HashMap<u16, String>) {
    let top = report["top_keys"].as_array().unwrap();
    for (i, (key, times)) in HOT.iter().enumerate() {
        let row = &top[i];
        assert_eq!(row["name"], *key);
        assert_eq!(row["count"], *times as u64 + 1, "{key}: GETs and the SET");
        let s = slot(key.as_bytes());
        assert_eq!(row["slot"], s, "{key}");
        assert_eq!(row["node"], label_of[&owners[s as usize]], "{key} lives on the owner of slot {s}");
    }
    let nodes: Vec<&str> =
        report["top_nodes"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(nodes.len(), 3, "{nodes:?}");
    let slots = report["top_slots"].as_array().unwrap();
    assert_eq!(slots[0]["slot"], slot(b"hot:a"));
}

fn kill(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_cluster_hot_key_is_named_with_its_node_and_slot() {
    if !require("redis-cli") {
        return;
    }
    for server in common::servers::all() {
        eprintln!("on {}", server.name);
        hot_key_on(&server);
    }
}

fn hot_key_on(server: &Server) {
    let nodes = cluster(server);
    let owners = slot_owners(&nodes[0]);
    let label_of: HashMap<u16, String> =
        nodes.iter().enumerate().map(|(i, n)| (n.port, format!("n{}", i + 1))).collect();
    let dir = TempDir::new("cluster");

    // Live: three MONITOR streams through FIFOs, read at once (as `n1=<(redis-cli … monitor)`).
    let mut monitors = Vec::new();
    let mut fifos = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let fifo = dir.path(&format!("n{}.fifo", i + 1));
        assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        // The shell opens the FIFO for writing once faina-filter opens it for reading.
        let script = format!("exec '{}' -p {} monitor > '{}'", server.cli.display(), n.port, fifo.display());
        monitors.push(Command::new("sh").args(["-c", &script]).stdin(Stdio::null()).spawn().unwrap());
        fifos.push(format!("n{}={}", i + 1, fifo.display()));
    }
    let mut args = vec!["--format".to_string(), "json".to_string(), "--top".to_string(), "20".to_string()];
    args.extend(fifos.iter().cloned());
    let filter = common::faina().args(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // Raw-socket captures of the same streams, for the files test below.
    let captures: Vec<Capture> = nodes.iter().map(|n| Capture::raw_socket(n.port)).collect();
    for c in &captures {
        c.wait_started();
    }
    std::thread::sleep(Duration::from_millis(300));
    workload(&nodes);
    for (c, n) in captures.iter().zip(&nodes) {
        n.client().call(&["ECHO", "__end__"]);
        c.wait_for(b"__end__");
    }
    std::thread::sleep(Duration::from_millis(500));
    for m in monitors {
        kill(m);
    }
    let out = filter.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let live: Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
    check_hot_keys(&live, &owners, &label_of);

    // Merged records: each node's capture to --emit tsv, concatenated, analysed again.
    let mut merged = Vec::new();
    for (i, c) in captures.iter().enumerate() {
        let path = dir.path(&format!("cap{}.txt", i + 1));
        std::fs::write(&path, c.bytes()).unwrap();
        let named = format!("n{}={}", i + 1, path.display());
        merged.extend_from_slice(stdout_of(&["--emit", "tsv", &named], b"").as_bytes());
    }
    assert!(merged.starts_with(b"n1\t"), "records carry their node");
    let from_files = json_report(&["--top", "20"], &merged);
    check_hot_keys(&from_files, &owners, &label_of);
    assert_eq!(from_files["top_keys"], live["top_keys"], "live and merged files agree");
}

#[test]
fn records_read_back_give_the_same_report() {
    let sample = include_bytes!("../../examples/sample-capture.txt");
    let tsv = stdout_of(&["--emit", "tsv"], sample);
    let direct = json_report(&["--top", "50"], sample);
    let again = json_report(&["--top", "50"], tsv.as_bytes());
    for field in ["commands", "key_accesses", "top_keys", "top_prefixes", "top_commands", "top_clients", "top_slots"] {
        assert_eq!(direct[field], again[field], "{field}");
    }
    assert_eq!(again["skipped"], 0);
}

/// Waits (10 s at most) until every node has the filter's MONITOR client, and no other.
fn wait_until_each_is_monitored(nodes: &[Redis]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !nodes.iter().all(|n| monitor_clients(n, None).len() == 1) {
        assert!(Instant::now() < deadline, "the filter did not monitor every primary");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn connect_cluster_monitors_every_primary_labelled_by_address() {
    for server in common::servers::all() {
        connect_cluster_on(&server);
    }
}

fn connect_cluster_on(server: &Server) {
    let nodes = cluster(server);
    let owners = slot_owners(&nodes[0]);
    let label_of: HashMap<u16, String> = nodes.iter().map(|n| (n.port, format!("127.0.0.1:{}", n.port))).collect();
    // One seed; the filter finds the other two itself.
    let seed = format!("redis://127.0.0.1:{}", nodes[1].port);
    let mut filter = common::faina()
        .args(["--connect", &seed, "--cluster", "--format", "json", "--top", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until_each_is_monitored(&nodes);
    workload(&nodes);
    std::thread::sleep(Duration::from_millis(500));
    common::signal(&filter, "INT");
    let mut out = Vec::new();
    std::io::Read::read_to_end(filter.stdout.as_mut().unwrap(), &mut out).unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(filter.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(filter.wait().unwrap().success(), "{err}");
    assert_eq!(err.matches("connected, MONITOR on").count(), 3, "{err}");
    let report: Value = serde_json::from_slice(&out).expect("one JSON report");
    check_hot_keys(&report, &owners, &label_of);
    for n in &nodes {
        assert_no_monitor_left(n, None, "Ctrl-C on --cluster");
    }
}

#[test]
fn connect_cluster_through_cluster_nodes_as_an_acl_user() {
    let Some(server) = common::servers::system() else { return };
    let nodes = cluster(&server);
    // A user that may run CLUSTER NODES but not CLUSTER SHARDS: the topology comes from NODES,
    // as it does from servers before 7.0.
    for n in &nodes {
        let acl = ["ACL", "SETUSER", "mon", "on", ">m0n-Pass", "+monitor", "+cluster|nodes"];
        assert_eq!(n.client().call(&acl), b"+OK\r\n");
    }
    let seed = format!("redis://mon@127.0.0.1:{}", nodes[2].port);
    let mut filter = common::faina()
        .args(["--connect", &seed, "--cluster", "--format", "json"])
        .env("REDISCLI_AUTH", "m0n-Pass")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until_each_is_monitored(&nodes);
    common::signal(&filter, "INT");
    let mut err = String::new();
    std::io::Read::read_to_string(filter.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(filter.wait().unwrap().success(), "{err}");
    assert_eq!(err.matches("connected, MONITOR on").count(), 3, "{err}");
    assert!(!err.contains("m0n-Pass"), "{err}");
    for n in &nodes {
        assert_no_monitor_left(n, None, "Ctrl-C on --cluster through CLUSTER NODES");
    }
}
