//! No import circle between the modules of sa-model, of sa-checker, or of sa-node: each
//! crate's modules form layers. A module is a file of `src/` (a folder's files count as the
//! folder's module, e.g. sa-node's `node/*.rs` are `node`); an import is any `crate::name` in
//! code (comments are not read), `use crate::{a, b::c}` lists included. The test prints each
//! crate's layers and fails naming the modules of every circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module name -> the modules it imports.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Code without `//` comments (line and doc comments; no string in our sources holds `//`
/// followed by a `crate::` path).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next().expect("a component");
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_string()
}

fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut g = Graph::new();
    for file in &files {
        let m = module_of(src, file);
        if m == "lib" || m == "main" {
            continue;
        }
        let text = code(&std::fs::read_to_string(file).expect("readable"));
        let deps = g.entry(m.clone()).or_default();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(list) = rest.strip_prefix('{') {
                let end = list.find('}').unwrap_or(list.len());
                for item in list[..end].split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    deps.insert(name);
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                deps.insert(name);
            }
        }
        deps.remove(&m);
    }
    // Keep imports of modules only (`crate::Config` re-exports name no module file).
    let modules: BTreeSet<String> = g.keys().cloned().collect();
    for deps in g.values_mut() {
        deps.retain(|d| modules.contains(d));
    }
    g
}

/// The circles (strongly connected components of more than one module), by Tarjan's algorithm.
fn circles(g: &Graph) -> Vec<Vec<String>> {
    struct Tarjan<'a> {
        g: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in &self.g[v] {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if self.on_stack.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.out.push(component);
                }
            }
        }
    }
    let mut t = Tarjan {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.out
}

/// Layers of an acyclic graph: layer 0 imports nothing of the crate, layer k only lower ones.
fn layers(g: &Graph) -> Vec<Vec<String>> {
    let mut placed: BTreeMap<&str, usize> = BTreeMap::new();
    while placed.len() < g.len() {
        let before = placed.len();
        for (m, deps) in g {
            if placed.contains_key(m.as_str()) {
                continue;
            }
            if deps.iter().all(|d| placed.contains_key(d.as_str())) {
                let layer = deps
                    .iter()
                    .map(|d| placed[d.as_str()] + 1)
                    .max()
                    .unwrap_or(0);
                placed.insert(m, layer);
            }
        }
        if placed.len() == before {
            break;
        }
    }
    let mut out: Vec<Vec<String>> = Vec::new();
    for (m, l) in placed {
        if out.len() <= l {
            out.resize(l + 1, Vec::new());
        }
        out[l].push(m.to_string());
    }
    out
}

fn assert_layered(crate_dir: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let g = graph(&root.join(crate_dir).join("src"));
    assert!(
        g.len() > 5,
        "{crate_dir}: too few modules read ({})",
        g.len()
    );
    println!("{crate_dir}: {} modules", g.len());
    for (k, layer) in layers(&g).iter().enumerate() {
        println!("  layer {k}: {}", layer.join(" "));
    }
    let found = circles(&g);
    assert!(
        found.is_empty(),
        "{crate_dir}: import circles: {}",
        found
            .iter()
            .map(|c| c.join(" <-> "))
            .collect::<Vec<_>>()
            .join("; ")
    );
}

#[test]
fn the_protocol_crate_has_no_import_circle() {
    assert_layered("model");
}

#[test]
fn the_checker_crate_has_no_import_circle() {
    assert_layered("checker");
}

#[test]
fn the_node_crate_has_no_import_circle() {
    assert_layered("impl");
}

#[test]
fn the_protocol_crate_depends_on_nothing_of_the_checker() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let manifest = std::fs::read_to_string(root.join("model/Cargo.toml")).expect("manifest");
    assert!(
        !manifest
            .lines()
            .any(|l| l.trim_start().starts_with("sa-checker")),
        "sa-model depends on sa-checker"
    );
    let mut files = Vec::new();
    rust_files(&root.join("model/src"), &mut files);
    for f in files {
        let text = code(&std::fs::read_to_string(&f).expect("readable"));
        assert!(
            !text.contains("sa_checker"),
            "{} names sa_checker",
            f.display()
        );
    }
}

#[test]
fn a_circle_is_found_and_named() {
    // The detector itself: a <-> b is a circle, c -> a is not part of it.
    let mut g = Graph::new();
    g.insert("a".into(), ["b".to_string()].into());
    g.insert("b".into(), ["a".to_string()].into());
    g.insert("c".into(), ["a".to_string()].into());
    assert_eq!(circles(&g), vec![vec!["a".to_string(), "b".to_string()]]);
    g.get_mut("b").expect("b").clear();
    assert!(circles(&g).is_empty());
    assert_eq!(
        layers(&g),
        vec![
            vec!["b".to_string()],
            vec!["a".to_string()],
            vec!["c".to_string()]
        ]
    );
}
