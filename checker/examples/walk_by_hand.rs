//! Walks a configuration by hand from a script: one line per step, `P<n> <words>`; the step
//! taken is the one enabled action of P<n> whose description contains every word. Prints each
//! step and, when a line matches no action or several, the enabled actions.
//!
//! cargo run --release -p sa-checker --example walk_by_hand -- PRESET SCRIPT
//! (e.g. `-- async-final checker/examples/async_final_fork.walk`: the fork of
//! model/tests/async_final_fork.rs, as it was first walked). Phrases of one line are separated
//! by ` & `; lines starting with `#` are comments.
use sa_checker::render::{beliefs, describe};
use sa_model::{Config, SaModel};
use stateright::Model;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let config = Config::preset(&args[1]).expect("preset");
    let m = SaModel::new(config);
    let script = std::fs::read_to_string(&args[2]).expect("script");
    let mut state = m.init_states().swap_remove(0);
    let mut n = 0;
    for line in script
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let mut enabled = Vec::new();
        m.actions(&state, &mut enabled);
        let (who, rest) = line.split_once(' ').unwrap_or((line, ""));
        let words: Vec<&str> = rest.split(" & ").collect();
        let hits: Vec<_> = enabled
            .iter()
            .filter(|a| format!("P{}", a.actor()) == who)
            .filter(|a| {
                let d = describe(&m, &state, a);
                words.iter().all(|w| d.contains(w))
            })
            .copied()
            .collect();
        if hits.len() != 1 {
            println!("line `{line}`: {} matches; enabled:", hits.len());
            for a in &enabled {
                println!("   P{} {}", a.actor(), describe(&m, &state, a));
            }
            for b in beliefs(&m, &state) {
                println!("   {b}");
            }
            return;
        }
        n += 1;
        println!("{n:>3}. {}", describe(&m, &state, &hits[0]));
        println!("     {:?}", hits[0]);
        state = m.next_state(&state, hits[0]).expect("next");
    }
    for b in beliefs(&m, &state) {
        println!("   {b}");
    }
    for s in sa_model::properties::SPECS {
        if s.kind == sa_model::properties::Kind::Safety && !(s.condition)(&m, &state) {
            println!("VIOLATED {}", s.id);
        }
    }
}
