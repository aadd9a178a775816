//! The imports of `src/` point one way: no module reaches, through `crate::…`, `super::…` or
//! `self::…` paths, a module that reaches back to it, directly or round a loop. A folder's
//! `mod.rs` and the files under it may use each other (the folder is one stage); test modules
//! (`#[cfg(test)]`) are left out, since a test may look at any stage.
//!
//! Textual, as a reader sees the code: comments and literals are blanked first, and a path made
//! by a macro is not seen.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module by its path from the crate's root: `["count", "stats"]`; the root is `[]`.
type Module = Vec<String>;

/// The module a file under `src/` defines.
fn module_of(relative: &Path) -> Module {
    let mut parts: Module = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if !(stem == "mod" || (parts.is_empty() && (stem == "lib" || stem == "main"))) {
        parts.push(stem.to_string());
    }
    parts
}

/// `text` with comments removed and the insides of string and character literals blanked, so
/// that neither a `crate::` in a doc comment nor a `//` in `"redis://"` is taken for code.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            loop {
                if at(i) == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if at(i) == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else if i >= chars.len() {
                    break;
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (at(i + 1) == '"' || (at(i + 1) == '#' && matches!(at(i + 2), '"' | '#'))) {
            // A raw string: r"…", r#"…"#; ends at the quote followed by as many hashes.
            let mut j = i + 1;
            let mut hashes = 0;
            while at(j) == '#' {
                hashes += 1;
                j += 1;
            }
            j += 1;
            while j < chars.len() && !(chars[j] == '"' && (1..=hashes).all(|k| at(j + k) == '#')) {
                j += 1;
            }
            i = j + 1 + hashes;
            out.push_str("\"\"");
            continue;
        } else if c == '"' || (c == '\'' && (at(i + 1) == '\\' || at(i + 2) == '\'')) {
            // A string, or a character literal ('x', '\n', '\u{1F600}'; not a lifetime, 'a):
            // to the closing quote, past escaped ones.
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.extend([c, c]);
            continue;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// `code` without its `#[cfg(test)]` items: a `mod name { … }` block (to its closing brace) or
/// a `mod name;` (returned, so that file is left out too).
fn without_tests(code: &str) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut test_files = Vec::new();
    let mut rest = code;
    while let Some(start) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..start]);
        let after = rest[start + "#[cfg(test)]".len()..].trim_start();
        let Some(decl) = after.strip_prefix("mod ").or_else(|| after.strip_prefix("pub mod ")) else {
            // An attribute on something else: keep the rest as it is.
            rest = after;
            continue;
        };
        let name: String = decl.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let decl = decl[name.len()..].trim_start();
        if let Some(tail) = decl.strip_prefix(';') {
            test_files.push(name);
            rest = tail;
        } else if decl.starts_with('{') {
            let mut depth = 0;
            let mut end = decl.len();
            for (k, ch) in decl.char_indices() {
                depth += i32::from(ch == '{') - i32::from(ch == '}');
                if depth == 0 {
                    end = k + 1;
                    break;
                }
            }
            rest = &decl[end..];
        } else {
            rest = decl;
        }
    }
    out.push_str(rest);
    (out, test_files)
}

/// Every path a use tree names: `a::{b, c::{d, e as f}}` is `a::b`, `a::c::d`, `a::c::e`.
fn use_tree(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    let (head, braced) = match tree.find('{') {
        Some(open) if tree.ends_with('}') => (&tree[..open], Some(&tree[open + 1..tree.len() - 1])),
        _ => (tree, None),
    };
    let mut path = prefix.to_vec();
    let head = head.split(" as ").next().unwrap_or("");
    path.extend(head.split("::").map(str::trim).filter(|s| !s.is_empty() && *s != "*").map(String::from));
    let Some(inner) = braced else {
        out.push(path);
        return;
    };
    let mut depth = 0;
    let mut piece = String::new();
    for ch in inner.chars().chain(std::iter::once(',')) {
        match ch {
            ',' if depth == 0 => {
                if !piece.trim().is_empty() {
                    use_tree(&path, &piece, out);
                }
                piece.clear();
            }
            _ => {
                depth += i32::from(ch == '{') - i32::from(ch == '}');
                piece.push(ch);
            }
        }
    }
}

/// The `crate::`, `super::` and `self::` paths `code` names, in `use` trees and inline.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    // Where a word starts: not inside a longer name or path.
    let word_at =
        |start: usize| start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || b"_:".contains(&bytes[start - 1]));
    for (start, _) in code.match_indices("use ").filter(|&(start, _)| word_at(start)) {
        let tree = &code[start + "use ".len()..];
        use_tree(&[], &tree[..tree.find(';').unwrap_or(tree.len())], &mut out);
    }
    for root in ["crate::", "super::", "self::"] {
        for (start, _) in code.match_indices(root) {
            if !word_at(start) {
                continue;
            }
            let path: String =
                code[start..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            out.push(path.split("::").filter(|s| !s.is_empty()).map(String::from).collect());
        }
    }
    out.retain(|p| matches!(p.first().map(String::as_str), Some("crate" | "super" | "self")));
    out
}

/// The module a path named in `from` leads to: the longest of its prefixes that is a module.
fn target(from: &Module, path: &[String], modules: &BTreeSet<Module>) -> Option<Module> {
    // `self` of a file `a/b.rs` is `a::b`; `super` of it is `a`, and of `a/mod.rs` the root.
    let mut base: Module = from.clone();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        _ => {}
    }
    while rest.first().map(String::as_str) == Some("super") {
        base.pop()?;
        rest = &rest[1..];
    }
    let mut full = base;
    full.extend(rest.iter().cloned());
    (0..=full.len()).rev().map(|k| full[..k].to_vec()).find(|m| modules.contains(m))
}

