//! The layout of `src/` keeps its promises: no type name is defined twice, so a name says which
//! thing it is wherever it is read (a second `Command` or `Frame` is renamed for what it is).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub(crate) fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The type a line defines: `struct`, `enum`, `trait` or `union` at any depth (test modules
/// too), and a `type` alias at a module's top or made public (an impl's associated types, such
/// as `type Item`, are no definitions of their own).
fn defined(line: &str) -> Option<&str> {
    let indented = line.starts_with(char::is_whitespace);
    let mut rest = line.trim_start();
    let public = rest.starts_with("pub ") || rest.starts_with("pub(");
    if public {
        rest = rest.split_once(' ').map_or("", |(_, r)| r);
    }
    let (word, rest) = rest.split_once(' ')?;
    let alias_counts = !indented || public;
    let defines = matches!(word, "struct" | "enum" | "trait" | "union") || (word == "type" && alias_counts);
    if !defines {
        return None;
    }
    let name = rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next()?;
    (!name.is_empty()).then_some(name)
}

#[test]
fn no_type_name_is_defined_twice_in_src() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let shown = file.strip_prefix(&src).unwrap().display().to_string();
        for (n, line) in text.lines().enumerate() {
            if let Some(name) = defined(line) {
                seen.entry(name.to_string()).or_default().push(format!("{shown}:{}", n + 1));
            }
        }
    }
    // A type defined once per platform (`#[cfg(unix)]` and not) would be one name: there is none.
    let twice: Vec<String> =
        seen.iter().filter(|(_, at)| at.len() > 1).map(|(name, at)| format!("{name}: {}", at.join(", "))).collect();
    assert!(seen.len() > 100, "the definitions were found ({} names)", seen.len());
    assert!(twice.is_empty(), "type names defined more than once in src/:\n{}", twice.join("\n"));
}

#[test]
fn what_counts_as_a_definition() {
    assert_eq!(defined("pub struct Plan {"), Some("Plan"));
    assert_eq!(defined("    pub(crate) enum Kind<'a> {"), Some("Kind"));
    assert_eq!(defined("struct Cursor;"), Some("Cursor"));
    assert_eq!(defined("pub type CommandId = u16;"), Some("CommandId"));
    assert_eq!(defined("type Opener = Box<dyn FnOnce()>;"), Some("Opener"));
    assert_eq!(defined("trait PieceOut<E>: FnMut() {}"), Some("PieceOut"));
    assert_eq!(defined("    type Item = u8;"), None);
    assert_eq!(defined("    let struct_like = 1;"), None);
    assert_eq!(defined("/// A struct that holds"), None);
}
