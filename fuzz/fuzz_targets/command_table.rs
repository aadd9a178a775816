//! The `--commands` reader on arbitrary bytes: it must never panic, and a table it accepts must
//! find, for every command it lists and any arguments, only keys that are among the arguments.
#![no_main]

use faina_filter::commands::{server, Table};
use faina_filter::monitor::{Args, ArgsStore};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(commands) = server::parse(data, "fuzz") else { return };
    let names: Vec<String> = commands.iter().map(|c| c.name.clone()).collect();
    let table = Table::with_server(commands);
    let words: [&[u8]; 7] = [b"1", b"2", b"", b"to", b"keys", b"streams", b"-1"];
    let mut store = ArgsStore::default();
    let mut keys = Vec::new();
    for name in names.iter().take(64) {
        let mut call: Vec<&[u8]> = name.split('|').map(str::as_bytes).collect();
        for n in 0..6 {
            let found = table.lookup(call[0], call.get(1).copied());
            keys.clear();
            table.keys(found, &Args::from_words(&call, &mut store), &mut keys);
            assert!(keys.iter().all(|k| k.pos > 0 && k.pos < call.len()), "{name} {n}: {keys:?}");
            call.push(words[(n + name.len()) % words.len()]);
        }
    }
});
