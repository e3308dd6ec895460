//! The language-neutral adapter protocol (spec/conformance.md, "Adapters in other languages"):
//! JSON lines over an adapter process's stdin and stdout, one request and one answer per line.
//!
//! Requests: `{"op": "init", "config": <model configuration>, "node": n, "invalid_proposals":
//! b, "proposals": [...]}`, `{"op": "deliver", "event": <event>, "at": <node>}`,
//! `{"op": "observe"}`; values in the trace's ITF form. Answers: `{"ok": true}` (an `init`
//! answer may name what the adapter `observes`), `{"ok": true, "sent": [<sent>...]}` (with
//! `unsupported` for an event the implementation cannot represent), `{"ok": true, "node":
//! <node>}`, or `{"ok": false, "error": "..."}`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use sa_model::Config;
use serde_json::{json, Value};

use crate::replay::{Adapter, Observes};
use crate::trace::{Event, Observed, Sent};

/// An adapter in another process, spoken to over JSON lines.
pub struct Remote {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The last lines the adapter wrote on stderr (read by a thread of its own), quoted with
    /// any error so that the adapter's own explanation reaches the user.
    stderr: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<String>>>,
    /// What the adapter said it observes (its `init` answer; everything when it does not say).
    observes: Observes,
    /// The last `deliver` answer's `unsupported`, until taken.
    unsupported: Option<String>,
    /// The next `init`'s proposal schedule.
    proposals: Vec<(u64, u8, bool)>,
}

/// How many of the adapter's last stderr lines an error quotes.
const STDERR_LINES: usize = 10;

impl Remote {
    /// Starts `program` with `args`.
    pub fn spawn(program: &str, args: &[String]) -> Result<Remote, String> {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("adapter {program}: {e}"))?;
        let stdin = child.stdin.take().ok_or("adapter: no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("adapter: no stdout")?);
        let err = child.stderr.take().ok_or("adapter: no stderr")?;
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::new()));
        let tail = std::sync::Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Ok(mut t) = tail.lock() {
                    if t.len() == STDERR_LINES {
                        t.pop_front();
                    }
                    t.push_back(line);
                }
            }
        });
        Ok(Remote {
            child,
            stdin,
            stdout,
            stderr,
            observes: Observes::ALL,
            unsupported: None,
            proposals: vec![],
        })
    }

    /// `message`, with the adapter's last stderr lines if it wrote any.
    fn with_stderr(&self, message: String) -> String {
        // Give the reader thread a moment to take what the adapter wrote before it answered.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let lines: Vec<String> = self
            .stderr
            .lock()
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default();
        if lines.is_empty() {
            message
        } else {
            format!("{message}; the adapter's stderr: {}", lines.join(" | "))
        }
    }

    fn call(&mut self, request: Value) -> Result<Value, String> {
        self.exchange(request).map_err(|e| self.with_stderr(e))
    }

    fn exchange(&mut self, request: Value) -> Result<Value, String> {
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
        match (&v["ok"], v["error"].as_str()) {
            (Value::Bool(true), _) => Ok(v),
            (Value::Bool(false), Some(e)) => Err(format!("adapter: {e}")),
            (Value::Bool(false), None) => Err(format!(
                "adapter: answered `\"ok\": false` without an `error` (spec/conformance.md, the \
                 adapter protocol): {}",
                line.trim()
            )),
            _ => Err(format!(
                "adapter: the answer has no boolean `ok`, so it is not an answer of the adapter \
                 protocol (spec/conformance.md): {}",
                line.trim()
            )),
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
        let proposals: Vec<serde_json::Value> = std::mem::take(&mut self.proposals)
            .into_iter()
            .map(|(round, iteration, valid)| {
                json!({"round": round, "iteration": iteration, "valid": valid})
            })
            .collect();
        let v = self.call(json!({
            "op": "init", "config": config, "node": node, "invalid_proposals": invalid,
            "proposals": proposals,
        }))?;
        self.observes = match v.get("observes") {
            None => Observes::ALL,
            Some(o) => {
                let names: Vec<String> = serde_json::from_value(o.clone()).map_err(|e| {
                    format!("adapter: init: `observes` is not a list of names ({e}): {o}")
                })?;
                Observes::from_names(&names).map_err(|e| format!("adapter: init: {e}"))?
            }
        };
        Ok(())
    }
    fn deliver(&mut self, event: &Event, at: &Observed) -> Result<Vec<Sent>, String> {
        let v =
            self.call(json!({"op": "deliver", "event": itf_json(event), "at": itf_json(at)}))?;
        self.unsupported = match v.get("unsupported") {
            None | Some(serde_json::Value::Null) => None,
            Some(u) => Some(
                u.as_str()
                    .ok_or_else(|| format!("adapter: `unsupported` is not a string: {u}"))?
                    .to_owned(),
            ),
        };
        itf::from_value(v["sent"].clone()).map_err(|e| format!("adapter: sent: {e}"))
    }
    fn observes(&self) -> Observes {
        self.observes
    }
    fn unsupported(&mut self) -> Option<String> {
        self.unsupported.take()
    }
    fn proposals(&mut self, schedule: &[(u64, u8, bool)]) {
        self.proposals = schedule.to_vec();
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
