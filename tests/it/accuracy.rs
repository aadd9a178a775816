//! Accuracy under the memory bound, on generated Zipf data with exact ground truth: the top 20
//! are the true top 20 in order, and every count brackets the truth. (That no table outgrows its
//! size is checked in `src/count/stats.rs`.)

use crate::common;

use std::collections::HashMap;

use common::json_report;
use common::zipf::Zipf;

/// A capture of `lines` GETs (and some MGETs) over `keys` Zipf(1.1) keys, and the true counts.
fn zipf_capture(lines: usize, keys: usize) -> (Vec<u8>, HashMap<String, u64>) {
    let mut zipf = Zipf::new(keys as u64);
    let mut out = b"OK\n".to_vec();
    let mut truth = HashMap::new();
    for i in 0..lines {
        let a = format!("user:{}", zipf.draw());
        *truth.entry(a.clone()).or_default() += 1;
        if i % 10 == 0 {
            let b = format!("user:{}", zipf.draw());
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
    assert!(text.contains("an upper bound"));
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
