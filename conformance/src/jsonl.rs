//! The language-neutral adapter protocol (spec/conformance.md, "Adapters in other languages"):
//! JSON lines over an adapter process's stdin and stdout, one request and one answer per line.
//!
//! Requests: `{"op": "init", "config": <model configuration>, "node": n, "invalid_proposals":
//! b}`, `{"op": "deliver", "event": <event>, "at": <node>}`, `{"op": "observe"}`; values in
//! the trace's ITF form. Answers: `{"ok": true}`, `{"ok": true, "sent": [<sent>...]}`,
//! `{"ok": true, "node": <node>}`, or `{"ok": false, "error": "..."}`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use sa_model::Config;
use serde_json::{json, Value};

use crate::replay::Adapter;
use crate::trace::{Event, Observed, Sent};

/// An adapter in another process, spoken to over JSON lines.
pub struct Remote {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Remote {
    /// Starts `program` with `args`.
    pub fn spawn(program: &str, args: &[String]) -> Result<Remote, String> {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("adapter {program}: {e}"))?;
        let stdin = child.stdin.take().ok_or("adapter: no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("adapter: no stdout")?);
        Ok(Remote {
            child,
            stdin,
            stdout,
        })
    }

    fn call(&mut self, request: Value) -> Result<Value, String> {
        writeln!(self.stdin, "{request}").map_err(|e| format!("adapter: write: {e}"))?;
        self.stdin
            .flush()
            .map_err(|e| format!("adapter: write: {e}"))?;
        let mut line = String::new();
        let n = self
            .stdout
            .read_line(&mut line)
            .map_err(|e| format!("adapter: read: {e}"))?;
        if n == 0 {
            return Err("adapter: closed its output".into());
        }
        let v: Value = serde_json::from_str(&line)
            .map_err(|e| format!("adapter: answer is not JSON ({e}): {}", line.trim()))?;
        if v["ok"] == true {
            Ok(v)
        } else {
            Err(format!(
                "adapter: {}",
                v["error"].as_str().unwrap_or("error without a message")
            ))
        }
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn itf_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}

impl Adapter for Remote {
    fn init(&mut self, config: &Config, node: usize, invalid: bool) -> Result<(), String> {
        self.call(
            json!({"op": "init", "config": config, "node": node, "invalid_proposals": invalid}),
        )
        .map(|_| ())
    }
    fn deliver(&mut self, event: &Event, at: &Observed) -> Result<Vec<Sent>, String> {
        let v =
            self.call(json!({"op": "deliver", "event": itf_json(event), "at": itf_json(at)}))?;
        itf::from_value(v["sent"].clone()).map_err(|e| format!("adapter: sent: {e}"))
    }
    fn observe(&mut self) -> Result<Observed, String> {
        let v = self.call(json!({"op": "observe"}))?;
        itf::from_value(v["node"].clone()).map_err(|e| format!("adapter: node: {e}"))
    }
}

/// Serves `adapter` over JSON lines: reads requests from `input` until it ends, answers on
/// `output`. Bad requests get `{"ok": false, "error": ...}` and the loop goes on.
pub fn serve(
    adapter: &mut dyn Adapter,
    input: impl BufRead,
    mut output: impl Write,
) -> std::io::Result<()> {
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let answer = match handle(adapter, &line) {
            Ok(v) => v,
            Err(e) => json!({"ok": false, "error": e}),
        };
        writeln!(output, "{answer}")?;
        output.flush()?;
    }
    Ok(())
}

fn handle(adapter: &mut dyn Adapter, line: &str) -> Result<Value, String> {
    let req: Value = serde_json::from_str(line).map_err(|e| format!("request is not JSON: {e}"))?;
    match req["op"].as_str() {
        Some("init") => {
            let config: Config = serde_json::from_value(req["config"].clone())
                .map_err(|e| format!("init.config: {e}"))?;
            let node = req["node"].as_u64().ok_or("init.node: not a number")? as usize;
            if node >= config.provisioners.len() {
                return Err(format!("init.node: {node} is not a provisioner"));
            }
            let invalid = req["invalid_proposals"].as_bool().unwrap_or(false);
            adapter.init(&config, node, invalid)?;
            Ok(json!({"ok": true}))
        }
        Some("deliver") => {
            let event: Event =
                itf::from_value(req["event"].clone()).map_err(|e| format!("deliver.event: {e}"))?;
            let at: Observed =
                itf::from_value(req["at"].clone()).map_err(|e| format!("deliver.at: {e}"))?;
            let sent = adapter.deliver(&event, &at)?;
            Ok(json!({"ok": true, "sent": itf_json(&sent)}))
        }
        Some("observe") => Ok(json!({"ok": true, "node": itf_json(&adapter.observe()?)})),
        Some(op) => Err(format!("unknown op {op:?}")),
        None => Err("request without \"op\"".into()),
    }
}
