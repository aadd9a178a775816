//! Accuracy under the memory bound, on generated Zipf data with exact ground truth: the top 20
//! are the true top 20 in order, every count brackets the truth, and no table outgrows its size.

mod common;

use std::collections::HashMap;

use common::json_report;
use faina_filter::commands::{Access, KeyRef};
use faina_filter::redact::Secrets;
use faina_filter::stats::{GapRule, Seen, Settings, Stats};

/// splitmix64, so the data is the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// A capture of `lines` GETs (and some MGETs) over `keys` Zipf(1.1) keys, and the true counts.
fn zipf_capture(lines: usize, keys: usize) -> (Vec<u8>, HashMap<String, u64>) {
    let mut cdf = Vec::with_capacity(keys);
    let mut sum = 0.0;
    for rank in 1..=keys {
        sum += 1.0 / (rank as f64).powf(1.1);
        cdf.push(sum);
    }
    let mut rng = Rng(7);
    let mut draw = || {
        let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * sum;
        cdf.partition_point(|&c| c < u).min(keys - 1)
    };
    let mut out = b"OK\n".to_vec();
    let mut truth = HashMap::new();
    for i in 0..lines {
        let a = format!("user:{}", draw());
        *truth.entry(a.clone()).or_default() += 1;
        if i % 10 == 0 {
            let b = format!("user:{}", draw());
            *truth.entry(b.clone()).or_default() += 1;
            out.extend_from_slice(
                format!("1795636306.{:06} [0 10.0.0.1:5000] \"MGET\" \"{a}\" \"{b}\"\n", i % 1_000_000).as_bytes(),
            );
        } else {
            out.extend_from_slice(
                format!("1795636306.{:06} [0 10.0.0.1:5000] \"GET\" \"{a}\"\n", i % 1_000_000).as_bytes(),
            );
        }
    }
    (out, truth)
}

#[test]
fn space_saving_keeps_the_true_top_20_in_order() {
    let (capture, truth) = zipf_capture(400_000, 60_000);
    assert!(truth.len() > 20_000, "far more distinct keys than the table holds");
    let report = json_report(&["--max-keys", "2000", "--top", "20"], &capture);
    let mut want: Vec<(&String, &u64)> = truth.iter().collect();
    want.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let top = report["top_keys"].as_array().unwrap();
    assert_eq!(top.len(), 20);
    let got: Vec<&str> = top.iter().map(|k| k["name"].as_str().unwrap()).collect();
    let expected: Vec<&str> = want.iter().take(20).map(|(k, _)| k.as_str()).collect();
    assert_eq!(got, expected);
    for k in top {
        let (count, error) = (k["count"].as_u64().unwrap(), k["error"].as_u64().unwrap());
        let real = truth[k["name"].as_str().unwrap()];
        assert!(count - error <= real && real <= count, "{k}: true {real}");
    }
    // Past --max-keys the text report says its counts are bounds.
    let text = String::from_utf8(common::run(&["--max-keys", "2000", "--top", "2000"], &capture).stdout).unwrap();
    assert!(text.contains("<="), "bounded counts are marked");
    assert!(text.contains("upper bounds"));
}

#[test]
fn exact_while_the_keys_fit() {
    let (capture, truth) = zipf_capture(50_000, 3_000);
    let report = json_report(&["--top", "100000"], &capture);
    let got: HashMap<String, u64> = report["top_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            assert_eq!(k["error"], 0);
            (k["name"].as_str().unwrap().to_string(), k["count"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(got, truth);
}

#[test]
fn no_table_outgrows_its_bound() {
    let settings = Settings {
        top: 10,
        prefix_delimiter: b":".to_vec(),
        prefix_depth: 2,
        gap_rule: GapRule::Earlier,
        max_keys: 1_000,
    };
    let mut stats = Stats::new(settings);
    let secrets = Secrets::default();
    let keys = [KeyRef { pos: 1, access: Access::Read }];
    for i in 0..200_000u64 {
        let key = format!("p{}:{i}:x", i % 5_000);
        let client = format!("10.{}.{}.{}:{}", i % 7, i % 251, i % 253, 1000 + i % 50_000);
        let command = format!("cmd{}", i % 3_000);
        let args: Vec<&[u8]> = vec![command.as_bytes(), key.as_bytes()];
        let arg = |n: usize| args[n];
        stats.command(&Seen {
            timestamp: b"1.000001",
            micros: 1_000_000 + i * 3 % 1_000,
            client: client.as_bytes(),
            command: command.as_bytes(),
            command_id: None,
            keys: &keys,
            arg: &arg,
            argc: 2,
            bytes: key.len() as u64,
            node: (i % 3) as u32,
            secrets: &secrets,
        });
    }
    assert_eq!(stats.commands, 200_000);
    assert_eq!(stats.per_key.keys.len(), 1_000);
    assert_eq!(stats.per_key.key_bytes.len(), 500);
    assert_eq!(stats.per_key.prefixes.len(), 250);
    assert_eq!(stats.clients.len(), 250);
    assert_eq!(stats.command_counts.len(), 250);
    assert_eq!(stats.slowest().len(), 10);
    assert_eq!(stats.per_key.keys.total(), 200_000, "every access is counted, kept or not");
}

#[test]
fn long_key_names_stay_within_their_budget() {
    // 20 000 distinct 400-byte keys, and one hot key of the same length that first comes when
    // every entry already holds a long name: the names kept whole take at most 32 bytes per
    // entry (each plus its length), the rest are kept by their first 30 bytes, and the hot key
    // is shown whole.
    let settings = Settings {
        top: 10,
        prefix_delimiter: b":".to_vec(),
        prefix_depth: 1,
        gap_rule: GapRule::Later,
        max_keys: 1_000,
    };
    let mut stats = Stats::new(settings);
    let secrets = Secrets::default();
    let keys = [KeyRef { pos: 1, access: Access::Read }];
    let hot = format!("hot:{}", "h".repeat(396));
    for i in 0..40_000u64 {
        let key = if i >= 20_000 && i % 2 == 0 { hot.clone() } else { format!("k:{i:06}:{}", "x".repeat(391)) };
        let args: Vec<&[u8]> = vec![b"GET", key.as_bytes()];
        let arg = |n: usize| args[n];
        stats.command(&Seen {
            timestamp: b"1.000001",
            micros: 1_000_000 + i,
            client: b"10.0.0.1:5000",
            command: b"get",
            command_id: None,
            keys: &keys,
            arg: &arg,
            argc: 2,
            bytes: key.len() as u64,
            node: 0,
            secrets: &secrets,
        });
    }
    fn long_names<E>(entries: &[faina_filter::counter::Entry<E>]) -> usize {
        entries.iter().filter(|e| e.key().len() > 30).map(|e| e.key().len() + 16).sum()
    }
    assert!(long_names(stats.per_key.key_bytes.entries()) <= 500 * 32);
    let keys = &stats.per_key.keys;
    assert!(long_names(keys.entries()) <= 1_000 * 32);
    assert!(keys.entries().iter().filter(|e| e.is_cut()).all(|e| e.key().len() == 30 && e.full_len == 400));
    let top = keys.top(1)[0];
    assert_eq!(top.key(), hot.as_bytes(), "the hot key has its whole name");
    assert_eq!(keys.total(), 40_000);
}
