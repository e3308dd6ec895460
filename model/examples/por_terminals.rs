use sa_model::{Config, SaModel};
use stateright::Model;
use std::collections::HashSet;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let reduce = std::env::args().nth(2).is_some();
    let c: Config = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let m = SaModel::new(c);
    let mut seen = HashSet::new();
    let mut terms = 0u64;
    let mut stack = m.init_states();
    for s in &stack {
        seen.insert(s.clone());
    }
    while let Some(s) = stack.pop() {
        let mut acts = Vec::new();
        m.actions(&s, &mut acts);
        if acts.is_empty() {
            terms += 1;
            continue;
        }
        if reduce {
            m.reduce(&s, &mut acts);
        }
        for a in acts {
            let n = m.next_state(&s, a).unwrap();
            if seen.insert(n.clone()) {
                stack.push(n);
            }
        }
    }
    println!("states {} terminals {}", seen.len(), terms);
}
