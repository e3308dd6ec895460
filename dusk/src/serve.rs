//! The JSON-lines adapter protocol (spec/conformance.md, "Adapters in other languages") over
//! stdin and stdout, for [`DuskNode`].

use std::io::{BufRead, Write};

use serde_json::{json, Value};

use crate::adapter::{DuskNode, OBSERVES};

/// Serves requests from `input` until it ends; a bad request gets `{"ok": false, "error"}`.
///
/// # Errors
/// When `input` or `output` fails.
pub fn serve(input: impl BufRead, mut output: impl Write) -> std::io::Result<()> {
    let mut node = DuskNode::new();
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let answer = handle(&mut node, &line).unwrap_or_else(|e| json!({"ok": false, "error": e}));
        writeln!(output, "{answer}")?;
        output.flush()?;
    }
    Ok(())
}

fn handle(node: &mut DuskNode, line: &str) -> Result<Value, String> {
    let req: Value = serde_json::from_str(line).map_err(|e| format!("request is not JSON: {e}"))?;
    match req["op"].as_str() {
        Some("init") => {
            let config: sa_model::Config = serde_json::from_value(req["config"].clone())
                .map_err(|e| format!("init.config: {e}"))?;
            let me = req["node"].as_u64().ok_or("init.node: not a number")? as usize;
            if me >= config.provisioners.len() {
                return Err(format!("init.node: {me} is not a provisioner"));
            }
            let invalid = req["invalid_proposals"].as_bool().unwrap_or(false);
            let mut proposals = vec![];
            for p in req["proposals"].as_array().into_iter().flatten() {
                let n = |k: &str| {
                    p[k].as_u64()
                        .ok_or_else(|| format!("init.proposals: `{k}` is not a number: {p}"))
                };
                let iteration = u8::try_from(n("iteration")?)
                    .map_err(|_| format!("init.proposals: iteration too large: {p}"))?;
                let valid = p["valid"]
                    .as_bool()
                    .ok_or_else(|| format!("init.proposals: `valid` is not a boolean: {p}"))?;
                proposals.push((n("round")?, iteration, valid));
            }
            node.init(&config, me, invalid, &proposals)?;
            Ok(json!({"ok": true, "observes": OBSERVES}))
        }
        Some("deliver") => {
            let (sent, unsupported) = node.deliver(&req["event"], &req["at"])?;
            let mut answer = json!({"ok": true, "sent": sent});
            if let Some(u) = unsupported {
                answer["unsupported"] = json!(u);
            }
            Ok(answer)
        }
        Some("observe") => Ok(json!({"ok": true, "node": node.observe()?})),
        Some(op) => Err(format!("unknown op {op:?}")),
        None => Err("request without \"op\"".into()),
    }
}