/// Which module imports which, between modules neither of which contains the other, with the
/// paths that tie them.
fn imports(files: &[(Module, String)]) -> BTreeMap<Module, BTreeMap<Module, BTreeSet<String>>> {
    let mut tests: BTreeSet<Module> = BTreeSet::new();
    let mut cleaned = Vec::new();
    for (module, text) in files {
        let (code, test_files) = without_tests(&code_only(text));
        for name in test_files {
            let mut child = module.clone();
            child.push(name);
            tests.insert(child);
        }
        cleaned.push((module.clone(), code));
    }
    let modules: BTreeSet<Module> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut edges: BTreeMap<Module, BTreeMap<Module, BTreeSet<String>>> = BTreeMap::new();
    for (module, code) in cleaned.iter().filter(|(m, _)| !tests.contains(m)) {
        for path in paths(code) {
            let Some(to) = target(module, &path, &modules) else { continue };
            if to.starts_with(module) || module.starts_with(&to) {
                continue;
            }
            edges.entry(module.clone()).or_default().entry(to).or_default().insert(path.join("::"));
        }
    }
    edges
}

/// The import circles: each as the modules round it, shortest first found from each module.
fn circles(edges: &BTreeMap<Module, BTreeMap<Module, BTreeSet<String>>>) -> Vec<Vec<Module>> {
    let mut found: Vec<Vec<Module>> = Vec::new();
    for start in edges.keys() {
        // Breadth first from `start`, for the shortest way back to it.
        let mut came_from: BTreeMap<Module, Module> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start.clone()]);
        let mut back = None;
        while let Some(at) = queue.pop_front() {
            for next in edges.get(&at).into_iter().flat_map(|e| e.keys()) {
                if next == start {
                    back = Some(at.clone());
                    break;
                }
                if !came_from.contains_key(next) {
                    came_from.insert(next.clone(), at.clone());
                    queue.push_back(next.clone());
                }
            }
            if back.is_some() {
                break;
            }
        }
        let Some(mut at) = back else { continue };
        let mut round = vec![at.clone()];
        while &at != start {
            at = came_from[&at].clone();
            round.push(at.clone());
        }
        round.reverse();
        let mut key = round.clone();
        key.sort();
        if !found.iter().any(|c| {
            let mut k = c.clone();
            k.sort();
            k == key
        }) {
            found.push(round);
        }
    }
    found
}

fn shown(module: &Module) -> String {
    if module.is_empty() {
        "crate".into()
    } else {
        module.join("::")
    }
}

#[test]
fn the_imports_of_src_form_no_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut names = Vec::new();
    crate::layout::rust_files(&src, &mut names);
    let files: Vec<(Module, String)> = names
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "main.rs"))
        .map(|p| (module_of(p.strip_prefix(&src).unwrap()), std::fs::read_to_string(p).unwrap()))
        .collect();
    let edges = imports(&files);
    let count: usize = edges.values().map(BTreeMap::len).sum();
    assert!(count > 100, "the imports were found ({count} between modules)");
    let said: Vec<String> = circles(&edges)
        .iter()
        .map(|round| {
            let mut text = String::new();
            for (k, from) in round.iter().enumerate() {
                let to = &round[(k + 1) % round.len()];
                let why: Vec<&str> = edges[from][to].iter().map(String::as_str).collect();
                text.push_str(&format!("\n  {} → {} ({})", shown(from), shown(to), why.join(", ")));
            }
            text
        })
        .collect();
    assert!(said.is_empty(), "import circles in src/:{}", said.concat());
}

#[test]
fn what_counts_as_an_import() {
    let file = |path: &str, text: &str| (module_of(Path::new(path)), text.to_string());
    let files = [
        file("lib.rs", "mod a;\nmod b;\n"),
        file("a/mod.rs", "//! Uses [`crate::b::X`] only in a comment.\npub mod inner;\nuse self::inner::Y;\n"),
        file("a/inner.rs", "use super::super::b::{X, deep::{Z as W}};\nfn f() -> &'static str { \"crate::c::Q\" }\n"),
        file("b/mod.rs", "pub mod deep;\n#[cfg(test)]\nmod tests {\n    use crate::a::inner::Y;\n}\n"),
        file("b/deep.rs", "fn g() { let c = 'x'; crate::a::inner::f(); }\n#[cfg(test)]\nmod checks;\n"),
        file("b/deep/checks.rs", "use crate::a::Anything;\n"),
    ];
    let edges = imports(&files);
    let m = |s: &str| -> Module { s.split("::").map(String::from).collect() };
    let of = |from: &str| edges.get(&m(from)).map(|e| e.keys().map(shown).collect::<Vec<_>>()).unwrap_or_default();
    assert_eq!(of("a"), Vec::<String>::new(), "a comment names no import; a folder's own files do not count");
    assert_eq!(of("a::inner"), ["b", "b::deep"]);
    assert_eq!(of("b"), Vec::<String>::new(), "a test module is left out");
    assert_eq!(of("b::deep"), ["a::inner"]);
    assert_eq!(of("b::deep::checks"), Vec::<String>::new(), "a test file is left out");
    let found = circles(&edges);
    assert_eq!(found.len(), 1, "{found:?}");
    let mut round: Vec<String> = found[0].iter().map(shown).collect();
    round.sort();
    assert_eq!(round, ["a::inner", "b::deep"]);
}
